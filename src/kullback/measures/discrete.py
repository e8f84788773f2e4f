r"""Entropy, cross-entropy, Kullback-Leibler and Jensen-Shannon divergence, discrete.

.. math::

    H(p) = -\sum_x p(x) \log p(x), \qquad
    H(p, q) = -\sum_x p(x) \log q(x), \qquad
    \mathrm{KL}(p \,\|\, q) = \sum_x p(x) \log \frac{p(x)}{q(x)} = H(p, q) - H(p),

    \mathrm{JS}(p, q) = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(q \,\|\, m),
    \quad m = \tfrac12 (p + q).

Conventions: :math:`0 \log 0 = 0`; :math:`p(x) > 0` where :math:`q(x) = 0` makes the cross-entropy
and the KL divergence :math:`+\infty`. No epsilon is added anywhere.

Every function takes probabilities or non-negative counts along ``axis`` (each slice is
normalised, so counts work), broadcasting over the other axes, from NumPy, PyTorch, JAX, Dask,
CuPy, array-api-strict or plain Python lists; the result is an array of the input's library and
floating dtype. ``p_form="logits"`` or ``"log_probs"`` (and ``q_form``) take unnormalised or
normalised log-probabilities instead, and the computation then stays in log space.

Examples
--------
The textbook pair, in nats:

>>> import kullback as kb
>>> p, q = [0.42, 0.31, 0.27], [0.25, 0.5, 0.25]
>>> round(float(kb.cross_entropy(p, q)), 4), round(float(kb.kl_divergence(p, q)), 4)
(1.1714, 0.0905)
>>> kb.decompose(p, q, base="bits")
Decomposition(unit='bits')
  H(p)      = 1.559462
  + KL(p‖q) = 0.130538
  = H(p,q)  = 1.690000
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kullback import _xp
from kullback.measures import _blocked, _kernels
from kullback.units import Unit, resolve_unit
from kullback.validation import check_axis, check_form, check_log_input, check_masses

__all__ = [
    "Decomposition",
    "cross_entropy",
    "decompose",
    "entropy",
    "js_distance",
    "js_divergence",
    "kl_divergence",
]

_LN2 = math.log(2.0)


# --------------------------------------------------------------------------- preparation


@dataclass
class _Prepared:
    xp: Any
    p: Any                 # axis moved last, broadcast, compute dtype
    q: Any | None
    p_orig: Any            # as given (for error positions)
    q_orig: Any | None
    p_form: str
    q_form: str
    axis: int              # negative axis in the broadcast result
    out_dtype: Any
    validate: bool         # value checks requested and possible (the arrays are not lazy)


def _broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    out = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return tuple(reversed(out))


def _prepare(
    p: Any, q: Any | None, axis: Any, p_form: str, q_form: str, validate: bool
) -> _Prepared:
    check_form(p_form, "p_form")
    check_form(q_form, "q_form")
    xp, pa = _xp.as_namespace_array(p, "p")
    qa = None
    if q is not None:
        xq, qa = _xp.as_namespace_array(q, "q")
        if xq is not xp:
            if not hasattr(p, "shape"):  # a list or scalar joins q's library
                xp, pa = xq, xq.asarray(np.asarray(pa), device=_device(qa))
            elif not hasattr(q, "shape"):
                qa = xp.asarray(np.asarray(qa), device=_device(pa))
            else:
                raise TypeError(
                    "p and q come from different array libraries "
                    f"({type(p).__module__}.{type(p).__name__} and "
                    f"{type(q).__module__}.{type(q).__name__}); convert one of them"
                )
    arrays = [pa] if qa is None else [pa, qa]
    out_dtype = _xp.float_dtype(xp, *arrays)
    cdt = _xp.compute_dtype(xp, out_dtype)
    arrays = [a if a.dtype == cdt else xp.astype(a, cdt) for a in arrays]

    names = ["p", "q"]
    if qa is None:
        ax = check_axis(axis, pa.ndim, "p")
        neg = ax - pa.ndim
        moved = [xp.moveaxis(arrays[0], neg, -1) if neg != -1 else arrays[0]]
    else:
        nd = max(pa.ndim, qa.ndim)
        ax = check_axis(axis, nd, "p and q")
        neg = ax - nd
        shapes = f"(shapes {tuple(pa.shape)} and {tuple(qa.shape)})"
        for name, a in zip(names, (pa, qa), strict=True):
            if a.ndim < -neg:
                raise ValueError(f"{name} has {a.ndim} dimension(s) and no axis {axis} {shapes}")
        if pa.shape[neg] != qa.shape[neg]:
            raise ValueError(
                f"p and q must have the same length along axis {axis}; got "
                f"{pa.shape[neg]} and {qa.shape[neg]} {shapes}"
            )
        rest = [tuple(a.shape[:neg]) + tuple(a.shape[neg:][1:]) for a in (pa, qa)]
        if _broadcast_shape(*rest) is None:
            raise ValueError(f"p and q do not broadcast over the axes other than {axis} {shapes}")
        moved = [xp.moveaxis(a, neg, -1) if neg != -1 else a for a in arrays]
        if tuple(moved[0].shape) != tuple(moved[1].shape):
            moved = list(xp.broadcast_arrays(*moved))
    n = moved[0].shape[-1]
    if n == 0:
        raise ValueError(f"p{' and q' if qa is not None else ''} have an empty axis {axis}: "
                         "a distribution needs at least one outcome")
    lazy = any(_xp.is_lazy(a) for a in moved)
    return _Prepared(
        xp=xp,
        p=moved[0],
        q=moved[1] if qa is not None else None,
        p_orig=pa,
        q_orig=qa,
        p_form=p_form,
        q_form=q_form,
        axis=neg,
        out_dtype=out_dtype,
        validate=validate and not lazy,
    )


def _device(x: Any) -> Any:
    import array_api_compat

    return array_api_compat.device(x)


# --------------------------------------------------------------------------- evaluation


def _masses(pr: _Prepared, x: Any, orig: Any, name: str) -> Any:
    """Row sums of masses along the last axis (kept), validating the masses first."""
    s = pr.xp.sum(x, axis=-1, keepdims=True)
    if pr.validate:
        check_masses(name, orig, s, pr.xp)
    return s


def _scaled_pair(xp: Any, p: Any, q: Any, sp: Any, sq: Any) -> tuple[Any, Any, Any]:
    """``(A, B, total)`` with ``A/B = P/Q`` elementwise and ``A = P * total``.

    The KL and JS terms are homogeneous of degree one, so ``terms(P, Q) = terms(A, B) / total``
    (a division: ``1/total`` can overflow for a subnormal total).
    Of ``p`` and ``q`` the one with the smaller total is scaled *up* to the other's total, so no
    positive mass can underflow to zero the way ``q / sum(q)`` can (``5e-324 / 2`` is 0). Where
    both totals are at most 1, or differ by more than the float range, both are normalised by
    division.
    """
    fp, fq, total, fine = _pair_factors(xp, sp, sq)
    # Totals at most 1 are divided out instead: dividing by them scales up too, and a product
    # q * c would round in the subnormal range when the totals themselves are tiny.
    divide = ~fine | (xp.where(sp >= sq, sp, sq) <= 1.0)
    A = xp.where(divide, p / sp, p * fp)
    B = xp.where(divide, q / sq, q * fq)
    return A, B, xp.where(divide, 1.0, total)


def _pair_factors(xp: Any, sp: Any, sq: Any) -> tuple[Any, Any, Any, Any]:
    """Per-row ``(fp, fq, total, fine)``: ``A = p * fp``, ``B = q * fq`` where ``fine``."""
    up = sp >= sq
    c = xp.where(up, sp / xp.where(up, sq, 1.0), sq / xp.where(up, 1.0, sp))  # >= 1
    fine = c <= xp.finfo(c.dtype).max
    fp = xp.where(fine & ~up, c, 1.0)
    fq = xp.where(fine & up, c, 1.0)
    total = xp.where(fine, xp.where(up, sp, sq), 1.0)
    return fp, fq, total, fine


def _logs(pr: _Prepared, x: Any, orig: Any, name: str, form: str) -> Any:
    """Normalised log-probabilities of an operand in any form (masses: ``log x - log sum``)."""
    xp = pr.xp
    if form == "probs":
        s = _masses(pr, x, orig, name)
        pos = x > 0
        return xp.where(pos, xp.log(xp.where(pos, x, 1.0)) - xp.log(s), -math.inf)
    if pr.validate:
        m = xp.max(x, axis=-1, keepdims=True)
        ms = xp.where(xp.isfinite(m), m, 0.0)
        lse = ms + xp.log(xp.sum(xp.exp(x - ms), axis=-1, keepdims=True))
        lse = xp.where(m == -math.inf, -math.inf, xp.where(m == math.inf, math.inf, lse))
        lse = xp.where(xp.any(xp.isnan(x), axis=-1, keepdims=True), math.nan, lse)
        check_log_input(name, x if orig is None else orig, lse, xp, form)
    return _kernels.log_normalize(xp, x, axis=-1)


_LOG_TERMS = {
    "entropy": lambda xp, lp, lq: _kernels.log_entropy_terms(xp, lp),
    "cross_entropy": _kernels.log_cross_entropy_terms,
    "kl": _kernels.log_kl_terms,
    "js": _kernels.log_js_terms,
}


def _evaluate(pr: _Prepared, kinds: tuple[str, ...]) -> dict[str, Any]:
    """The measures (in nats, JS still times 4) for each kind, with the axis reduced.

    In probability space the cross-entropy is ``H(p) + KL(p||q)``: a sum of two non-negative
    numbers (no cancellation), so the decomposition identity holds by construction.
    """
    xp = pr.xp
    log_space = pr.p_form != "probs" or (pr.q is not None and pr.q_form != "probs")
    with np.errstate(all="ignore"):
        if log_space:
            lp = _logs(pr, pr.p, pr.p_orig, "p", pr.p_form)
            lq = None if pr.q is None else _logs(pr, pr.q, pr.q_orig, "q", pr.q_form)
            out = {k: xp.sum(_LOG_TERMS[k](xp, lp, lq), axis=-1) for k in kinds}
            for k in ("entropy", "cross_entropy"):  # their terms are <= 0
                if k in out:
                    out[k] = 0.0 - out[k]
            return out
        need = {k for k in kinds if k != "cross_entropy"}
        if "cross_entropy" in kinds:
            need |= {"entropy", "kl"}
        order = tuple(k for k in ("entropy", "kl", "js") if k in need)
        blocked = _blocked.use_blocked(*(a for a in (pr.p, pr.q) if a is not None))
        out = _evaluate_blocked(pr, order) if blocked else None
        if out is None:
            out = {}
            sp = _masses(pr, pr.p, pr.p_orig, "p")
            if "entropy" in need:
                out["entropy"] = 0.0 - xp.sum(_kernels.entropy_terms(xp, pr.p / sp), axis=-1)
            if pr.q is not None:
                sq = _masses(pr, pr.q, pr.q_orig, "q")
                A, B, total = _scaled_pair(xp, pr.p, pr.q, sp, sq)
                total = total[..., 0]
                if "kl" in need:
                    out["kl"] = xp.sum(_kernels.kl_terms(xp, A, B), axis=-1) / total
                if "js" in need:
                    out["js"] = xp.sum(_kernels.js_terms(xp, A, B), axis=-1) / total
        if "cross_entropy" in kinds:
            out["cross_entropy"] = out["entropy"] + out["kl"]
        return {k: out[k] for k in kinds}


def _evaluate_blocked(pr: _Prepared, kinds: tuple[str, ...]) -> dict[str, Any] | None:
    """The blocked driver for large NumPy inputs (see :mod:`kullback.measures._blocked`).

    One pass gives the masses, the validation data and the raw sums; entropy and KL are
    finished from those when the normalisation loses nothing to cancellation (probabilities
    at most 1; totals of p and q close enough). Otherwise, and for JS, a second pass runs with
    the exact normalisers.
    """
    xp, p, q = pr.xp, pr.p, pr.q
    one_pass_kinds = {"entropy", "kl"} & set(kinds)
    # with no measure finished in the first pass, the minima come from the second
    first = _blocked.one_pass(kinds, p, q, minima=bool(one_pass_kinds))
    sp, sq = first["sp"], first.get("sq")
    if pr.validate:
        lo_p = first["min_p"] if one_pass_kinds else 0.0
        check_masses("p", pr.p_orig, sp, xp, minimum=lo_p)
        if q is not None:
            check_masses("q", pr.q_orig, sq, xp, minimum=first["min_q"] if one_pass_kinds else 0.0)
    if q is not None and not bool(np.all(_pair_factors(np, sp, sq)[3])):
        return None  # totals beyond the float range of each other: the generic path copes
    out: dict[str, Any] = {}
    with np.errstate(all="ignore"):
        if "entropy" in kinds and first["max_p"] <= 1:
            log_s, t = np.log(sp), -first["entropy"] / sp  # H = log S + t, t >= 0 as p <= 1
            h = log_s + t
            if np.all(np.abs(log_s) + t <= 16 * h):  # at most 4 bits lost to cancellation
                out["entropy"] = h
        if "kl" in kinds:
            c = sq / sp
            offset = (c - 1.0) - np.log(c)  # phi(sq/sp) >= 0: what the raw sum adds
            b = first["kl"] / sp
            if np.all(offset <= b / 16):
                out["kl"] = np.maximum(b - offset, 0.0)
        rest = tuple(k for k in kinds if k not in out)
        if rest:
            second = _blocked.term_sums(rest, p, q, sp, sq)
            if pr.validate and not one_pass_kinds:
                check_masses("p", pr.p_orig, sp, xp, minimum=second["min_p"])
                if q is not None:
                    check_masses("q", pr.q_orig, sq, xp, minimum=second["min_q"])
            out.update({k: second[k] for k in rest})
            if "entropy" in rest:
                out["entropy"] = 0.0 - out["entropy"]  # terms <= 0; 0.0 - x gives +0.0
    return out


def _finish(pr: _Prepared, value: Any, unit: Unit, keepdims: bool) -> Any:
    xp = pr.xp
    value = unit.from_nats(value)
    if keepdims:
        value = xp.expand_dims(value, axis=pr.axis)
    if value.dtype != pr.out_dtype:
        value = xp.astype(value, pr.out_dtype)
    if type(value) is np.ndarray and value.ndim == 0:
        return value[()]  # a NumPy scalar, as NumPy's own reductions return
    return value


def _is_distribution(obj: Any) -> bool:
    """A scipy.stats frozen distribution or torch.distributions object (imports neither)."""
    if isinstance(obj, np.ndarray | list | tuple | int | float):
        return False
    from kullback import distributions

    return distributions.is_distribution(obj)


def _dispatch(name: str, args: tuple[Any, ...], base: Any, options: dict[str, Any]) -> Any:
    from kullback import distributions

    return getattr(distributions, name)(*args, base=base, **options)


def _no_options(options: dict[str, Any], fname: str) -> None:
    if options:
        raise TypeError(
            f"{fname}() got unexpected keyword argument(s) {', '.join(sorted(options))} "
            "(extra options apply to distribution objects only)"
        )


# --------------------------------------------------------------------------- public API


def entropy(
    p: Any,
    *,
    base: Any = None,
    axis: int = -1,
    keepdims: bool = False,
    p_form: str = "probs",
    validate: bool = True,
    **options: Any,
) -> Any:
    r"""Shannon entropy :math:`H(p) = -\sum p \log p`.

    Parameters
    ----------
    p : array_like
        Probabilities or non-negative counts along ``axis`` (normalised there), or a
        ``scipy.stats`` / ``torch.distributions`` distribution object (see
        :mod:`kullback.distributions`; ``options`` are passed to it).
    base : None, float or str, optional
        Logarithm base or unit name (``"nats"``, the default, ``"bits"``, ``"bans"``).
    axis : int, optional
        The axis of outcomes. The other axes are batch axes.
    keepdims : bool, optional
        Keep the reduced axis with length 1.
    p_form : {"probs", "logits", "log_probs"}, optional
        How ``p`` is given. ``"logits"`` are unnormalised log-probabilities (normalised by a
        log-softmax); ``"log_probs"`` must already be normalised. ``-inf`` means probability 0.
    validate : bool, optional
        Check the values (negative, NaN, infinite entries; all-zero slices). ``False`` skips
        the checks for speed; lazy arrays (Dask, JAX tracers) always skip the value checks.

    Returns
    -------
    array
        The entropy, in the input's array library and floating dtype (integers give the
        library's default float), with ``axis`` removed unless ``keepdims``.

    Raises
    ------
    ValueError
        For negative, NaN or infinite entries, an all-zero slice, an empty axis or a bad base;
        the message names the argument and the first offending position.
    TypeError
        For non-numeric input.

    Examples
    --------
    >>> import kullback as kb
    >>> float(kb.entropy([0.5, 0.5], base="bits"))
    1.0
    >>> float(kb.entropy([1, 2, 3]))  # counts  # doctest: +ELLIPSIS
    1.0114042647073...
    >>> kb.entropy([[1, 0], [1, 1]], base=2)
    array([0., 1.])
    """
    if _is_distribution(p):
        return _dispatch("entropy", (p,), base, {"validate": validate, **options})
    _no_options(options, "entropy")
    unit = resolve_unit(base)
    pr = _prepare(p, None, axis, p_form, "probs", validate)
    out = _evaluate(pr, ("entropy",))["entropy"]
    return _finish(pr, out, unit, keepdims)


def _binary(
    kind: str,
    p: Any,
    q: Any,
    base: Any,
    axis: int,
    keepdims: bool,
    p_form: str,
    q_form: str,
    validate: bool,
) -> Any:
    unit = resolve_unit(base)
    pr = _prepare(p, q, axis, p_form, q_form, validate)
    out = _evaluate(pr, ("js" if kind == "js_distance" else kind,))
    if kind not in ("js", "js_distance"):
        return _finish(pr, out[kind], unit, keepdims)
    js = unit.from_nats(_js_finish(pr.xp, out["js"]))
    if kind == "js":
        return _finish(pr, js, resolve_unit(None), keepdims)
    xp = pr.xp
    pos = js > 0  # sqrt never sees a negative, and its gradient at JS = 0 is 0, not NaN
    dist = xp.where(pos, xp.sqrt(xp.where(pos, js, 1.0)), 0.0)
    return _finish(pr, dist, resolve_unit(None), keepdims)


def _js_finish(xp: Any, quadrupled: Any) -> Any:
    """Quarter the summed terms and apply the bounds 0 <= JS <= ln 2 (both mathematical)."""
    return xp.clip(0.25 * quadrupled, 0.0, _LN2)


def cross_entropy(
    p: Any,
    q: Any,
    *,
    base: Any = None,
    axis: int = -1,
    keepdims: bool = False,
    p_form: str = "probs",
    q_form: str = "probs",
    validate: bool = True,
    **options: Any,
) -> Any:
    r"""Cross-entropy :math:`H(p, q) = -\sum p \log q`.

    Parameters are as for :func:`kl_divergence`.

    Examples
    --------
    >>> import kullback as kb
    >>> round(float(kb.cross_entropy([0.42, 0.31, 0.27], [0.25, 0.5, 0.25])), 10)
    1.1714187351
    >>> float(kb.cross_entropy([0.5, 0.5], [1.0, 0.0]))
    inf
    """
    if _is_distribution(p) or _is_distribution(q):
        return _dispatch("cross_entropy", (p, q), base, {"validate": validate, **options})
    _no_options(options, "cross_entropy")
    return _binary("cross_entropy", p, q, base, axis, keepdims, p_form, q_form, validate)


def kl_divergence(
    p: Any,
    q: Any,
    *,
    base: Any = None,
    axis: int = -1,
    keepdims: bool = False,
    p_form: str = "probs",
    q_form: str = "probs",
    validate: bool = True,
    **options: Any,
) -> Any:
    r"""Kullback-Leibler divergence :math:`\mathrm{KL}(p \| q) = \sum p \log(p/q) \ge 0`.

    Computed as a sum of Bregman terms :math:`p\,(x - 1 - \log x)`, :math:`x = q/p`, each
    non-negative by construction, so the result is never negative, even for nearly
    identical inputs in float32; ratios that would overflow are never formed.

    Parameters
    ----------
    p, q : array_like
        Probabilities or non-negative counts along ``axis`` (each normalised), broadcasting
        over the other axes; or distribution objects (see :mod:`kullback.distributions`).
    base : None, float or str, optional
        Logarithm base or unit name (``"nats"`` default, ``"bits"``, ``"bans"``).
    axis : int, optional
        The axis of outcomes (of the broadcast shape).
    keepdims : bool, optional
        Keep the reduced axis with length 1.
    p_form, q_form : {"probs", "logits", "log_probs"}, optional
        How each argument is given; any log form switches the computation to log space.
    validate : bool, optional
        Check the values; see :func:`entropy`.

    Returns
    -------
    array
        ``KL(p‖q)``: 0 iff p = q, +inf where p puts mass on an outcome q rules out.

    Examples
    --------
    >>> import kullback as kb
    >>> float(kb.kl_divergence([1, 0], [0.7, 0.3]))  # exactly -ln 0.7, no clipping
    0.356674943938732...
    >>> float(kb.kl_divergence([0.5, 0.5], [1, 0]))
    inf
    >>> import numpy as np
    >>> logits = np.array([2.0, 1.0, -np.inf])
    >>> round(float(kb.kl_divergence([0.7, 0.3, 0.0], logits, q_form="logits")), 6)
    0.002397
    """
    if _is_distribution(p) or _is_distribution(q):
        return _dispatch("kl_divergence", (p, q), base, {"validate": validate, **options})
    _no_options(options, "kl_divergence")
    return _binary("kl", p, q, base, axis, keepdims, p_form, q_form, validate)


def js_divergence(
    p: Any,
    q: Any,
    *,
    base: Any = None,
    axis: int = -1,
    keepdims: bool = False,
    p_form: str = "probs",
    q_form: str = "probs",
    validate: bool = True,
) -> Any:
    r"""Jensen-Shannon divergence :math:`\tfrac12 \mathrm{KL}(p\|m) + \tfrac12 \mathrm{KL}(q\|m)`.

    Symmetric, finite, between 0 and :math:`\log 2` (1 bit). Parameters as for
    :func:`kl_divergence`.

    Examples
    --------
    >>> import kullback as kb
    >>> float(kb.js_divergence([1, 0], [0, 1], base="bits"))
    1.0
    >>> round(float(kb.js_divergence([0.42, 0.31, 0.27], [0.25, 0.5, 0.25])), 8)
    0.0223412
    """
    return _binary("js", p, q, base, axis, keepdims, p_form, q_form, validate)


def js_distance(
    p: Any,
    q: Any,
    *,
    base: Any = None,
    axis: int = -1,
    keepdims: bool = False,
    p_form: str = "probs",
    q_form: str = "probs",
    validate: bool = True,
) -> Any:
    r"""Jensen-Shannon distance: the square root of :func:`js_divergence`, a metric.

    Never NaN: the divergence is non-negative before the square root, and the gradient at
    ``p = q`` is 0 rather than NaN.

    Examples
    --------
    >>> import kullback as kb
    >>> round(float(kb.js_distance([0.42, 0.31, 0.27], [0.25, 0.5, 0.25], base=2)), 10)
    0.1795314398
    >>> float(kb.js_distance([0.3, 0.7], [0.3, 0.7]))
    0.0
    """
    return _binary("js_distance", p, q, base, axis, keepdims, p_form, q_form, validate)


@dataclass(frozen=True, repr=False)
class Decomposition:
    """The identity :math:`H(p, q) = H(p) + \\mathrm{KL}(p \\| q)`, term by term.

    Attributes
    ----------
    entropy, cross_entropy, kl_divergence : array
        ``H(p)``, ``H(p, q)`` and ``KL(p‖q)``, each computed directly (the KL is not
        obtained by subtraction, so it is never negative).
    unit : Unit
        The unit of all three.
    """

    entropy: Any
    cross_entropy: Any
    kl_divergence: Any
    unit: Unit

    def __iter__(self):
        return iter((self.entropy, self.cross_entropy, self.kl_divergence))

    def __repr__(self) -> str:
        u = self.unit.name
        try:
            h, ce, kl = (float(v) for v in self)
        except (TypeError, ValueError):
            shape = tuple(getattr(self.entropy, "shape", ()))
            return f"Decomposition(unit={u!r}, shape={shape})"
        return (
            f"Decomposition(unit={u!r})\n"
            f"  H(p)      = {h:.6f}\n"
            f"  + KL(p‖q) = {kl:.6f}\n"
            f"  = H(p,q)  = {ce:.6f}"
        )


def decompose(
    p: Any,
    q: Any,
    *,
    base: Any = None,
    axis: int = -1,
    keepdims: bool = False,
    p_form: str = "probs",
    q_form: str = "probs",
    validate: bool = True,
) -> Decomposition:
    """Entropy, cross-entropy and KL divergence of one pair, in one pass.

    Examples
    --------
    >>> import kullback as kb
    >>> d = kb.decompose([0.42, 0.31, 0.27], [0.25, 0.5, 0.25])
    >>> h, ce, kl = (round(float(v), 4) for v in d)
    >>> h, ce, kl
    (1.0809, 1.1714, 0.0905)
    """
    unit = resolve_unit(base)
    pr = _prepare(p, q, axis, p_form, q_form, validate)
    sums = _evaluate(pr, ("entropy", "cross_entropy", "kl"))
    h, ce, kl = (_finish(pr, sums[k], unit, keepdims) for k in ("entropy", "cross_entropy", "kl"))
    return Decomposition(entropy=h, cross_entropy=ce, kl_divergence=kl, unit=unit)
