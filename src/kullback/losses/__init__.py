"""Training losses with the semantics of :mod:`torch.nn.functional`, on every array library.

One implementation, written against the array API (through ``array_api_compat``), serves NumPy
arrays (values), PyTorch tensors (autograd) and JAX arrays (``jax.grad`` and ``jax.jit``):

- :func:`cross_entropy`, :func:`nll_loss`: class dimension 1 (0 for an unbatched ``(C,)``
  input), K-dimensional inputs ``(N, C, d1, ..., dK)``, integer or class-probability targets,
  class ``weight``, ``ignore_index`` and ``label_smoothing`` combined exactly as torch does.
- :func:`binary_cross_entropy`, :func:`binary_cross_entropy_with_logits` (with ``pos_weight``).
- :func:`kl_div` (``log_target``, ``reduction="batchmean"``).
- :func:`distillation`: the temperature-scaled knowledge-distillation loss (forward KL, reverse
  KL or Jensen-Shannon), scaled by ``T**2``.
- :func:`linear_cross_entropy`: ``cross_entropy(input @ linear_weight.T + linear_bias, target)``
  for large vocabularies without ever holding the ``(N, V)`` logits (PyTorch, chunked; other
  libraries compute it densely).

Where torch's numerics are sloppy these functions are not (each difference is documented):

- ``0 * log 0 = 0``: a zero-probability target never meets a ``-inf`` log-probability as NaN
  (``kl_div`` with ``log_target=True`` and a ``-inf`` target, probability targets next to masked
  logits). A masked (``-inf``) logit gives NaN nowhere; if the *target* class is masked the loss
  is ``+inf`` (also when every logit of a row is masked, where torch returns NaN).
- float16 / bfloat16 inputs are computed in float32 and the result cast back.

Examples
--------
>>> import numpy as np
>>> from kullback import losses
>>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
>>> round(float(losses.cross_entropy(logits, np.array([0, 2]))), 6)
0.175456
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import array_api_compat

from kullback.measures import _kernels

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "distillation",
    "kl_div",
    "linear_cross_entropy",
    "nll_loss",
]

Array = Any

_REDUCTIONS = ("none", "mean", "sum")


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def _namespace(*arrays: Any):
    present = [a for a in arrays if a is not None and not isinstance(a, int | float | bool)]
    try:
        return array_api_compat.array_namespace(*present)
    except TypeError as exc:
        raise TypeError(f"expected arrays of one array library, got {exc}") from None


def _lazy(*arrays: Any) -> bool:
    """True when values cannot be inspected (Dask arrays, JAX tracers under jit/grad)."""
    return any(a is not None and array_api_compat.is_lazy_array(a) for a in arrays)


def _legacy_reduction(size_average: bool | None, reduce: bool | None, reduction: str) -> str:
    """Map torch's deprecated ``size_average`` / ``reduce`` pair to a reduction string."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn(
        "size_average and reduce are deprecated (as in torch); use reduction='none'|'mean'|'sum'",
        DeprecationWarning,
        stacklevel=3,
    )
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction: str, func: str, allowed: tuple[str, ...] = _REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"{func}: reduction must be one of {allowed}, got {reduction!r}")


def _is_half(dtype: Any) -> bool:
    return str(dtype).rsplit(".", 1)[-1] in ("float16", "bfloat16")


def _as_float(x: Array, xp, name: str, func: str) -> tuple[Array, Any]:
    """Return ``x`` in its compute dtype (half -> float32) and the dtype to return results in."""
    dtype = x.dtype
    if _is_half(dtype):
        return xp.astype(x, xp.float32), dtype
    if not xp.isdtype(dtype, "real floating"):
        raise TypeError(f"{func}: {name} must have a real floating dtype, got {dtype}")
    return x, dtype


def _cast_like(a: Array | None, x: Array, xp, name: str, func: str) -> Array | None:
    """Cast an optional float array (weights, targets) to the compute dtype of ``x``."""
    if a is None:
        return None
    if not (_is_half(a.dtype) or xp.isdtype(a.dtype, ("real floating", "integral", "bool"))):
        raise TypeError(f"{func}: {name} must be real, got dtype {a.dtype}")
    return a if a.dtype == x.dtype else xp.astype(a, x.dtype)


def _to_out(r: Array, dtype: Any, xp) -> Array:
    return r if r.dtype == dtype else xp.astype(r, dtype)


def _is_torch(xp) -> bool:
    return array_api_compat.is_torch_namespace(xp)


def _is_jax(xp) -> bool:
    return array_api_compat.is_jax_namespace(xp)


def _safe_div(s: Array, d: Array, xp) -> Array:
    """``s / d`` with NaN (never a warning) when ``d == 0``: the mean over nothing."""
    zero = d == 0
    return xp.where(zero, xp.asarray(math.nan, dtype=s.dtype), s / xp.where(zero, 1.0, d))


def _mul0(a: Array, b: Array, xp) -> Array:
    """``a * b`` with ``0 * (+-inf) = 0`` (the convention 0 log 0 = 0), gradient-safe."""
    bad = (a == 0) & xp.isinf(b)
    return a * xp.where(bad, xp.zeros_like(b), b)


def _log_softmax_generic(x: Array, axis: int, xp) -> Array:
    return _kernels.log_normalize(xp, x, axis=axis)


def _log_softmax_native(x: Array, axis: int, xp) -> Array:
    if _is_torch(xp):
        import torch

        return torch.log_softmax(x, dim=axis)
    if _is_jax(xp):
        import jax

        return jax.nn.log_softmax(x, axis=axis)
    return _log_softmax_generic(x, axis, xp)


def _log_softmax(x: Array, axis: int, xp) -> Array:
    """Log-softmax along ``axis``; a fully masked row gives ``-inf`` everywhere, never NaN.

    Eager torch/JAX use the native kernel and fall back to the guarded generic form only when a
    row whose logits are all ``-inf`` is present; traced or lazy arrays always take the guarded
    form (it is branch-free, so ``jax.jit`` compiles it once).
    """
    if (_is_torch(xp) or _is_jax(xp)) and not _lazy(x):
        if x.shape[axis] == 0 or not bool(xp.any(xp.max(x, axis=axis) == -math.inf)):
            return _log_softmax_native(x, axis, xp)
    return _log_softmax_generic(x, axis, xp)


def _take_class(a: Array, idx: Array, axis: int, xp) -> Array:
    """``a[..., idx, ...]`` along ``axis`` with ``idx`` shaped like ``a`` without ``axis``."""
    if hasattr(xp, "take_along_axis"):
        if _is_torch(xp):
            import torch

            return torch.gather(a, axis, xp.expand_dims(idx, axis=axis)).squeeze(axis)
        out = xp.take_along_axis(a, xp.expand_dims(idx, axis=axis), axis=axis)
        return xp.reshape(out, idx.shape)
    # libraries without take_along_axis (Dask): a one-hot select, still O(N C)
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]
    classes = xp.reshape(xp.arange(a.shape[axis]), tuple(shape))
    hit = classes == xp.expand_dims(idx, axis=axis)
    return xp.sum(xp.where(hit, a, xp.zeros_like(a)), axis=axis)


def _class_axis(x: Array, func: str) -> int:
    if x.ndim == 0:
        raise ValueError(f"{func}: input must have a class dimension, got a 0-d array")
    return 0 if x.ndim == 1 else 1


def _along(v: Array, ndim: int, axis: int, xp) -> Array:
    """Reshape a ``(C,)`` vector to broadcast along ``axis`` of an ``ndim`` array."""
    shape = [1] * ndim
    shape[axis] = v.shape[0]
    return xp.reshape(v, tuple(shape))


def _class_weight(weight: Array | None, n_classes: int, x: Array, xp, func: str):
    if weight is None:
        return None
    w = _cast_like(weight, x, xp, "weight", func)
    if tuple(w.shape) != (n_classes,):
        raise ValueError(
            f"{func}: weight must have shape ({n_classes},) (one per class), got {tuple(w.shape)}"
        )
    return w


def _class_targets(
    target: Array, x: Array, axis: int, ignore_index: int, xp, func: str
) -> tuple[Array, Array]:
    """Validate integer class targets; return (target with ignored set to 0, valid mask)."""
    if not xp.isdtype(target.dtype, "integral"):
        raise TypeError(
            f"{func}: class-index targets must have an integer dtype, got {target.dtype} "
            f"(probability targets must have the input's shape {tuple(x.shape)})"
        )
    expected = tuple(s for i, s in enumerate(x.shape) if i != axis)
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{func}: target shape {tuple(target.shape)} does not match input shape "
            f"{tuple(x.shape)}: expected {expected} (class indices) or {tuple(x.shape)} "
            "(class probabilities)"
        )
    n_classes = x.shape[axis]
    valid = target != ignore_index
    if not _lazy(target) and target.size:
        bad = valid & ((target < 0) | (target >= n_classes))
        if bool(xp.any(bad)):
            raise ValueError(
                f"{func}: target holds class indices outside [0, {n_classes}) that are not "
                f"ignore_index={ignore_index}"
            )
    if _is_torch(xp) and str(target.dtype) != "torch.int64":
        target = xp.astype(target, xp.int64)
    return xp.where(valid, target, xp.zeros_like(target)), valid


def _nll_terms(logp: Array, target: Array, weight: Array | None, ignore_index: int, axis: int, xp,
               func: str) -> tuple[Array, Array, Array, Array]:
    """Per-element ``-w[y] log p[y]`` (0 where ignored), the weights ``w[y]``, the valid mask,
    and the raw picked log-probabilities (NaN exactly on fully masked rows, ignored or not)."""
    y, valid = _class_targets(target, logp, axis, ignore_index, xp, func)
    picked = raw = _take_class(logp, y, axis, xp)
    if weight is None:
        wy = xp.astype(valid, logp.dtype)
    else:
        flat = xp.reshape(y, (-1,))
        wy = xp.reshape(xp.take(weight, flat, axis=0), y.shape) * xp.astype(valid, logp.dtype)
    # ignored positions and zero-weight classes contribute 0, even next to a -inf log-prob
    picked = xp.where(valid, picked, xp.zeros_like(picked))
    return -_mul0(wy, picked, xp), wy, valid, raw


def _reduce(per: Array, reduction: str, denom: Array | float | None, xp) -> Array:
    if reduction == "none":
        return per
    total = xp.sum(per)
    if reduction == "sum":
        return total
    if not hasattr(denom, "dtype"):
        denom = xp.asarray(denom, dtype=per.dtype)
    return _safe_div(total, denom, xp)


# ----------------------------------------------------------------------------------------------
# cross-entropy family
# ----------------------------------------------------------------------------------------------


def cross_entropy(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Array:
    r"""Cross-entropy between logits and targets, as :func:`torch.nn.functional.cross_entropy`.

    Parameters
    ----------
    input : array
        Unnormalised logits, shape ``(C,)`` (unbatched), ``(N, C)`` or ``(N, C, d1, ..., dK)``:
        the class dimension is 1 (0 when unbatched).
    target : array
        Either class indices (integer dtype) of shape ``()``, ``(N,)`` or
        ``(N, d1, ..., dK)`` with values in ``[0, C)`` or equal to ``ignore_index``; or class
        probabilities (floating dtype) of exactly the input's shape. As in torch, a target with
        the input's shape is read as probabilities.
    weight : array, optional
        Per-class rescaling weights, shape ``(C,)``.
    size_average, reduce : bool, optional
        torch's deprecated pair; when either is given it overrides ``reduction``
        (``reduce=False`` -> ``"none"``, else ``size_average`` False -> ``"sum"``).
    ignore_index : int, default -100
        Class-index targets equal to it contribute nothing, neither to the loss nor to the
        ``"mean"`` denominator. Must be negative with probability targets (as in torch).
    reduction : {"mean", "sum", "none"}
        See Notes for what ``"mean"`` divides by.
    label_smoothing : float in [0, 1]
        Mix the target with the uniform distribution: ``(1 - eps) * target + eps / C``.

    Returns
    -------
    array
        Scalar, or the per-element loss (shape of the input without the class dimension) for
        ``reduction="none"``; in the input's array library and dtype.

    Notes
    -----
    With :math:`\log p = \operatorname{log\_softmax}(x)` over the class dimension and
    :math:`\varepsilon` = ``label_smoothing``:

    *Class indices.* Element :math:`n` (not ignored) contributes
    :math:`(1-\varepsilon)\,w_{y_n}(-\log p_{n,y_n}) + \tfrac{\varepsilon}{C}
    \sum_c w_c(-\log p_{n,c})`, with :math:`w \equiv 1` when ``weight`` is None; ignored
    elements contribute 0. ``"mean"`` divides the sum by :math:`\sum_n w_{y_n}` over the
    non-ignored elements -- for both the NLL and the smoothing term, as torch does -- so it
    is NaN when every target is ignored.

    *Class probabilities.* Element :math:`n` contributes :math:`-\sum_c w_c\,t_{n,c}\log p_{n,c}`
    with :math:`t` already smoothed; ``"mean"`` divides by the number of elements
    (``N * d1 * ... * dK``), *not* by a sum of weights (torch's rule).

    Differences from torch (values torch gets wrong): a zero target probability meeting a
    masked (``-inf``) logit contributes 0, not NaN; a row whose logits are all ``-inf`` gives
    ``+inf`` (its target is masked), not NaN; a masked target class gives ``+inf``, as does
    label smoothing next to a masked logit (the smoothed target puts mass
    :math:`\varepsilon/C` on it). float16/bfloat16 inputs are computed in float32.
    Out-of-range class indices raise ValueError (torch: IndexError).

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import cross_entropy
    >>> x = np.array([[1.0, 2.0, 3.0], [1.0, -np.inf, 0.0]])
    >>> cross_entropy(x, np.array([2, 0]), reduction="none").round(6)
    array([0.407606, 0.313262])
    >>> round(float(cross_entropy(x, np.array([2, -100]))), 6)  # the ignored row is not counted
    0.407606

    Probability targets: a zero target next to a masked logit contributes 0 (torch: NaN):

    >>> round(float(cross_entropy(x, np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))), 6)
    0.360434
    """
    func = "cross_entropy"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, func)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{func}: label_smoothing must be in [0, 1], got {label_smoothing}")
    xp = _namespace(input, target, weight)
    x, out_dtype = _as_float(input, xp, "input", func)
    axis = _class_axis(x, func)
    n_classes = x.shape[axis]
    w = _class_weight(weight, n_classes, x, xp, func)
    eps = float(label_smoothing)

    if tuple(target.shape) == tuple(x.shape):  # class probabilities
        if ignore_index >= 0:
            raise ValueError(
                f"{func}: ignore_index={ignore_index} is not supported with probability targets"
            )
        if not (_is_half(target.dtype) or xp.isdtype(target.dtype, "real floating")):
            raise TypeError(
                f"{func}: a target with the input's shape holds class probabilities and must "
                f"be floating point, got {target.dtype}"
            )
        t = _cast_like(target, x, xp, "target", func)
        if eps > 0:
            t = t * (1.0 - eps) + eps / n_classes
        if w is not None:
            t = t * _along(w, x.ndim, axis, xp)
        logp = _log_softmax(x, axis, xp)
        per = -xp.sum(_mul0(t, logp, xp), axis=axis)
        n_elements = math.prod(per.shape)
        return _to_out(_reduce(per, reduction, float(n_elements), xp), out_dtype, xp)

    def terms(logp):
        per, wy, valid, raw = _nll_terms(logp, target, w, ignore_index, axis, xp, func)
        if eps > 0:
            if w is None:
                smooth = -xp.sum(logp, axis=axis)
            else:
                smooth = -xp.sum(_mul0(_along(w, x.ndim, axis, xp), logp, xp), axis=axis)
            smooth = xp.where(valid, smooth, xp.zeros_like(smooth))
            per = (1.0 - eps) * per + (eps / n_classes) * smooth
        return per, wy, raw

    if (_is_torch(xp) or _is_jax(xp)) and not _lazy(x):
        # fast path: the native kernel; it leaves NaN on a fully masked row (which would also
        # poison the gradient), so then -- only then -- redo it guarded
        per, wy, raw = terms(_log_softmax_native(x, axis, xp))
        if raw.size and bool(xp.any(xp.isnan(raw))):
            per, wy, _ = terms(_log_softmax(x, axis, xp))
    else:
        per, wy, _ = terms(_log_softmax_generic(x, axis, xp))
    return _to_out(_reduce(per, reduction, xp.sum(wy), xp), out_dtype, xp)


def nll_loss(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Array:
    r"""Negative log-likelihood of log-probabilities, as :func:`torch.nn.functional.nll_loss`.

    Parameters
    ----------
    input : array
        Log-probabilities, shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)`` (class
        dimension 1, or 0 when unbatched).
    target : array
        Integer class indices, shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)``, in ``[0, C)``
        or equal to ``ignore_index``.
    weight : array, optional
        Per-class weights, shape ``(C,)``.
    size_average, reduce : bool, optional
        torch's deprecated pair (see :func:`cross_entropy`).
    ignore_index : int, default -100
        Targets equal to it contribute 0 and are left out of the ``"mean"`` denominator.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` is :math:`\sum_n w_{y_n}(-x_{n,y_n}) / \sum_n w_{y_n}` over the non-ignored
        elements: NaN when all are ignored (as torch).

    Returns
    -------
    array
        Scalar, or the per-element loss for ``reduction="none"`` (0 where ignored).

    Notes
    -----
    A zero class weight next to a ``-inf`` log-probability contributes 0 (torch: NaN).
    Out-of-range indices raise ValueError.

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import nll_loss
    >>> logp = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    >>> nll_loss(logp, np.array([0, 2]), reduction="none").round(6)
    array([0.693147, 0.223144])
    >>> round(float(nll_loss(logp, np.array([0, 2]), weight=np.array([1.0, 1.0, 3.0]))), 6)
    0.340644
    """
    func = "nll_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, func)
    xp = _namespace(input, target, weight)
    x, out_dtype = _as_float(input, xp, "input", func)
    axis = _class_axis(x, func)
    w = _class_weight(weight, x.shape[axis], x, xp, func)
    per, wy, _, _ = _nll_terms(x, target, w, ignore_index, axis, xp, func)
    return _to_out(_reduce(per, reduction, xp.sum(wy), xp), out_dtype, xp)


# ----------------------------------------------------------------------------------------------
# binary cross-entropy
# ----------------------------------------------------------------------------------------------


def _same_shape(input: Array, target: Array, func: str) -> None:
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"{func}: target shape {tuple(target.shape)} must equal input shape "
            f"{tuple(input.shape)}"
        )


def _elementwise_reduce(per: Array, reduction: str, xp) -> Array:
    n = math.prod(per.shape)
    return _reduce(per, reduction, float(n), xp)


def _broadcast_to(a: Array, shape: tuple[int, ...], xp, name: str, func: str) -> Array:
    try:
        return xp.broadcast_to(a, shape)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{func}: {name} of shape {tuple(a.shape)} does not broadcast to {shape}"
        ) from exc


def binary_cross_entropy(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Array:
    r"""Binary cross-entropy of probabilities, as :func:`torch.nn.functional.binary_cross_entropy`.

    Element-wise :math:`-w\,[\,y\log x + (1-y)\log(1-x)\,]` with each logarithm clamped to be
    :math:`\ge -100` (torch's documented rule, so ``x = 0`` or ``1`` gives a finite loss).

    Parameters
    ----------
    input : array
        Probabilities in ``[0, 1]``, any shape.
    target : array
        Same shape as ``input``, values in ``[0, 1]``.
    weight : array, optional
        Rescaling weight broadcast against ``input``.
    size_average, reduce : bool, optional
        torch's deprecated pair (see :func:`cross_entropy`).
    reduction : {"mean", "sum", "none"}
        ``"mean"`` averages over all elements.

    Notes
    -----
    :math:`\log(1-x)` is evaluated as ``log1p(-x)``. Where a logarithm is clamped (``x`` within
    :math:`e^{-100}` of 0 or 1) the gradient is that of the clamped function; torch instead
    returns :math:`(x-y)/\max(x(1-x), 10^{-12})` there. Inputs outside ``[0, 1]`` raise
    ValueError (when the values can be inspected).

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import binary_cross_entropy
    >>> binary_cross_entropy(np.array([0.9, 0.2, 0.0]), np.array([1.0, 0.0, 1.0]),
    ...                      reduction="none").round(6)
    array([  0.105361,   0.223144, 100.      ])
    """
    func = "binary_cross_entropy"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, func)
    xp = _namespace(input, target, weight)
    _same_shape(input, target, func)
    x, out_dtype = _as_float(input, xp, "input", func)
    y = _cast_like(target, x, xp, "target", func)
    if not _lazy(x) and x.size and bool(xp.any((x < 0) | (x > 1))):
        raise ValueError(f"{func}: input must hold probabilities in [0, 1]")
    floor = -100.0
    zero, one = x == 0, x == 1
    log_x = xp.where(zero, floor, xp.log(xp.where(zero, 1.0, x)))
    log_1mx = xp.where(one, floor, xp.log1p(-xp.where(one, 0.0, x)))
    log_x = xp.maximum(log_x, xp.asarray(floor, dtype=x.dtype))
    log_1mx = xp.maximum(log_1mx, xp.asarray(floor, dtype=x.dtype))
    per = -(y * log_x + (1.0 - y) * log_1mx)
    if weight is not None:
        per = per * _cast_like(weight, x, xp, "weight", func)
        per = _broadcast_to(per, tuple(x.shape), xp, "weight", func)
    return _to_out(_elementwise_reduce(per, reduction, xp), out_dtype, xp)


def _softplus(x: Array, xp) -> Array:
    """``log(1 + exp(x))`` accurate and overflow-free, with the exact gradient sigmoid(x)."""
    pos = x > 0
    zero = xp.zeros_like(x)
    xpos, xneg = xp.where(pos, x, zero), xp.where(pos, zero, x)
    return xp.where(pos, xpos + xp.log1p(xp.exp(-xpos)), xp.log1p(xp.exp(xneg)))


def binary_cross_entropy_with_logits(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Array | None = None,
) -> Array:
    r"""Binary cross-entropy from logits, as torch's ``binary_cross_entropy_with_logits``.

    Element-wise
    :math:`w\,[\,p_c\,y\,\operatorname{softplus}(-x) + (1-y)\operatorname{softplus}(x)\,]`
    (:math:`-\log\sigma(x) = \operatorname{softplus}(-x)`), evaluated without overflow.

    Parameters
    ----------
    input : array
        Logits, any shape.
    target : array
        Same shape as ``input``, values in ``[0, 1]``.
    weight : array, optional
        Rescaling weight broadcast against ``input``.
    size_average, reduce : bool, optional
        torch's deprecated pair (see :func:`cross_entropy`).
    reduction : {"mean", "sum", "none"}
        ``"mean"`` averages over all elements.
    pos_weight : array, optional
        Weight :math:`p_c` of the positive term, broadcast against ``target`` (e.g. shape
        ``(C,)`` for targets ``(N, C)``).

    Notes
    -----
    An infinite logit whose term has a zero coefficient (``x = +inf`` with ``y = 1``)
    contributes 0, not NaN as in torch.

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import binary_cross_entropy_with_logits as bce
    >>> bce(np.array([0.0, 3.0, -800.0]), np.array([1.0, 1.0, 0.0]), reduction="none").round(6)
    array([0.693147, 0.048587, 0.      ])
    >>> round(float(bce(np.array([0.0]), np.array([1.0]), pos_weight=np.array([3.0]))), 6)
    2.079442
    """
    func = "binary_cross_entropy_with_logits"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, func)
    xp = _namespace(input, target, weight, pos_weight)
    _same_shape(input, target, func)
    x, out_dtype = _as_float(input, xp, "input", func)
    y = _cast_like(target, x, xp, "target", func)
    neg = _mul0(1.0 - y, _softplus(x, xp), xp)
    pos_coef = y if pos_weight is None else y * _cast_like(pos_weight, x, xp, "pos_weight", func)
    per = neg + _mul0(pos_coef, _softplus(-x, xp), xp)
    if weight is not None:
        per = _mul0(_cast_like(weight, x, xp, "weight", func), per, xp)
    per = _broadcast_to(per, tuple(x.shape), xp, "weight/pos_weight", func)
    return _to_out(_elementwise_reduce(per, reduction, xp), out_dtype, xp)


# ----------------------------------------------------------------------------------------------
# KL divergence and distillation
# ----------------------------------------------------------------------------------------------


def _kl_pointwise(input: Array, target: Array, log_target: bool, xp) -> Array:
    """``t (log t - input)`` with ``0 log 0 = 0`` -- also against a ``-inf`` input."""
    if log_target:
        dead = target == -math.inf  # zero probability: contributes 0
        zero = xp.zeros_like(target)
        t = xp.where(dead, zero, target)
        inp = xp.where(dead, xp.zeros_like(input), input)
        return xp.where(dead, zero, xp.exp(t) * (t - inp))
    dead = target == 0
    t = xp.where(dead, xp.ones_like(target), target)
    inp = xp.where(dead, xp.zeros_like(input), input)
    return xp.where(dead, xp.zeros_like(target), target * (xp.log(t) - inp))


def kl_div(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Array:
    r"""Pointwise KL divergence, as :func:`torch.nn.functional.kl_div`.

    ``input`` holds log-probabilities :math:`\log q`; ``target`` holds probabilities :math:`p`
    (or :math:`\log p` with ``log_target=True``). Element-wise :math:`p(\log p - \log q)`.

    Parameters
    ----------
    input : array
        Log-probabilities.
    target : array
        Probabilities (``>= 0``) or, with ``log_target=True``, log-probabilities; broadcast
        against ``input``.
    size_average, reduce : bool, optional
        torch's deprecated pair (see :func:`cross_entropy`).
    reduction : {"mean", "batchmean", "sum", "none"}
        ``"mean"`` divides the sum by the number of *elements* (torch's default, rarely what is
        meant); ``"batchmean"`` divides by ``input.shape[0]`` (the true KL per sample for
        ``(N, C)`` input; a 0-d input is not divided).
    log_target : bool
        Whether ``target`` is given in log space.

    Notes
    -----
    :math:`0 \log 0 = 0`: a zero target probability (``target == 0``, or ``-inf`` with
    ``log_target=True``) contributes 0 whatever ``input`` is, including ``-inf`` -- torch
    returns NaN for both. A positive target against ``input = -inf`` gives ``+inf``.
    Negative probabilities raise ValueError when values can be inspected.

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import kl_div
    >>> logq = np.array([[np.log(0.5), np.log(0.5), -np.inf]])
    >>> logp = np.array([[0.0, -np.inf, -np.inf]])   # p = (1, 0, 0)
    >>> kl_div(logq, logp, reduction="none", log_target=True).round(6)
    array([[0.693147, 0.      , 0.      ]])
    >>> round(float(kl_div(logq, logp, reduction="batchmean", log_target=True)), 6)
    0.693147
    """
    func = "kl_div"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, func, ("none", "mean", "batchmean", "sum"))
    xp = _namespace(input, target)
    x, out_dtype = _as_float(input, xp, "input", func)
    t = _cast_like(target, x, xp, "target", func)
    if not log_target and not _lazy(t) and t.size and bool(xp.any(t < 0)):
        raise ValueError(f"{func}: target probabilities must be >= 0 (use log_target=True?)")
    try:
        shape = tuple(xp.broadcast_arrays(x, t)[0].shape)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{func}: input shape {tuple(x.shape)} and target shape {tuple(t.shape)} do not "
            "broadcast"
        ) from exc
    x, t = xp.broadcast_to(x, shape), xp.broadcast_to(t, shape)
    per = _kl_pointwise(x, t, log_target, xp)
    if reduction == "batchmean":
        total = xp.sum(per)
        r = total / input.shape[0] if input.ndim > 0 else total
    else:
        r = _elementwise_reduce(per, reduction, xp)
    return _to_out(r, out_dtype, xp)


_DIRECTIONS = ("forward", "reverse", "js")


def distillation(
    student_logits: Array,
    teacher_logits: Array,
    *,
    target: Array | None = None,
    temperature: float = 1.0,
    direction: str = "forward",
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Array:
    r"""Temperature-scaled knowledge-distillation loss (Hinton et al., 2015).

    With :math:`p_T = \operatorname{softmax}(z_T/T)` (teacher) and
    :math:`p_S = \operatorname{softmax}(z_S/T)` (student) over the class dimension, each
    position contributes :math:`T^2 D(\cdot)` where :math:`D` is

    - ``"forward"``: :math:`\mathrm{KL}(p_T \,\|\, p_S)` (the classic KD loss, mean-seeking),
    - ``"reverse"``: :math:`\mathrm{KL}(p_S \,\|\, p_T)` (mode-seeking),
    - ``"js"``: :math:`\tfrac12\mathrm{KL}(p_T\|m) + \tfrac12\mathrm{KL}(p_S\|m)`,
      :math:`m = \tfrac12(p_T+p_S)` (bounded by :math:`\log 2`).

    The factor :math:`T^2` keeps the gradient magnitude independent of the temperature (the
    soft-target gradients scale as :math:`1/T^2`), so the loss can be mixed with a hard-label
    cross-entropy without retuning its weight.

    Parameters
    ----------
    student_logits, teacher_logits : array
        Logits of the same shape ``(C,)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``: class
        dimension 1 (0 unbatched), as in :func:`cross_entropy`. Gradients flow into both;
        detach the teacher yourself if it is frozen.
    target : array, optional
        Integer labels shaped like the input without the class dimension; positions where
        ``target == ignore_index`` (padding) are left out. Other values are not used.
    temperature : float, default 1.0
        Softmax temperature :math:`T > 0`.
    direction : {"forward", "reverse", "js"}
    ignore_index : int, default -100
    reduction : {"mean", "sum", "none"}
        ``"mean"`` averages the per-position divergence over non-ignored positions (NaN if
        none) -- i.e. torch's ``kl_div(..., reduction="batchmean")`` for 2-D input;
        ``"none"`` returns it per position (0 where ignored).

    Notes
    -----
    Computed in log space (log-softmax; the JS mixture via ``logaddexp``) with
    :math:`0\log 0 = 0`, so masked (``-inf``) logits in both models contribute 0, and the
    result is never negative beyond rounding. A class masked in the student but not in the
    teacher makes the forward KL ``+inf``.

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.losses import distillation
    >>> s = np.array([[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    >>> t = np.array([[2.0, 0.0, -2.0], [5.0, 0.0, 0.0]])
    >>> distillation(s, t, temperature=2.0, reduction="none").round(6)
    array([0.241076, 2.376226])
    >>> round(float(distillation(s, t, target=np.array([0, -100]), temperature=2.0)), 6)
    0.241076
    """
    func = "distillation"
    _check_reduction(reduction, func)
    if direction not in _DIRECTIONS:
        raise ValueError(f"{func}: direction must be one of {_DIRECTIONS}, got {direction!r}")
    if not (isinstance(temperature, int | float) and math.isfinite(temperature)
            and temperature > 0):
        raise ValueError(f"{func}: temperature must be a finite number > 0, got {temperature}")
    xp = _namespace(student_logits, teacher_logits, target)
    s, out_dtype = _as_float(student_logits, xp, "student_logits", func)
    t, _ = _as_float(teacher_logits, xp, "teacher_logits", func)
    if tuple(s.shape) != tuple(t.shape):
        raise ValueError(
            f"{func}: student_logits {tuple(s.shape)} and teacher_logits {tuple(t.shape)} "
            "must have the same shape"
        )
    if t.dtype != s.dtype:
        t = xp.astype(t, s.dtype)
    axis = _class_axis(s, func)
    T = float(temperature)
    if T != 1.0:
        s, t = s / T, t / T
    log_s, log_t = _log_softmax(s, axis, xp), _log_softmax(t, axis, xp)

    def kl(log_p: Array, log_q: Array) -> Array:
        return xp.sum(_kl_pointwise(log_q, log_p, True, xp), axis=axis)

    if direction == "forward":
        per = kl(log_t, log_s)
    elif direction == "reverse":
        per = kl(log_s, log_t)
    else:
        log_m = xp.logaddexp(log_s, log_t) - math.log(2.0)
        per = 0.5 * kl(log_t, log_m) + 0.5 * kl(log_s, log_m)
    per = per * (T * T)
    if target is None:
        count = float(math.prod(per.shape))
    else:
        expected = tuple(n for i, n in enumerate(s.shape) if i != axis)
        if tuple(target.shape) != expected:
            raise ValueError(
                f"{func}: target shape {tuple(target.shape)} must be {expected} (the logits' "
                "shape without the class dimension)"
            )
        valid = target != ignore_index
        per = xp.where(valid, per, xp.zeros_like(per))
        count = xp.sum(xp.astype(valid, per.dtype))
    return _to_out(_reduce(per, reduction, count, xp), out_dtype, xp)


# ----------------------------------------------------------------------------------------------
# linear + cross-entropy
# ----------------------------------------------------------------------------------------------


def linear_cross_entropy(
    input: Array,
    linear_weight: Array,
    target: Array,
    *,
    linear_bias: Array | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    chunk_size: int | None = None,
) -> Array:
    r"""``cross_entropy(input @ linear_weight.T + linear_bias, target)`` without the logits.

    For a language-model head (``N`` tokens, hidden size ``d``, vocabulary ``V``) the dense
    path holds ``N x V`` logits, their log-softmax and their gradient -- gigabytes. On PyTorch
    this function walks the rows in chunks, computes each chunk's logits, log-sum-exp, loss and
    the gradients of ``input``, ``linear_weight`` and ``linear_bias`` in the forward pass, and
    lets backward merely rescale them; only one ``chunk_size x V`` block exists at a time.
    Every option stays chunked (class weights, ignore_index, label smoothing, probability
    targets, K-dimensional weights, ``z_loss``, ``softcap``, half precision). When no gradient
    is needed (``torch.no_grad()`` or no argument requiring grad) no gradient is computed.
    Other array libraries (NumPy, JAX) compute the same loss densely.

    Parameters
    ----------
    input : array
        Hidden states, shape ``(d,)`` or ``(N, d)``.
    linear_weight : array
        Shape ``(C, d)``, or ``(C, d1, ..., dK, d)`` for a K-dimensional loss (then the logits
        are ``(N, C, d1, ..., dK)`` and ``input`` must be batched), as in
        :func:`torch.nn.functional.linear_cross_entropy`.
    target : array
        Class indices (integer, shape ``()``, ``(N,)`` or ``(N, d1, ..., dK)``) or class
        probabilities of the logits' shape, as in :func:`cross_entropy`.
    linear_bias : array, optional
        Shape ``(C,)`` or ``(C, d1, ..., dK)``. ``-inf`` entries mask classes.
    weight, reduction, ignore_index, label_smoothing
        As in :func:`cross_entropy`; the cross-entropy part equals it exactly.
    z_loss : float, default 0
        Coefficient of PaLM's auxiliary :math:`\log^2 Z` term (:math:`\log Z` = log-sum-exp of
        the logits), added per non-ignored position *without* class weights: ``"mean"`` adds
        ``z_loss * mean(logZ**2)`` over the non-ignored positions, ``"sum"`` the sum and
        ``"none"`` the per-position value.
    softcap : float, optional
        Cap the logits smoothly to ``(-softcap, softcap)``: ``softcap * tanh(logits / softcap)``
        before the softmax (Gemma 2).
    chunk_size : int, optional
        Rows per chunk (torch). Default: ``2**23 // C`` (a 32 MiB float32 block of logits),
        clamped to [256, 2048] rows -- 256 rows for vocabularies of 32768 and up, as fast as
        larger chunks on CPU at a fraction of their memory.

    Returns
    -------
    array
        As :func:`cross_entropy`.

    Notes
    -----
    Differences from :func:`torch.nn.functional.linear_cross_entropy`: ``ignore_index``
    defaults to -100 (must be negative with probability targets), torch's ``options`` is
    replaced by ``chunk_size``, ``z_loss`` and ``softcap`` are extra, and torch's chunked path
    falls back to dense logits for label smoothing, probability targets and K-dim weights
    while this one does not. The torch path does not support double backward, and with
    ``reduction="mean"``/``"sum"`` a second ``backward()`` through the same graph raises (the
    precomputed gradients are handed over, not copied); ``reduction="none"`` recomputes the
    chunks in backward instead. Half-precision inputs are computed in float32 (one float32
    copy of the weight) and gradients cast back.

    Examples
    --------
    >>> import torch
    >>> from kullback.losses import linear_cross_entropy
    >>> g = torch.Generator().manual_seed(0)
    >>> h = torch.randn(6, 4, dtype=torch.float64, generator=g, requires_grad=True)
    >>> W = torch.randn(10, 4, dtype=torch.float64, generator=g, requires_grad=True)
    >>> y = torch.tensor([1, 2, 3, 4, 5, -100])
    >>> loss = linear_cross_entropy(h, W, y, label_smoothing=0.1, chunk_size=4)
    >>> dense = torch.nn.functional.cross_entropy(h @ W.T, y, label_smoothing=0.1)
    >>> bool(torch.isclose(loss, dense, rtol=1e-12))
    True
    >>> loss.backward()
    >>> bool(torch.allclose(W.grad, torch.autograd.grad(dense, W)[0], rtol=1e-10))
    True
    """
    func = "linear_cross_entropy"
    _check_reduction(reduction, func)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{func}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if not (math.isfinite(z_loss) and z_loss >= 0):
        raise ValueError(f"{func}: z_loss must be a finite number >= 0, got {z_loss}")
    if softcap is not None and not (math.isfinite(softcap) and softcap > 0):
        raise ValueError(f"{func}: softcap must be None or a finite number > 0, got {softcap}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int)
                                   or chunk_size < 1):
        raise ValueError(f"{func}: chunk_size must be a positive int or None, got {chunk_size}")
    xp = _namespace(input, linear_weight, target, linear_bias, weight)
    if _is_torch(xp):
        from kullback.losses._linear_ce import linear_cross_entropy_torch

        return linear_cross_entropy_torch(
            input, linear_weight, target, linear_bias=linear_bias, weight=weight,
            reduction=reduction, ignore_index=ignore_index, label_smoothing=label_smoothing,
            z_loss=z_loss, softcap=softcap, chunk_size=chunk_size,
        )
    return _linear_cross_entropy_dense(
        input, linear_weight, target, linear_bias, weight, reduction, ignore_index,
        label_smoothing, z_loss, softcap, xp,
    )


def _linear_cross_entropy_dense(input, linear_weight, target, linear_bias, weight, reduction,
                                ignore_index, label_smoothing, z_loss, softcap, xp):
    func = "linear_cross_entropy"
    h, out_dtype = _as_float(input, xp, "input", func)
    W = _cast_like(linear_weight, h, xp, "linear_weight", func)
    if h.ndim not in (1, 2):
        raise ValueError(f"{func}: input must have shape (d,) or (N, d), got {tuple(h.shape)}")
    if W.ndim < 2 or W.shape[-1] != h.shape[-1]:
        raise ValueError(
            f"{func}: linear_weight must have shape (C, ..., {h.shape[-1]}), got {tuple(W.shape)}"
        )
    if W.ndim > 2 and h.ndim == 1:
        raise ValueError(f"{func}: a K-dimensional linear_weight needs batched input (N, d)")
    out_shape = tuple(W.shape[:-1])
    W2 = xp.reshape(W, (-1, W.shape[-1]))
    logits = xp.matmul(h, xp.matrix_transpose(W2)) if h.ndim == 2 else xp.matmul(W2, h)
    logits = xp.reshape(logits, (*tuple(h.shape[:-1]), *out_shape))
    if linear_bias is not None:
        b = _cast_like(linear_bias, h, xp, "linear_bias", func)
        if tuple(b.shape) != out_shape:
            raise ValueError(f"{func}: linear_bias must have shape {out_shape}, got {b.shape}")
        logits = logits + b
    if softcap is not None:
        logits = softcap * xp.tanh(logits / softcap)
    ce = cross_entropy(logits, target, weight=weight, ignore_index=ignore_index,
                       reduction=reduction, label_smoothing=label_smoothing)
    if z_loss:
        axis = _class_axis(logits, func)
        lse = xp.squeeze(_logsumexp(logits, axis, xp), axis=axis)
        if tuple(target.shape) == tuple(logits.shape):
            valid = xp.ones(lse.shape, dtype=xp.bool)
        else:
            valid = target != ignore_index
        zz = xp.where(valid, lse * lse, xp.zeros_like(lse))
        count = xp.sum(xp.astype(valid, lse.dtype))
        ce = ce + z_loss * _reduce(zz, reduction, count, xp)
    return _to_out(ce, out_dtype, xp)


def _logsumexp(x: Array, axis: int, xp) -> Array:
    return _kernels.logsumexp(xp, x, axis=axis)
