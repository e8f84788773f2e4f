"""Element-wise kernels: the terms whose sums are the measures, each non-negative by construction.

Every function takes an array namespace ``xp`` and already-normalised operands of one floating
dtype, and returns an array of terms of the broadcast shape. The probability-space kernels call
the namespace's functions (``xp.multiply``, not ``*``), so that the blocked NumPy driver can hand
them a namespace that writes into preallocated tile buffers instead of allocating. The measure
along an axis is the sum of its terms, so the kernels serve whole arrays, blocks of an array
(``_blocked``), and lazy chunked arrays (Dask) alike: a block's partial sum is a state that
merges by addition, and all addends of one measure share one sign, so merging never cancels.

Probability space (``P``, ``Q`` in [0, 1], rows summing to 1):

* entropy        ``P log P``  (the measure is minus the sum)    (0 where P = 0)
* cross-entropy  ``P log Q``  (the measure is minus the sum)    (-inf where P > 0 = Q)
* KL             ``P (x - 1 - log x)``, ``x = Q / P``         (the Bregman form)
* JS (times 4)   Bregman terms of ``(2P, P+Q)`` plus those of ``(2Q, P+Q)``

The Bregman form adds ``Q - P`` to each KL term ``P log(P/Q)``; the additions sum to zero over a
normalised row, and every term becomes non-negative (``x - 1 >= log x``). Where ``x`` lies in
[1/2, 2], ``x - 1`` is exact (Sterbenz) and a faithfully rounded ``log x`` never exceeds it, so
the computed term is ``>= 0`` without clamping. Ratios beyond ``2**±half`` (``half`` is half the
dtype's exponent range) are never formed in a way that overflows: a tiny ratio is rescaled by a
power of two before its logarithm, and a huge ratio (P negligible beside Q) contributes
``Q - P`` exactly to working precision. Each ``where`` that guards a logarithm is doubled (its
argument is made safe too) so that gradients are finite wherever the value is.

Log space (``lp``, ``lq`` normalised log-probabilities, ``-inf`` allowed) mirrors the same
terms without ever taking the log of an exponential.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "DOMINANT",
    "LN2",
    "cross_entropy_terms",
    "direct_rows",
    "dominant",
    "entropy_sum",
    "entropy_terms",
    "expm1mx",
    "js_terms",
    "kl_terms",
    "log1pmx",
    "log_cross_entropy_terms",
    "log_entropy_terms",
    "log_js_terms",
    "log_kl_terms",
    "log_masses",
    "log_normalize",
    "logsumexp",
    "pair_factors",
    "pair_with_difference",
    "scaled_pair",
    "when",
]

LN2 = math.log(2.0)


def _half_exponent(xp: Any, dtype: Any) -> int:
    """Half the binary exponent range of ``dtype`` (512 for float64, 64 for float32)."""
    return 512 if dtype == xp.float64 else 64


# --------------------------------------------------------------------------- probability space


def _lazy(x: Any) -> bool:
    from kullback._xp import is_lazy

    return is_lazy(x)


def when(xp: Any, need: Any, compute: Any, otherwise: Any) -> Any:
    """``compute()`` if any of ``need`` holds, else ``otherwise()`` (both return arrays of one
    shape): a Python branch for eager arrays; for JAX tracers ``lax.cond``, so that under
    ``jit`` only the branch taken runs (a rare correction costs nothing when not needed);
    other lazy arrays (Dask) always compute."""
    if not _lazy(need):
        return compute() if bool(xp.any(need)) else otherwise()
    if type(need).__module__.startswith("jax"):
        import jax

        return jax.lax.cond(xp.any(need), compute, otherwise)
    return compute()


def _guard(xp: Any) -> bool:
    """Whether to guard for gradients (the double ``where``). A namespace that is never
    differentiated (the blocked NumPy driver's) may skip such guards: values are unchanged."""
    return getattr(xp, "guard_gradients", True)


def _tiny(xp: Any, dtype: Any) -> float:
    """The smallest positive (subnormal) number of ``dtype``."""
    return 5e-324 if dtype == xp.float64 else 1e-45


def _safe_positive(xp: Any, P: Any, V: Any) -> Any:
    """``V`` where ``P > 0``, else 1: the argument of a log that is multiplied by ``P``."""
    return xp.where(xp.greater(P, 0.0), V, 1.0)


def entropy_terms(xp: Any, P: Any) -> Any:
    """``P log P`` (``<= 0``, as ``P <= 1``) with ``0 log 0 = 0``; H is minus the sum.

    Without gradient guards, ``log(max(P, tiny))`` serves: it equals ``log P`` for every
    ``P > 0`` and is finite at ``P = 0``.
    """
    if _guard(xp):
        return xp.multiply(P, xp.log(_safe_positive(xp, P, P)))
    return xp.multiply(P, xp.log(xp.maximum(P, _tiny(xp, P.dtype))))


def entropy_sum(xp: Any, p: Any, s: Any) -> Any:
    """Row sums of ``P log P`` (``<= 0``) from unnormalised ``p`` and its row totals ``s``.

    Where one entry holds all but ``2**-16`` of the mass, its ``P`` rounds to (nearly) 1 and
    its ``log P`` to noise (relative error ``eps / (1 - P)``); its term is computed as
    ``-P log1p(rest/top)`` from the sum of the *other* entries instead
    (``entropy([1, 1e-17])`` is ``4.014e-16``, not ``3.914e-16``). Below that share the
    plain terms are within 1e-11 relative.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([1.0, 1e-17])
    >>> float(-entropy_sum(np, p, p.sum(keepdims=True)))
    4.014394658089878e-16
    """
    terms = entropy_terms(xp, p / s)
    top = xp.max(p, axis=-1, keepdims=True)
    lead = top > dominant(float(xp.finfo(p.dtype).eps)) * s

    def compensated() -> Any:
        is_top = (p == top) & lead
        rest = xp.sum(xp.where(is_top, 0.0, p), axis=-1, keepdims=True)
        tops = xp.where(lead, top, 1.0)
        top_term = xp.where(lead, -(tops / s) * xp.log1p(rest / tops), 0.0)
        return xp.sum(xp.where(is_top, 0.0, terms), axis=-1) + top_term[..., 0]

    return when(xp, lead, compensated, lambda: xp.sum(terms, axis=-1))


DOMINANT = _DOMINANT = 1.0 - 2.0**-16


def dominant(eps: float) -> float:
    """The share of a row's mass above which its largest entry's entropy term is compensated,
    for a dtype of machine epsilon ``eps``: the plain term's relative error, about
    ``eps / (1 - share)``, must stay far inside the contract (``2**-36`` for float64, whose
    share is :data:`DOMINANT`; ``2**-16`` for float32, whose share is ``1 - 2**-7``).

    >>> dominant(2.0**-52) == DOMINANT, dominant(2.0**-23)
    (True, 0.9921875)
    """
    return _DOMINANT if eps < 1e-10 else 1.0 - 2.0**-7


def cross_entropy_terms(xp: Any, P: Any, Q: Any) -> Any:
    """``P log Q`` (``<= 0``); 0 where ``P = 0`` whatever Q is, -inf where ``P > 0 = Q``.

    The log is guarded only where both are 0, so that at ``P = 0 < Q`` the derivative in
    ``P`` is ``log Q`` (cross-entropy is smooth there), not the guard's 0.
    """
    either = xp.greater(xp.maximum(P, Q), 0.0)  # P, Q >= 0
    return xp.multiply(P, xp.log(xp.where(either, Q, 1.0)))


def log1pmx(xp: Any, u: Any) -> Any:
    """``u - log1p(u) >= 0`` for ``u > -1``, to 1e-14 relative even for tiny ``|u|``.

    Direct subtraction loses ``2 eps / |u|`` relative (``log1p(u) ~ u``). For ``|u| <= 1/16``
    the identity ``1 + u = (1 + t)/(1 - t)``, ``t = u/(2 + u)``, gives
    ``u - log1p(u) = 2 t^2 (1/(1 - t) - t (1/3 + t^2/5 + t^4/7 + ...))``: no cancellation, and
    six terms reach float64 precision (``t^2 <= 1/960``). The same idea as SciPy's
    ``log1pmx`` (a series near 0), written with the namespace's functions so that it runs on
    every library and is differentiated by autograd.

    Examples
    --------
    >>> import numpy as np
    >>> f"{float(log1pmx(np, np.float64(1e-10))):.12e}"   # u^2/2 - u^3/3, not 0 or noise
    '4.999999999667e-21'
    """
    small = xp.less_equal(xp.abs(u), _SERIES)

    def with_series() -> Any:
        if type(u) is np.ndarray and u.ndim:  # NumPy: the series where it is needed only
            out = u - np.log1p(u)
            out[small] = _atanh_series(np, u[small])
            return out
        ud = xp.where(small, 1.0, u)
        return xp.where(small, _atanh_series(xp, xp.where(small, u, 0.0)),
                        xp.subtract(ud, xp.log1p(ud)))

    return when(xp, _series_range(xp, u, small), with_series,
                lambda: xp.subtract(u, xp.log1p(u)))


def _atanh_series(xp: Any, u: Any) -> Any:
    """``u - log1p(u)`` for ``|u| <= 1/16`` by the series of :func:`log1pmx`."""
    t = xp.divide(u, xp.add(u, 2.0))
    s = xp.multiply(t, t)
    r = _horner(xp, s, _ATANH_TAIL)
    return xp.multiply(xp.multiply(s, 2.0),
                       xp.subtract(xp.divide(1.0, xp.subtract(1.0, t)), xp.multiply(t, r)))


def expm1mx(xp: Any, d: Any) -> Any:
    """``expm1(d) - d >= 0``, to 1e-14 relative even for tiny ``|d|`` (Taylor series
    ``d^2/2! + d^3/3! + ...`` to ``d^11/11!`` for ``|d| <= 1/16``; direct beyond)."""
    small = xp.less_equal(xp.abs(d), _SERIES)

    def with_series() -> Any:
        ds = xp.where(small, d, 0.0)
        series = xp.multiply(xp.multiply(ds, ds), _horner(xp, ds, _EXP_TAIL))
        dd = xp.where(small, 0.0, d)
        return xp.where(small, series, xp.subtract(xp.expm1(dd), dd))

    return when(xp, _series_range(xp, d, small), with_series,
                lambda: xp.subtract(xp.expm1(d), d))


def _series_range(xp: Any, u: Any, small: Any) -> Any:
    """The nonzero ``u`` in the series range (0 needs no series: both forms give 0)."""
    return xp.logical_and(small, xp.not_equal(u, 0.0))


_SERIES = 1.0 / 16.0
_ATANH_TAIL = tuple(1.0 / (2 * k + 3) for k in range(6))        # 1/3, 1/5, ..., 1/13
_EXP_TAIL = tuple(1.0 / math.factorial(k + 2) for k in range(10))  # 1/2!, ..., 1/11!


def _horner(xp: Any, x: Any, coefficients: tuple[float, ...]) -> Any:
    """``c0 + c1 x + c2 x^2 + ...`` by Horner's rule."""
    acc = xp.multiply(x, coefficients[-1])
    for c in reversed(coefficients[1:-1]):
        acc = xp.multiply(xp.add(acc, c), x)
    return xp.add(acc, coefficients[0])


def kl_terms(xp: Any, P: Any, Q: Any, *, diff: Any = None) -> Any:
    """Bregman KL terms ``P (x - 1 - log x) >= 0`` with ``x = Q/P``; see the module docstring.

    Where ``x >= 1/2`` the term is ``P log1pmx(u)`` with ``u = (Q - P)/P``: ``Q - P`` is exact
    (Sterbenz) up to ``x = 2``, so nearly identical inputs keep full relative accuracy (the
    ratio ``Q/P`` itself would already be rounded). Where ``x < 1/2``, ``x - 1 - log x`` has no
    cancellation; ``log x`` is ``log Q - log P`` where the ratio leaves the normal range.
    ``P = 0`` contributes ``Q``; a ratio beyond ``2**half`` contributes ``Q - P``. ``diff``, if
    given, is ``Q - P`` computed more exactly by the caller (JS passes ``Q' - P'`` of its
    operands, where ``Q = P' + Q'`` would round).
    """
    half = _half_exponent(xp, P.dtype)
    hi = 2.0**half
    if _guard(xp):
        pos = xp.greater(P, 0.0)
        Ps = xp.where(pos, P, 1.0)
        x = xp.divide(Q, Ps)
        ok = xp.logical_and(pos, xp.less_equal(x, hi))
    else:  # x = Q/0 is inf or NaN: excluded by the comparison, and replaced below
        Ps = P
        x = xp.divide(Q, P)
        ok = xp.less_equal(x, hi)
    wide = xp.logical_and(ok, xp.greater(x, 2.0))
    near = xp.logical_and(xp.logical_and(ok, xp.greater_equal(x, 0.5)), xp.logical_not(wide))
    diff = xp.subtract(Q, P) if diff is None else diff
    u = xp.where(near, xp.divide(diff, Ps), 0.0)
    inner = xp.multiply(P, log1pmx(xp, u))
    near_only = inner
    # x > 2: (Q - P) - P log x, whose derivative in P, -log x, comes out of O(log x) parts
    # (P (u - log1p u) differentiates to u - log1p(u) - u: at P = 1e-17, Q = 1e-3 that is
    # 1e14 - 1e14, and the gradient was off by 0.02)
    inner = when(xp, wide, lambda: xp.where(wide, xp.subtract(diff, xp.multiply(
        P, xp.log(xp.where(wide, x, 1.0)))), near_only), lambda: near_only)
    far = xp.logical_and(ok, xp.less(x, 0.5))
    near_only = inner
    inner = when(xp, far, lambda: xp.where(far, xp.multiply(P, _far_phi(
        xp, P, Q, x, far)), near_only), lambda: near_only)
    if not _guard(xp) and bool(xp.all(ok)):
        return inner
    return xp.where(ok, inner, xp.subtract(Q, P))


def _far_phi(xp: Any, P: Any, Q: Any, x: Any, far: Any) -> Any:
    """``x - 1 - log x`` where ``far`` (``x < 1/2``; 1 elsewhere, with a finite gradient)."""
    tiny = xp.finfo(P.dtype).smallest_normal
    normal = xp.greater_equal(x, tiny)
    xs = xp.where(far, x, 1.0)
    lx = xp.log(xp.where(normal, xs, 1.0))
    split = xp.logical_and(far, xp.logical_not(normal))
    ratio = lx

    def split_logs() -> Any:
        lq = xp.log(xp.where(split, Q, 1.0))   # Q = 0 gives -inf: an infinite term
        lp = xp.log(xp.where(split, P, 1.0))
        return xp.where(split, xp.subtract(lq, lp), ratio)

    lx = when(xp, split, split_logs, lambda: ratio)
    return xp.subtract(xp.subtract(xs, 1.0), lx)


def js_terms(xp: Any, P: Any, Q: Any, *, diff: Any = None) -> Any:
    """Four times the Jensen-Shannon terms, as Bregman KL terms against the mixture.

    ``4 JS = 2 KL(P||M) + 2 KL(Q||M)`` with ``M = (P+Q)/2``, and the Bregman terms of
    ``(2P, P+Q)`` sum to ``2 KL(P||M)`` (both arguments sum to 2). Working with ``2P`` and
    ``P + Q`` rather than ``M`` means nothing is halved, so a subnormal mixture weight never
    rounds to zero. JS inherits the properties of :func:`kl_terms`: never negative, no ratio
    that overflows, and relative accuracy for nearly identical P and Q (where the textbook
    form ``P log(2P/(P+Q)) + Q log(2Q/(P+Q))`` cancels to noise): the ratio's distance from 1
    is ``(Q - P)/(2P)``, from the exact difference, never from the rounded ``P + Q``.
    """
    S = xp.add(P, Q)
    # Q - P is exact where P and Q are within a factor 2 (S - 2P would round); ``diff`` is
    # the caller's more accurate one (see pair_with_difference)
    D = xp.subtract(Q, P) if diff is None else diff
    first = kl_terms(xp, xp.add(P, P), S, diff=D)
    return xp.add(first, kl_terms(xp, xp.add(Q, Q), S, diff=xp.negative(D)))


# --------------------------------------------------------------------------- pair scaling


def scaled_pair(xp: Any, p: Any, q: Any, sp: Any, sq: Any) -> tuple[Any, Any, Any]:
    """``(A, B, total)`` with ``A/B = P/Q`` elementwise and ``A = P * total``; see
    :func:`pair_with_difference`, which also returns ``B - A``."""
    A, B, _, total, _ = pair_with_difference(xp, p, q, sp, sq)
    return A, B, total


def pair_with_difference(xp: Any, p: Any, q: Any, sp: Any, sq: Any) -> tuple[Any, ...]:
    """``(A, B, D, total, direct)``: ``A/B = P/Q``, ``A = P * total``, ``D = B - A`` accurately.

    The KL and JS terms are homogeneous of degree one, so ``terms(P, Q) = terms(A, B) / total``
    (a division: ``1/total`` can overflow for a subnormal total). Of ``p`` and ``q`` the one
    with the smaller total is scaled *up* to the other's total (no positive mass underflows,
    as ``q / sum(q)`` can). Scaling rounds every element, and for nearly identical normalised
    inputs that rounding would be most of ``B - A``; so the rounding error of each product is
    recovered exactly (Dekker's two-product) and added to ``D``. (A rounding of the factor
    itself rescales every element alike, which moves the divergence only in the second order.)
    A pair whose larger total is beyond ``2**(emax - 32)`` and smaller one at least 1 is first
    scaled by ``2**-half`` (exact; it keeps nearly identical pairs of huge counts on this path:
    divided, they were 2e-7 off). Totals outside ``[2**-half, 2**(emax - 32)]``, or a factor
    beyond ``2**half``, are normalised by division instead (``direct`` is False on those
    rows): a normalised entry may then leave the float range, and the caller should use the
    log-space terms there.
    """
    info = xp.finfo(sp.dtype)
    # both totals within [1, max]: after the scaling both are within the direct range
    huge = (xp.where(sp >= sq, sp, sq) > info.max * 2.0**-32) & (xp.where(sp >= sq, sq, sp) >= 1.0)
    if _lazy(huge) or bool(xp.any(huge)):  # exact powers of two: the pair's ratios unchanged
        c = 2.0 ** -_half_exponent(xp, sp.dtype)
        p, q, sp, sq = (xp.where(huge, x * c, x) for x in (p, q, sp, sq))
    fp, fq, total, _ = pair_factors(xp, sp, sq)
    direct = direct_rows(xp, sp, sq)
    fp = xp.where(direct, fp, 1.0)
    fq = xp.where(direct, fq, 1.0)
    A = xp.where(direct, p * fp, p / sp)
    B = xp.where(direct, q * fq, q / sq)
    D0 = B - A
    D = when(xp, (fp != 1.0) | (fq != 1.0),
             lambda: D0 + (_product_error(xp, fq, q, B) - _product_error(xp, fp, p, A)),
             lambda: D0)
    return A, B, xp.where(direct, D, B - A), xp.where(direct, total, 1.0), direct


def _split(xp: Any, a: Any) -> tuple[Any, Any]:
    """Dekker's split of ``a`` into a high part of half the mantissa and the exact rest."""
    t = a * (134217729.0 if a.dtype == xp.float64 else 4097.0)
    hi = t - (t - a)
    return hi, a - hi


def direct_rows(xp: Any, sp: Any, sq: Any) -> Any:
    """Rows whose totals :func:`pair_with_difference` scales directly: both within
    ``[2**-half, 2**(emax - 32)]`` and within ``2**half`` of each other."""
    info = xp.finfo(sp.dtype)
    half = 2.0 ** _half_exponent(xp, sp.dtype)
    big = xp.where(sp >= sq, sp, sq)
    small = xp.where(sp >= sq, sq, sp)
    return (small >= 1.0 / half) & (big <= info.max * 2.0**-32) & (big <= small * half)


def log_masses(xp: Any, x: Any, s: Any) -> Any:
    """``log(x / s)`` without forming ``x / s`` (which can leave the float range); ``-inf``
    where ``x = 0``."""
    pos = x > 0
    return xp.where(pos, xp.log(xp.where(pos, x, 1.0)) - xp.log(s), -math.inf)


def _product_error(xp: Any, a: Any, b: Any, ab: Any) -> Any:
    """``a*b - fl(a*b)`` exactly (Dekker's two-product without FMA).

    Where ``a`` is 1 the error is 0 (and the split stays finite for the caller's range).
    """
    ah, al = _split(xp, a)
    bh, bl = _split(xp, b)
    return ((ah * bh - ab) + ah * bl + al * bh) + al * bl


def pair_factors(xp: Any, sp: Any, sq: Any) -> tuple[Any, Any, Any, Any]:
    """Per-row ``(fp, fq, total, fine)``: ``A = p * fp``, ``B = q * fq`` where ``fine``."""
    up = sp >= sq
    c = xp.where(up, sp / xp.where(up, sq, 1.0), sq / xp.where(up, 1.0, sp))  # >= 1
    fine = c <= xp.finfo(c.dtype).max
    fp = xp.where(fine & ~up, c, 1.0)
    fq = xp.where(fine & up, c, 1.0)
    total = xp.where(fine, xp.where(up, sp, sq), 1.0)
    return fp, fq, total, fine


# --------------------------------------------------------------------------- log space


def logsumexp(xp: Any, x: Any, axis: int = -1) -> Any:
    """``log(sum(exp(x)))`` along ``axis`` (kept), stable; ``-inf`` for a row of ``-inf``.

    The row maximum is shifted out first, and a fully masked row is guarded on both sides of
    its ``where`` so that neither its value nor its gradient is NaN.
    """
    m = xp.max(x, axis=axis, keepdims=True)
    dead = m == -math.inf
    ms = xp.where(dead, 0.0, m)
    s = xp.sum(xp.exp(x - ms), axis=axis, keepdims=True)
    return xp.where(dead, -math.inf, xp.log(xp.where(dead, 1.0, s)) + ms)


def log_normalize(xp: Any, x: Any, axis: int = -1) -> Any:
    """``x - logsumexp(x)`` along ``axis`` (log-softmax), stable for ``-inf`` entries.

    A row whose entries are all ``-inf`` stays ``-inf`` (never NaN), with finite gradients.
    """
    m = xp.max(x, axis=axis, keepdims=True)
    dead = m == -math.inf
    z = x - xp.where(dead, 0.0, m)
    s = xp.sum(xp.exp(z), axis=axis, keepdims=True)
    return xp.where(dead, -math.inf, z - xp.log(xp.where(dead, 1.0, s)))


def log_entropy_terms(xp: Any, lp: Any) -> Any:
    """``exp(lp) lp`` (``<= 0``), 0 where ``lp = -inf``; H is minus the sum."""
    fin = lp > -math.inf
    return xp.exp(lp) * xp.where(fin, lp, 0.0)


def log_cross_entropy_terms(xp: Any, lp: Any, lq: Any) -> Any:
    """``exp(lp) lq`` (``<= 0``): 0 where ``lp = -inf``, -inf where ``lp > -inf = lq``."""
    fp = lp > -math.inf
    fq = lq > -math.inf
    t = xp.exp(lp) * xp.where(fp & fq, lq, 0.0)
    return xp.where(fp & ~fq, -math.inf, t)


def log_kl_terms(xp: Any, lp: Any, lq: Any) -> Any:
    """Bregman KL terms from log-probabilities: ``P (expm1(d) - d)``, ``d = lq - lp``.

    ``expm1(d) - d`` is :func:`expm1mx` (a series near 0, so nearly identical inputs keep
    their relative accuracy), and each term is ``>= 0``.
    Where ``d`` is beyond ``half * ln 2`` the term is ``Q - P`` (``P`` negligible beside
    ``Q``); where ``lp = -inf`` it is ``Q``; where ``lp > -inf = lq`` it is +inf.
    """
    half = _half_exponent(xp, lp.dtype)
    fp = lp > -math.inf
    fq = lq > -math.inf
    both = fp & fq
    d = xp.where(both, lq - lp, 0.0)
    mid = both & (d <= half * LN2)
    ds = xp.where(mid, d, 0.0)
    P = xp.exp(lp)
    inner = P * expm1mx(xp, ds)
    outer = xp.where(fp & ~fq, math.inf, xp.exp(lq) - P)
    return xp.where(mid, inner, outer)


def _bregman_from_log_ratio(xp: Any, P: Any, d: Any, M: Any, half: int) -> Any:
    """``P (expm1(d) - d)`` for ``d = log(M/P)``; ``M - P`` where ``d`` is beyond ``half ln 2``."""
    mid = d <= half * LN2
    ds = xp.where(mid, d, 0.0)
    return xp.where(mid, P * expm1mx(xp, ds), M - P)


def log_js_terms(xp: Any, lp: Any, lq: Any) -> Any:
    """Four times the JS terms from log-probabilities: Bregman terms against ``M = (P+Q)/2``.

    With ``t = lq - lp``, ``log(M/P) = max(t, 0) + log1p(expm1(-|t|)/2)``: accurate for small
    ``t`` (nearly identical inputs) and for large ``|t|`` alike, with no overflow.
    """
    half = _half_exponent(xp, lp.dtype)
    fp = lp > -math.inf
    fq = lq > -math.inf
    both = fp & fq
    t = xp.where(both, lq - lp, 0.0)
    c = xp.log1p(0.5 * xp.expm1(-xp.abs(t)))
    P = xp.exp(lp)
    Q = xp.exp(lq)
    M = 0.5 * (P + Q)
    inner = _bregman_from_log_ratio(xp, P, xp.maximum(t, 0.0) + c, M, half)
    inner = inner + _bregman_from_log_ratio(xp, Q, xp.maximum(-t, 0.0) + c, M, half)
    return 2.0 * xp.where(both, inner, (P + Q) * LN2)
