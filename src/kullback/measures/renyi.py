r"""Rényi entropy and divergence of order :math:`\alpha`.

.. math::

    H_\alpha(p) = \frac{1}{1-\alpha} \log \sum_x p(x)^\alpha, \qquad
    D_\alpha(p \,\|\, q) = \frac{1}{\alpha-1} \log \sum_x p(x)^\alpha q(x)^{1-\alpha},

with the limits :math:`\alpha = 1` (Shannon entropy, KL divergence — computed by those
measures, not as a limit), :math:`\alpha = 0` (Hartley: :math:`\log |\mathrm{supp}\,p|`;
:math:`-\log q(\mathrm{supp}\,p)`) and :math:`\alpha = \infty` (min-entropy
:math:`-\log \max p`; :math:`\log \max p/q`).

Numerics. The sums are written as ``log1p(S) / (alpha - 1)`` with ``S`` a sum of terms of one
sign, so nothing cancels and orders near 1 keep their digits:

* entropy: :math:`S = \sum p\,\mathrm{expm1}((\alpha-1)\log p)`;
* divergence: with :math:`x = q/p`, :math:`\beta = 1-\alpha` and
  :math:`g(x) = x^\beta - 1 - \beta(x-1)` (convex for :math:`\alpha>1`, concave for
  :math:`\alpha<1`), :math:`S = \sum_{p>0} p\,g(x) - \beta \sum_{p=0} q`; the added
  :math:`-\beta(q-p)` terms sum to zero over normalised rows. ``g`` is evaluated as
  ``expm1(beta L) - beta expm1(L)``, ``L = log x``, and by its Taylor series for small ``L``.

Where :math:`p^\alpha q^{1-\alpha}` overflows (orders above 1 with tiny ``q``), or the sum is
small (``S < -1/2``: high orders of the entropy, nearly disjoint supports), ``log1p(S)`` would
lose the digits, and the row is evaluated instead by a log-sum-exp of
:math:`\alpha \log p + (1-\alpha) \log q`, which is exact there. Support
mismatch gives :math:`+\infty` where the order demands it: for :math:`\alpha \ge 1` any outcome
with :math:`p > 0 = q`; for :math:`\alpha < 1` only disjoint supports.

Examples
--------
>>> import kullback as kb
>>> p, q = [0.5, 0.25, 0.25], [0.25, 0.25, 0.5]
>>> round(float(kb.renyi_entropy(p, 2, base="bits")), 6)  # -log2(0.375)
1.415037
>>> round(float(kb.renyi_divergence(p, q, 2)), 6)  # log(1.375)
0.318454
>>> float(kb.renyi_divergence(p, q, 1)) == float(kb.kl_divergence(p, q))
True
>>> float(kb.renyi_entropy([0.5, 0.5, 0.0], 0, base=2)), float(kb.renyi_entropy(p, "inf"))
(1.0, 0.6931471805599453)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kullback import _xp
from kullback.measures import _kernels
from kullback.measures._prepare import Prepared, log_operand, masses, prepare
from kullback.measures._table import Measure, lookup, register
from kullback.measures.discrete import _to_output, entropy, kl_divergence
from kullback.units import resolve_unit

__all__ = [
    "log_renyi_divergence_terms",
    "log_renyi_entropy_terms",
    "renyi_divergence",
    "renyi_divergence_terms",
    "renyi_entropy",
    "renyi_entropy_terms",
]

_SERIES_TERMS = 12     # (1/8)**12 / 12! is 1e-18 of the leading term: below float64 resolution
_SERIES_BELOW = 0.125  # |L| and |beta L| at most this: the series; above: expm1 directly


def _bregman_power(xp: Any, L: Any, beta: float) -> Any:
    """``g = expm1(beta L) - beta expm1(L)`` (that is ``x**beta - 1 - beta (x - 1)``, ``x = e^L``).

    For small ``|L|`` and ``|beta L|`` the direct form cancels to noise; there the series
    ``sum_{k>=2} (beta**k - beta) L**k / k!`` is summed instead (no cancellation: its terms
    shrink by at least a factor 4 each).
    """
    small = (xp.abs(L) <= _SERIES_BELOW) & (xp.abs(beta * L) <= _SERIES_BELOW)
    Ls = xp.where(small, L, 0.0)
    series = xp.zeros_like(Ls)
    power, bk, fact = Ls, beta, 1.0
    for k in range(2, _SERIES_TERMS + 2):
        power = power * Ls
        bk *= beta
        fact *= k
        series = series + ((bk - beta) / fact) * power
    Ld = xp.where(small, 0.0, L)
    direct = xp.expm1(beta * Ld) - beta * xp.expm1(Ld)
    return xp.where(small, series, direct)


def _log_ratio(xp: Any, P: Any, Q: Any, both: Any) -> Any:
    """``log(Q/P)`` where both are positive: ``log1p((Q - P)/P)`` near 1 (``Q - P`` exact)."""
    Ps = xp.where(both, P, 1.0)
    Qs = xp.where(both, Q, 1.0)
    near = (Qs <= 2.0 * Ps) & (Ps <= 2.0 * Qs)
    return xp.where(near, xp.log1p((Qs - Ps) / Ps), xp.log(Qs) - xp.log(Ps))


def _divergence_terms_from(xp: Any, P: Any, Q: Any, L: Any, alpha: float) -> Any:
    """The one-sign terms of ``S`` (see the module docstring) given ``L = log(Q/P)``."""
    beta = 1.0 - alpha
    pos, qpos = P > 0, Q > 0
    both = pos & qpos
    inner = P * _bregman_power(xp, xp.where(both, L, 0.0), beta)
    # q = 0 < p: x = 0, g(0) = 0**beta - 1 + beta: -alpha for orders below 1, +inf above
    ruled_out = -alpha * P if alpha < 1 else xp.full_like(P, math.inf)
    return xp.where(both, inner, xp.where(pos, ruled_out, -beta * Q))


def renyi_divergence_terms(xp: Any, P: Any, Q: Any, *, alpha: float) -> Any:
    """Terms of ``S`` from normalised probabilities (``>= 0`` above order 1, ``<= 0`` below)."""
    both = (P > 0) & (Q > 0)
    return _divergence_terms_from(xp, P, Q, _log_ratio(xp, P, Q, both), alpha)


def log_renyi_divergence_terms(xp: Any, lp: Any, lq: Any, *, alpha: float) -> Any:
    """Terms of ``S`` from normalised log-probabilities (``-inf`` for probability 0)."""
    both = (lp > -math.inf) & (lq > -math.inf)
    L = xp.where(both, lq - lp, 0.0)
    return _divergence_terms_from(xp, xp.exp(lp), xp.exp(lq), L, alpha)


def _entropy_terms_from(xp: Any, P: Any, lp: Any, alpha: float) -> Any:
    """``P expm1((alpha-1) log P)`` = ``P**alpha - P``; 0 where ``P = 0``."""
    pos = P > 0
    e = xp.where(pos, (alpha - 1.0) * lp, 0.0)
    big = e > 700.0  # P**(alpha-1) overflows (tiny P, alpha < 1): P**alpha - P directly
    term = P * xp.expm1(xp.where(big, 0.0, e))
    direct = xp.exp(xp.where(big, alpha * lp, 0.0)) - P
    return xp.where(pos, xp.where(big, direct, term), 0.0)


def renyi_entropy_terms(xp: Any, P: Any, *, alpha: float) -> Any:
    """Terms of ``S = sum(P**alpha) - 1`` (``<= 0`` above order 1, ``>= 0`` below)."""
    pos = P > 0
    return _entropy_terms_from(xp, P, xp.log(xp.where(pos, P, 1.0)), alpha)


def log_renyi_entropy_terms(xp: Any, lp: Any, *, alpha: float) -> Any:
    """Terms of ``S`` from normalised log-probabilities."""
    return _entropy_terms_from(xp, xp.exp(lp), xp.where(lp > -math.inf, lp, 0.0), alpha)


def _finish_divergence(xp: Any, S: Any, *, alpha: float) -> Any:
    return xp.log1p(S) / (alpha - 1.0)


def _finish_entropy(xp: Any, S: Any, *, alpha: float) -> Any:
    return xp.log1p(S) / (1.0 - alpha)


register(Measure(
    name="renyi_divergence",
    arity=2,
    terms=renyi_divergence_terms,
    log_terms=log_renyi_divergence_terms,
    finish=_finish_divergence,
    tile=None,  # opt-out: parametric, evaluated by the generic kernels at every size
    params=("alpha",),
))
register(Measure(
    name="renyi_entropy",
    arity=1,
    terms=renyi_entropy_terms,
    log_terms=log_renyi_entropy_terms,
    finish=_finish_entropy,
    tile=None,  # opt-out, as above
    params=("alpha",),
))


# --------------------------------------------------------------------------- evaluation


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, str):
        if alpha.strip().lower() not in ("inf", "infinity"):
            raise ValueError(f"alpha must be a number >= 0 or 'inf'; got {alpha!r}")
        return math.inf
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise TypeError(f"alpha must be a real number >= 0; got {type(alpha).__name__}") from None
    if not a >= 0:  # also NaN
        raise ValueError(f"alpha must be >= 0 (or inf); got {alpha!r}")
    return a


def _operands(pr: Prepared) -> tuple[list[Any], list[Any]]:
    """Normalised probabilities and log-probabilities of the prepared operands."""
    xp = pr.xp
    specs = [(pr.p, pr.p_orig, "p", pr.p_form)]
    if pr.q is not None:
        specs.append((pr.q, pr.q_orig, "q", pr.q_form))
    probs, logs = [], []
    for x, orig, name, form in specs:
        if form == "probs":
            P = x / masses(pr, x, orig, name)
            pos = P > 0
            probs.append(P)
            logs.append(xp.where(pos, xp.log(xp.where(pos, P, 1.0)), -math.inf))
        else:
            lp = log_operand(pr, x, orig, name, form)
            probs.append(xp.exp(lp))
            logs.append(lp)
    return probs, logs


def _sum_terms(pr: Prepared, m: Measure, probs: list[Any], logs: list[Any], alpha: float) -> Any:
    """``S``, the sum of the measure's one-sign terms along the last axis."""
    xp = pr.xp
    log_space = pr.p_form != "probs" or (pr.q is not None and pr.q_form != "probs")
    if log_space:
        terms = m.log_terms(xp, *logs[: m.arity], alpha=alpha)
    else:
        terms = m.terms(xp, *probs[: m.arity], alpha=alpha)
    return xp.sum(terms, axis=-1)


def _direct(pr: Prepared, logs: list[Any], alpha: float) -> Any:
    """The measure as ``log(sum p**alpha [q**(1-alpha)]) / (1-alpha or alpha-1)`` by log-sum-exp.

    Right where ``log1p(S)`` is not: ``S`` near -1 (the sum itself tiny, at high orders of
    the entropy or nearly disjoint supports below order 1) or infinite (powers overflowing).
    """
    xp = pr.xp
    if pr.q is None:
        lp = logs[0]
        pos = lp > -math.inf
        w = xp.where(pos, alpha * xp.where(pos, lp, 0.0), -math.inf)
        return _kernels.logsumexp(xp, w, axis=-1)[..., 0] / (1.0 - alpha)
    lp, lq = logs
    both = (lp > -math.inf) & (lq > -math.inf)
    w = xp.where(both, alpha * xp.where(both, lp, 0.0) + (1.0 - alpha) * xp.where(both, lq, 0.0),
                 -math.inf)
    return _kernels.logsumexp(xp, w, axis=-1)[..., 0] / (alpha - 1.0)


def _finite_order(pr: Prepared, m: Measure, probs: list[Any], logs: list[Any],
                  alpha: float) -> Any:
    """``log1p(S)`` over the order's factor, or the log-sum-exp form on the rows that need it."""
    xp = pr.xp
    S = _sum_terms(pr, m, probs, logs, alpha)
    value = m.value(xp, S, alpha=alpha)
    redo = S < -0.5
    if pr.q is not None and alpha > 1:
        P, Q = probs
        ruled_out = xp.any((P > 0) & (Q == 0), axis=-1)
        redo = redo | (xp.isinf(S) & ~ruled_out)
    if _xp.is_numpy(S) and not bool(np.any(redo)):
        return value
    return xp.where(redo, _direct(pr, logs, alpha), value)


def _infinite_order(pr: Prepared, probs: list[Any], logs: list[Any]) -> Any:
    """Order infinity: ``-log max p`` (entropy) or ``log max_{p>0} p/q`` (divergence)."""
    xp = pr.xp
    if pr.q is None:
        return 0.0 - xp.max(logs[0], axis=-1)
    P, _ = probs
    lp, lq = logs
    pos = P > 0
    gap = xp.where(pos & (lq > -math.inf), lp - xp.where(lq > -math.inf, lq, 0.0), math.inf)
    return xp.max(xp.where(pos, gap, -math.inf), axis=-1)


def _renyi(name: str, args: tuple[Any, ...], alpha: Any, base: Any, axis: int,
           keepdims: bool, p_form: str, q_form: str, validate: bool) -> Any:
    a = _check_alpha(alpha)
    unit = resolve_unit(base)
    p, q = args if len(args) == 2 else (args[0], None)
    pr = prepare(p, q, axis, p_form, q_form, validate)
    xp = pr.xp
    with np.errstate(all="ignore"):
        probs, logs = _operands(pr)
        if math.isinf(a):
            value = _infinite_order(pr, probs, logs)
        else:
            value = _finite_order(pr, lookup(name), probs, logs, a)
        value = xp.where(value > 0, value, 0.0 * value)  # >= 0 (mathematically, and -0 -> 0)
    return _to_output(pr, value, unit, keepdims)


def renyi_entropy(
    p: Any,
    alpha: Any,
    *,
    base: Any = None,
    axis: int = -1,
    keepdims: bool = False,
    p_form: str = "probs",
    validate: bool = True,
) -> Any:
    r"""Rényi entropy :math:`H_\alpha(p) = \frac{1}{1-\alpha}\log\sum p^\alpha`.

    Parameters
    ----------
    p : array_like
        Probabilities or non-negative counts along ``axis`` (normalised there), or logits /
        log-probabilities with ``p_form``.
    alpha : float or "inf"
        The order, ``>= 0``: 0 gives the Hartley entropy (log of the support size), 1 the
        Shannon entropy (:func:`kullback.entropy`, exactly), ``inf`` the min-entropy
        :math:`-\log \max p`; 2 the collision entropy.
    base, axis, keepdims, p_form, validate
        As for :func:`kullback.entropy`.

    Returns
    -------
    array
        :math:`H_\alpha(p) \ge 0`, non-increasing in ``alpha``, in the input's library.

    Examples
    --------
    >>> import kullback as kb
    >>> p = [0.7, 0.2, 0.1]
    >>> [round(float(kb.renyi_entropy(p, a)), 6) for a in (0, 0.5, 1, 2, "inf")]
    [1.098612, 0.940134, 0.801819, 0.616186, 0.356675]
    """
    if _check_alpha(alpha) == 1.0:
        return entropy(p, base=base, axis=axis, keepdims=keepdims, p_form=p_form,
                       validate=validate)
    return _renyi("renyi_entropy", (p,), alpha, base, axis, keepdims, p_form, "probs", validate)


def renyi_divergence(
    p: Any,
    q: Any,
    alpha: Any,
    *,
    base: Any = None,
    axis: int = -1,
    keepdims: bool = False,
    p_form: str = "probs",
    q_form: str = "probs",
    validate: bool = True,
) -> Any:
    r"""Rényi divergence :math:`D_\alpha(p\|q) = \frac{1}{\alpha-1}\log\sum p^\alpha q^{1-\alpha}`.

    Parameters
    ----------
    p, q : array_like
        Probabilities or non-negative counts along ``axis`` (each normalised), broadcasting
        over the other axes; or logits / log-probabilities with ``p_form``/``q_form``.
    alpha : float or "inf"
        The order, ``>= 0``: 0 gives :math:`-\log q(\mathrm{supp}\,p)`, 1 the KL divergence
        (:func:`kullback.kl_divergence`, exactly), ``inf`` :math:`\log\max_x p(x)/q(x)`.
        :math:`D_{1/2}` is :math:`-2\log` of the Bhattacharyya coefficient.
    base, axis, keepdims, p_form, q_form, validate
        As for :func:`kullback.kl_divergence`.

    Returns
    -------
    array
        :math:`D_\alpha(p\|q) \ge 0`, non-decreasing in ``alpha``; :math:`+\infty` where ``p``
        puts mass on an outcome ``q`` rules out and ``alpha >= 1``, or the supports are
        disjoint.

    Examples
    --------
    >>> import kullback as kb
    >>> round(float(kb.renyi_divergence([0.5, 0.5], [0.9, 0.1], 0.5)), 6)  # -2 log(BC)
    0.223144
    >>> float(kb.renyi_divergence([0.5, 0.5], [1.0, 0.0], 2)), float(
    ...     kb.renyi_divergence([0.5, 0.5], [1.0, 0.0], 0.5))
    (inf, 0.6931471805599453)
    """
    if _check_alpha(alpha) == 1.0:
        return kl_divergence(p, q, base=base, axis=axis, keepdims=keepdims, p_form=p_form,
                             q_form=q_form, validate=validate)
    return _renyi("renyi_divergence", (p, q), alpha, base, axis, keepdims, p_form, q_form,
                  validate)
