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

Other inputs: a NumPy masked array counts its masked entries as zero mass, in every function;
``np.matrix``, pandas and polars Series/DataFrames are taken by their values (labels are not
aligned: only the order of the outcomes counts; the command line aligns labels); a NumPy
operand given with a torch or JAX operand is converted to that library (so NumPy constants
work inside ``jax.jit``); an empty batch gives an empty result.

Accuracy: KL and JS to 1e-10 relative in float64 (1e-4 in float32) down to divergences of
1e-30, never negative and never NaN; at any magnitude the dtype holds (totals far apart go to
log space); a native fast path (NumPy, torch) serves where its error bound allows and hands
every other row to the general path.

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

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from kullback import _xp
from kullback._xp import compiled
from kullback.measures import _blocked, _fast, _kernels
from kullback.measures._prepare import Prepared, log_operand, masses, prepare
from kullback.measures._table import Measure, lookup
from kullback.units import Unit, resolve_unit

__all__ = [
    "Decomposition",
    "cross_entropy",
    "decompose",
    "entropy",
    "js_distance",
    "js_divergence",
    "kl_divergence",
]

_DIST_DEFAULTS: dict[str, Any] = {
    "method": "auto",
    "return_error": False,
    "rtol": 1e-11,
    "n_samples": 100_000,
    "random_state": None,
}


# --------------------------------------------------------------------------- evaluation


def _expanded(measures: list[Measure], *, single_pass: bool = False) -> list[Measure]:
    """The measures whose terms are summed: composed measures replaced by their parts
    (with ``single_pass``, those with a blocked single pass of their own are kept)."""
    out: list[Measure] = []
    for m in measures:
        own = single_pass and m.tile is not None and m.raw_finish is not None
        for part in (m.name,) if own else m.composed_of or (m.name,):
            entry = lookup(part)
            if entry not in out:
                out.append(entry)
    return out


def _generic_sums(pr: Prepared, measures: list[Measure]) -> dict[str, Any]:
    """Sums of each measure's normalised terms, by the generic kernels on whole arrays.

    The totals are computed (and the values validated) first; the rest is a pure function of
    the arrays, which for JAX runs compiled (:func:`kullback._xp.compiled`): eagerly, JAX would
    dispatch and compile each of its few dozen operations one by one.
    """
    xp = pr.xp
    sp = masses(pr, pr.p, pr.p_orig, "p")
    sq = None if pr.q is None else masses(pr, pr.q, pr.q_orig, "q")
    names = tuple(m.name for m in measures)
    sums = compiled(xp, _term_sums)(xp, names, pr.p, pr.q, sp, sq)
    return dict(zip(names, sums, strict=True))


def _term_sums(xp: Any, names: tuple[str, ...], p: Any, q: Any, sp: Any, sq: Any) -> tuple:
    operands: dict[str, Any] = {}

    def normalised() -> list[Any]:
        if "P" not in operands:
            operands["P"] = [p / sp] + ([] if sq is None else [q / sq])
        return operands["P"]

    def scaled() -> tuple[Any, Any, Any, Any]:
        if "A" not in operands:
            A, B, D, total, _ = _kernels.pair_with_difference(xp, p, q, sp, sq)
            operands["A"] = (A, B, D, total[..., 0])
        return operands["A"]

    out = []
    for m in map(lookup, names):
        if m.homogeneous and sq is not None:
            out.append(_homogeneous_sum(xp, m, p, q, sp, sq, *scaled()))
        elif m.raw_sum is not None:
            out.append(m.raw_sum(xp, p, sp))
        else:
            out.append(xp.sum(m.terms(xp, *normalised()[: m.arity]), axis=-1))
    return tuple(out)


def _homogeneous_sum(xp: Any, m: Measure, p: Any, q: Any, sp: Any, sq: Any, A: Any, B: Any,
                     D: Any, total: Any) -> Any:
    """A homogeneous measure's sum on the scaled pair, with the normalisers' rounding
    removed; the entries whose normalised masses leave the float range (where that decides
    their term) are taken in log space instead, the rest of their row staying as it is."""
    terms = m.terms(xp, A, B, diff=D) if m.takes_difference else m.terms(xp, A, B)

    def finished(summed: Any) -> Any:
        value = summed / total
        if m.total_correction is not None:
            corrected = value - m.total_correction(xp, xp.sum(D, axis=-1) / total)
            value = xp.where(corrected > 0.0, corrected, 0.0)  # rounding: never < 0
        return value

    plain = finished(xp.sum(terms, axis=-1))
    lost = _out_of_range(xp, p, q, A, B)
    off = xp.any(lost, axis=-1)

    def in_log_space() -> Any:
        lp, lq = _kernels.log_masses(xp, p, sp), _kernels.log_masses(xp, q, sq)
        kept = finished(xp.sum(xp.where(lost, 0.0, terms), axis=-1))
        moved = xp.sum(xp.where(lost, m.log_terms(xp, lp, lq), 0.0), axis=-1)
        return xp.where(off, kept + moved, plain)

    return _kernels.when(xp, off, in_log_space, lambda: plain)


def _out_of_range(xp: Any, p: Any, q: Any, A: Any, B: Any) -> Any:
    """Entries whose positive mass became 0 or subnormal in scaling or normalising (a
    subnormal product keeps only a few bits): their terms are taken in log space instead.

    Only those entries move: the rest of the row keeps its relative accuracy, which the log
    space's absolute error (``eps |log P|`` per term) would cost it.
    """
    tiny = xp.finfo(A.dtype).smallest_normal
    return ((A < tiny) & (p > 0)) | ((B < tiny) & (q > 0))


def _evaluate(pr: Prepared, names: tuple[str, ...]) -> dict[str, Any]:
    """Each named measure in nats, the outcome axis reduced, by the path the input calls for.

    Logits or log-probabilities take the log-space kernels. Probabilities and counts take the
    blocked driver for large NumPy inputs and the generic kernels otherwise; there a measure
    ``composed_of`` others is their sum (cross-entropy = H + KL, no cancellation), except on
    the rows where the blocked driver's single pass of its own terms is accepted.
    """
    xp = pr.xp
    wanted = [lookup(n) for n in names]
    log_space = pr.p_form != "probs" or (pr.q is not None and pr.q_form != "probs")
    with np.errstate(all="ignore"):
        if log_space:
            lps = [log_operand(pr, pr.p, pr.p_orig, "p", pr.p_form)]
            if pr.q is not None:
                lps.append(log_operand(pr, pr.q, pr.q_orig, "q", pr.q_form))
            return {m.name: m.value(xp, xp.sum(m.log_terms(xp, *lps[: m.arity]), axis=-1))
                    for m in wanted}
        arrays = [a for a in (pr.p, pr.q) if a is not None]
        sums = None
        if _blocked.use_blocked(*arrays):
            parts = _expanded(wanted, single_pass=True)
            sums = _blocked.evaluate(pr, parts)
        own = sums is not None  # the driver's fresh arrays, one per measure
        if sums is None:
            parts = _expanded(wanted)
            sums = _generic_sums(pr, parts)
        values = {m.name: m.value(xp, sums[m.name], own=own) for m in parts}
        for m in wanted:
            if m.composed_of and m.name in values:
                values[m.name] = _compose_rows(pr, m, values[m.name])
            elif m.composed_of:
                values[m.name] = _with_own_slopes(
                    pr, m, sum(values[part] for part in m.composed_of))
        return {n: values[n] for n in names}


def _with_own_slopes(pr: Prepared, m: Measure, value: Any) -> Any:
    """``value`` (the sum of ``m``'s parts) with the derivative of ``m``'s own terms.

    The parts' zero guards do not cancel in a derivative: at ``P_j = 0`` cross-entropy's
    slope in ``p_j`` is ``(-log Q_j - H(P, Q)) / S_p``, while the guarded H + KL gave another
    number. The value is unchanged (``own - stop_gradient(own)`` is exactly 0); only where a
    library differentiates (torch tensors that need a gradient, JAX tracers). A row whose value
    is not finite keeps its parts' derivative, and so does a row whose normalised ``Q`` has an
    entry below the float range where ``P`` has mass (its own terms would be infinite: the
    parts computed it in log space).
    """
    stop = _stop_gradient(pr)
    if stop is None:
        return value
    xp = pr.xp
    ok = xp.expand_dims(xp.isfinite(value), axis=-1)
    P, Q = (xp.where(ok, x, 1.0) for x in (pr.p, pr.q))
    P, Q = (x / xp.sum(x, axis=-1, keepdims=True) for x in (P, Q))
    fine = ok & ~xp.any((Q == 0) & (P > 0), axis=-1, keepdims=True)
    P, Q = (xp.where(fine, x, 1.0) for x in (P, Q))  # no infinite slope where it is not used
    own = m.value(xp, xp.sum(m.terms(xp, P, Q), axis=-1))
    return xp.where(fine[..., 0], stop(value) + (own - stop(own)), value)


def _stop_gradient(pr: Prepared) -> Any:
    """The library's ``stop_gradient`` if these operands may be differentiated, else None."""
    import array_api_compat

    operands = [x for x in (pr.p, pr.q) if x is not None]
    if array_api_compat.is_torch_namespace(pr.xp):
        import torch

        if torch.is_grad_enabled() and any(x.requires_grad for x in operands):
            return lambda x: x.detach()
    elif array_api_compat.is_jax_namespace(pr.xp) and any(_xp.is_lazy(x) for x in operands):
        import jax

        return jax.lax.stop_gradient
    return None


def _compose_rows(pr: Prepared, m: Measure, value: Any) -> Any:
    """``value`` with the rows the blocked single pass left NaN replaced by the sum of
    ``m``'s parts, each evaluated on those rows alone (by whichever path their size calls
    for)."""
    bad = np.isnan(value)
    if not bad.any():
        return value
    value = np.array(value)  # a writable array, also for a single row (a NumPy scalar)
    idx: Any = ... if bad.all() else np.nonzero(bad)
    p, q = pr.p[idx], None if pr.q is None else pr.q[idx]
    rows = replace(pr, p=p, q=q, p_orig=p, q_orig=q, axis=-1, validate=False)
    value[idx] = sum(_evaluate(rows, m.composed_of).values())
    return value[()] if value.ndim == 0 else value


def _to_output(pr: Prepared, value: Any, unit: Unit, keepdims: bool) -> Any:
    """The value in ``unit``, in the output dtype, with the axis kept if asked."""
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


def _dispatch(name: str, args: tuple[Any, ...], base: Any, validate: bool,
              options: dict[str, Any]) -> Any:
    """Hand distribution objects to :mod:`kullback.distributions` with the caller's options."""
    from kullback import distributions

    return getattr(distributions, name)(*args, base=base, validate=validate, **options)


def _arrays_only(fname: str, options: dict[str, Any]) -> None:
    """Refuse distribution options given with arrays (they would be silently ignored)."""
    try:
        if options == _DIST_DEFAULTS:
            return
    except (TypeError, ValueError):  # an option whose == is not a bool (an array)
        pass
    given = [k for k, v in options.items() if v is not _DIST_DEFAULTS[k] and v != _DIST_DEFAULTS[k]]
    if given:
        raise TypeError(
            f"{fname}(): {', '.join(given)} apply to distribution objects only "
            "(scipy.stats or torch.distributions), not to arrays"
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
    method: str = "auto",
    return_error: bool = False,
    rtol: float = 1e-11,
    n_samples: int = 100_000,
    random_state: Any = None,
) -> Any:
    r"""Shannon entropy :math:`H(p) = -\sum p \log p`.

    Parameters
    ----------
    p : array_like
        Probabilities or non-negative counts along ``axis`` (normalised there), or a
        ``scipy.stats`` / ``torch.distributions`` distribution object (see
        :mod:`kullback.distributions`).
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
    options = dict(method=method, return_error=return_error, rtol=rtol, n_samples=n_samples,
                   random_state=random_state)
    return _measure("entropy", (p,), base, axis, keepdims, p_form, "probs", validate, options)


# modules of types that are never distribution objects (torch.Tensor's is "torch", while
# torch.distributions' classes live in submodules): the check costs 10 us otherwise
_ARRAYS = frozenset(("numpy", "builtins", "torch", "jaxlib._jax", "jaxlib.xla_extension"))


def _measure(
    name: str,
    args: tuple[Any, ...],
    base: Any,
    axis: int,
    keepdims: bool,
    p_form: str,
    q_form: str,
    validate: bool,
    options: dict[str, Any],
) -> Any:
    """The public functions' common body: dispatch, prepare, evaluate, convert."""
    p, q = args if len(args) == 2 else (args[0], None)
    if (type(p).__module__ not in _ARRAYS or (q is not None
                                                and type(q).__module__ not in _ARRAYS)) \
            and any(_is_distribution(a) for a in args):
        return _dispatch(name, args, base, validate, options)
    _arrays_only(name, options)
    unit = _fast._NATS if base is None else resolve_unit(base)
    if p_form == "probs" and q_form == "probs" and not keepdims:
        fast = _fast.run(name, p, q, axis, unit)
        if fast is not None:
            return fast
    pr = prepare(p, q, axis, p_form, q_form, validate)
    if name != "js_distance":
        return _to_output(pr, _evaluate(pr, (name,))[name], unit, keepdims)
    xp = pr.xp
    js = unit.from_nats(_evaluate(pr, ("js_divergence",))["js_divergence"])
    if type(js) is np.ndarray:  # clipped to [0, ln 2] already, and no gradient to guard
        dist = np.sqrt(js)
        dist += 0.0  # a -0.0 divergence is a +0.0 distance
        return _to_output(pr, dist, resolve_unit(None), keepdims)
    pos = js > 0  # sqrt never sees a negative, and its gradient at JS = 0 is 0, not NaN
    dist = xp.where(pos, xp.sqrt(xp.where(pos, js, 1.0)), 0.0)
    return _to_output(pr, dist, resolve_unit(None), keepdims)


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
    method: str = "auto",
    return_error: bool = False,
    rtol: float = 1e-11,
    n_samples: int = 100_000,
    random_state: Any = None,
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
    options = dict(method=method, return_error=return_error, rtol=rtol, n_samples=n_samples,
                   random_state=random_state)
    return _measure("cross_entropy", (p, q), base, axis, keepdims, p_form, q_form, validate,
                    options)


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
    method: str = "auto",
    return_error: bool = False,
    rtol: float = 1e-11,
    n_samples: int = 100_000,
    random_state: Any = None,
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
    options = dict(method=method, return_error=return_error, rtol=rtol, n_samples=n_samples,
                   random_state=random_state)
    return _measure("kl_divergence", (p, q), base, axis, keepdims, p_form, q_form, validate,
                    options)


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
    method: str = "auto",
    return_error: bool = False,
    rtol: float = 1e-11,
    n_samples: int = 100_000,
    random_state: Any = None,
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
    options = dict(method=method, return_error=return_error, rtol=rtol, n_samples=n_samples,
                   random_state=random_state)
    return _measure("js_divergence", (p, q), base, axis, keepdims, p_form, q_form, validate,
                    options)


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
    method: str = "auto",
    return_error: bool = False,
    rtol: float = 1e-11,
    n_samples: int = 100_000,
    random_state: Any = None,
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
    options = dict(method=method, return_error=return_error, rtol=rtol, n_samples=n_samples,
                   random_state=random_state)
    return _measure("js_distance", (p, q), base, axis, keepdims, p_form, q_form, validate, options)


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
    method: str = "auto",
    rtol: float = 1e-11,
    n_samples: int = 100_000,
    random_state: Any = None,
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
    options = dict(method=method, rtol=rtol, n_samples=n_samples, random_state=random_state)
    if _is_distribution(p) or _is_distribution(q):
        return _dispatch("decompose", (p, q), base, validate, options)
    _arrays_only("decompose", options)
    unit = resolve_unit(base)
    pr = prepare(p, q, axis, p_form, q_form, validate)
    names = ("entropy", "cross_entropy", "kl_divergence")
    h, ce, kl = (_to_output(pr, v, unit, keepdims) for v in _evaluate(pr, names).values())
    return Decomposition(entropy=h, cross_entropy=ce, kl_divergence=kl, unit=unit)
