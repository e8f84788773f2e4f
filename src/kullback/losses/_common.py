"""What every loss shares: the array namespace, options, dtypes, reductions, class indices and
weights, the guarded log-softmax, and the checks (with their messages) for bad input.

Each loss module validates through these helpers, so a message reads the same whichever loss
raises it. The native fast paths (one module per array library, declared once in
:data:`NATIVE`) are looked up here too.
"""

from __future__ import annotations

import importlib
import math
import sys
import warnings
from collections.abc import Callable
from typing import Any

import array_api_compat

from kullback import _xp
from kullback.measures import _kernels

__all__ = [
    "DOOR_TABLES",
    "NATIVE",
    "REDUCTIONS",
    "Array",
    "DoorTable",
    "along",
    "apply_reduction",
    "broadcast_shape",
    "cast_like",
    "check_broadcast",
    "check_class_indices",
    "check_in_unit_interval",
    "check_index_target",
    "check_same_shape",
    "class_axis",
    "class_weight",
    "door_table",
    "elementwise_reduce",
    "first_true",
    "floating",
    "is_floating",
    "is_lazy",
    "log_softmax",
    "logsumexp",
    "mul0",
    "namespace",
    "native",
    "nll_terms",
    "raise_bad_class_index",
    "raise_outside_unit_interval",
    "reduction_of",
    "safe_div",
    "smoothing_of",
    "take_class",
    "to_out",
]

Array = Any

REDUCTIONS = ("none", "mean", "sum")

#: Native fast paths, one module per kind of array library (see :func:`namespace`): each defines
#: some losses under their public names, taking prepared operands and returning the loss, or
#: None where the library's kernel would not give exactly this package's value (the generic
#: array-API path then runs). A library without an entry always takes the generic path.
NATIVE: dict[str, str] = {"torch": "kullback.losses._torch", "jax": "kullback.losses._jax"}

_NATIVE_FUNCTIONS: dict[tuple[str, str], Callable[..., Any] | None] = {}

# (types of the operands) -> (namespace, kind): array_api_compat's lookup, once per type mix
_NAMESPACES: dict[tuple[type, ...], tuple[Any, str]] = {}


def _kind(xp: Any) -> str:
    if array_api_compat.is_torch_namespace(xp):
        return "torch"
    if array_api_compat.is_jax_namespace(xp):
        return "jax"
    return "other"


def _lookup(arrays: tuple[Any, ...]) -> tuple[Any, str]:
    key = tuple(map(type, arrays))
    hit = _NAMESPACES.get(key)
    if hit is None:
        present = [a for a in arrays if a is not None and not isinstance(a, int | float | bool)]
        try:
            xp = array_api_compat.array_namespace(*present)
        except TypeError as exc:
            raise TypeError(f"expected arrays of one array library, got {exc}") from None
        hit = _NAMESPACES[key] = (xp, _kind(xp))
    return hit


def namespace(*arrays: Any) -> tuple[Any, str]:
    """The array namespace of the operands (``None`` and Python scalars are skipped) and its
    kind, ``"torch"``, ``"jax"`` or ``"other"`` (which native fast paths may apply)."""
    return _lookup(arrays)


def native(kind: str, loss: str) -> Callable[..., Any] | None:
    """The native fast path of ``loss`` for an array library ``kind``, or None."""
    module = NATIVE.get(kind)
    if module is None:
        return None
    key = (module, loss)
    if key not in _NATIVE_FUNCTIONS:
        _NATIVE_FUNCTIONS[key] = getattr(importlib.import_module(module), loss, None)
    return _NATIVE_FUNCTIONS[key]


class DoorTable(dict):
    """Array type -> the front door of one loss for arrays of that exact type (None: no door),
    filled on first sight of a type (see :func:`door_table`)."""

    def __init__(self, loss: str) -> None:
        super().__init__()
        self.loss = loss

    def __missing__(self, kind: type) -> Callable[..., Any] | None:
        door = self[kind] = _find_door(kind, self.loss)
        return door


#: loss -> its door table (tests close a door by setting a table's entry to None)
DOOR_TABLES: dict[str, DoorTable] = {}


def door_table(loss: str) -> DoorTable:
    """The front doors of ``loss``, per array type: ``door = table[type(input)]``.

    A front door takes the public arguments (positionally) and returns the loss when they are
    the library's plain arrays in a dtype computed as is, with options it can check in a few
    attribute reads -- skipping the generic preparation (namespace, dtype and shape checks),
    which costs more than the whole kernel at small shapes; otherwise None, and the caller
    takes the full path (which also raises the named errors). Doors are declared in the
    ``DOORS`` table of a native module (:data:`NATIVE`); only torch's declares any. One dict
    lookup per call: at 1024 x 32000 ``nll_loss`` is a 5 us kernel call.
    """
    table = DOOR_TABLES[loss] = DoorTable(loss)
    return table


def _find_door(kind: type, loss: str) -> Callable[..., Any] | None:
    """torch's door for ``torch.Tensor`` itself; subclasses (``nn.Parameter``, tensor-likes
    with their own ``__torch_function__``) take the full path."""
    torch = sys.modules.get("torch")  # a torch tensor exists only once torch is imported
    module = NATIVE.get("torch")
    if torch is None or module is None or kind is not torch.Tensor:
        return None
    return getattr(importlib.import_module(module), "DOORS", {}).get(loss)


def is_lazy(*arrays: Any) -> bool:
    """True when values cannot be inspected (Dask arrays, JAX tracers under jit/grad)."""
    return any(a is not None and _xp.is_lazy(a) for a in arrays)


# ---------------------------------------------------------------------------------- options


def reduction_of(
    size_average: bool | None,
    reduce: bool | None,
    reduction: str,
    func: str,
    allowed: tuple[str, ...] = REDUCTIONS,
) -> str:
    """The reduction to apply: torch's deprecated ``size_average``/``reduce`` pair (with a
    DeprecationWarning) overrides ``reduction``; an unknown reduction raises ValueError."""
    if size_average is not None or reduce is not None:
        warnings.warn(
            "size_average and reduce are deprecated (as in torch); use "
            "reduction='none'|'mean'|'sum'",
            DeprecationWarning,
            stacklevel=3,
        )
        if reduce is False:
            reduction = "none"
        else:
            reduction = "sum" if size_average is False else "mean"
    if reduction not in allowed:
        raise ValueError(f"{func}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


def smoothing_of(label_smoothing: float, func: str) -> float:
    """``label_smoothing`` as a float in [0, 1], or ValueError."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{func}: label_smoothing must be in [0, 1], got {label_smoothing}")
    return float(label_smoothing)


# ----------------------------------------------------------------------------------- dtypes


def _is_half(dtype: Any) -> bool:
    return str(dtype).rsplit(".", 1)[-1] in ("float16", "bfloat16")


def is_floating(dtype: Any, xp: Any) -> bool:
    """Whether ``dtype`` is a real floating dtype, half precision included."""
    return _dtype_facts(dtype, xp)[0]


def _dtype_facts(dtype: Any, xp: Any) -> tuple[bool, Any]:
    """(floating?, compute dtype), looked up once per (namespace, dtype)."""
    key = (id(xp), dtype)
    facts = _DTYPES.get(key)
    if facts is None:
        floats = _is_half(dtype) or bool(xp.isdtype(dtype, "real floating"))
        facts = _DTYPES[key] = (floats, _xp.compute_dtype(xp, dtype) if floats else None)
    return facts


_DTYPES: dict[tuple[int, Any], tuple[bool, Any]] = {}


def floating(x: Array, xp: Any, name: str, func: str) -> tuple[Array, Any]:
    """``x`` in its compute dtype (:func:`kullback._xp.compute_dtype`: half precision is
    computed in float32) and the dtype to return results in; TypeError unless floating."""
    dtype = x.dtype
    floats, compute = _dtype_facts(dtype, xp)
    if not floats:
        raise TypeError(f"{func}: {name} must have a real floating dtype, got {dtype}")
    return (x if compute == dtype else xp.astype(x, compute)), dtype


def cast_like(a: Array | None, x: Array, xp: Any, name: str, func: str) -> Array | None:
    """An optional real array (weights, targets) in the compute dtype of ``x``."""
    if a is None or a.dtype == x.dtype:
        return a
    if not (_is_half(a.dtype) or xp.isdtype(a.dtype, ("real floating", "integral", "bool"))):
        raise TypeError(f"{func}: {name} must be real, got dtype {a.dtype}")
    return xp.astype(a, x.dtype)


def to_out(r: Array, dtype: Any, xp: Any) -> Array:
    """The result in the dtype the caller gave (half precision cast back)."""
    return r if r.dtype == dtype else xp.astype(r, dtype)


# --------------------------------------------------------------------------------- checks


def check_same_shape(input: Array, target: Array, func: str) -> None:
    """ValueError unless ``target`` has ``input``'s shape."""
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"{func}: target shape {tuple(target.shape)} must equal input shape "
            f"{tuple(input.shape)}"
        )


def broadcast_shape(a: Array, b: Array, func: str) -> tuple[int, ...]:
    """The broadcast shape of two arrays (shapes only), or ValueError naming both."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    if sa == sb:
        return sa
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    if any(i != j and 1 not in (i, j) for i, j in zip(pa, pb, strict=True)):
        raise ValueError(f"{func}: input shape {sa} and target shape {sb} do not broadcast")
    return tuple(max(i, j) if 0 not in (i, j) else 0 for i, j in zip(pa, pb, strict=True))


def check_broadcast(a: Array | None, shape: tuple[int, ...], name: str, func: str) -> None:
    """ValueError naming ``name`` and both shapes unless ``a`` broadcasts to ``shape``
    (to it, not beyond it: the loss keeps the input's shape). Shapes only: no computation."""
    if a is None:
        return
    own = tuple(a.shape)
    fits = len(own) <= len(shape) and all(
        s in (1, n) for s, n in zip(reversed(own), reversed(shape), strict=False)
    )
    if not fits:
        raise ValueError(
            f"{func}: {name} of shape {own} does not broadcast to the input's shape {shape}"
        )


def first_true(mask: Array, xp: Any) -> tuple[int, ...]:
    """The index (a tuple, C order) of the first True entry of an eager boolean array."""
    flat = xp.reshape(mask, (-1,))
    i = int(xp.argmax(xp.astype(flat, xp.int8)))
    index = []
    for n in reversed(tuple(mask.shape)):
        i, r = divmod(i, n)
        index.append(r)
    return tuple(reversed(index))


def _value_at(a: Array, index: tuple[int, ...], xp: Any) -> float:
    """The entry of an eager array at ``index``, as a Python number (detached from autograd)."""
    flat = sum(i * s for i, s in zip(index, _strides(a.shape), strict=True))
    value = xp.reshape(a, (-1,))[flat]
    return float(value.detach() if hasattr(value, "detach") else value)


def _strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    out, step = [], 1
    for n in reversed(tuple(shape)):
        out.append(step)
        step *= n
    return tuple(reversed(out))


def check_in_unit_interval(arrays: dict[str, Array], xp: Any, func: str) -> None:
    """ValueError naming the argument, the first offending value and its index unless every
    entry of each (eager) array lies in [0, 1]; NaN is not in [0, 1]. One fused reduction per
    array; lazy arrays are not inspected."""
    for name, a in arrays.items():
        if is_lazy(a) or not a.size:
            continue
        outside = ~((a >= 0) & (a <= 1))
        if bool(xp.any(outside)):
            raise_outside_unit_interval(name, a, outside, xp, func)


def raise_outside_unit_interval(name: str, a: Array, outside: Array, xp: Any, func: str):
    """The ValueError of :func:`check_in_unit_interval` (its position found only now)."""
    where = first_true(outside, xp)
    value = _value_at(a, where, xp)
    raise ValueError(
        f"{func}: {name} must hold probabilities in [0, 1]; got {value!r} at index "
        f"{where if len(where) != 1 else where[0]}"
    )


def class_axis(x: Array, func: str) -> int:
    """The class dimension: 1, or 0 for an unbatched ``(C,)`` input."""
    if x.ndim == 0:
        raise ValueError(f"{func}: input must have a class dimension, got a 0-d array")
    return 0 if x.ndim == 1 else 1


def class_weight(weight: Array | None, n_classes: int, x: Array, xp: Any, func: str):
    """Per-class weights of shape ``(C,)`` in ``x``'s dtype, or None."""
    if weight is None:
        return None
    w = cast_like(weight, x, xp, "weight", func)
    if tuple(w.shape) != (n_classes,):
        raise ValueError(
            f"{func}: weight must have shape ({n_classes},) (one per class), got {tuple(w.shape)}"
        )
    return w


def check_index_target(target: Array, x: Array, axis: int, xp: Any, func: str) -> None:
    """TypeError/ValueError unless ``target`` is integer class indices of ``x``'s shape
    without the class dimension (shapes and dtypes only)."""
    if not _is_integral(target.dtype, xp):
        raise TypeError(
            f"{func}: class-index targets must have an integer dtype, got {target.dtype} "
            f"(probability targets must have the input's shape {tuple(x.shape)})"
        )
    shape = x.shape
    expected = shape[:axis] + shape[axis + 1 :]
    if target.shape != expected:
        raise ValueError(
            f"{func}: target shape {tuple(target.shape)} does not match input shape "
            f"{tuple(x.shape)}: expected {tuple(expected)} (class indices) or {tuple(x.shape)} "
            "(class probabilities)"
        )


def _is_integral(dtype: Any, xp: Any) -> bool:
    key = (id(xp), dtype)
    integral = _INTEGRAL.get(key)
    if integral is None:
        integral = _INTEGRAL[key] = bool(xp.isdtype(dtype, "integral"))
    return integral


_INTEGRAL: dict[tuple[int, Any], bool] = {}


def raise_bad_class_index(target: Array, bad: Array, n_classes: int, ignore_index: int,
                          xp: Any, func: str):
    """The ValueError for class indices outside ``[0, C)`` (other than ``ignore_index``)."""
    where = first_true(bad, xp)
    value = int(_value_at(target, where, xp))
    raise ValueError(
        f"{func}: target holds class indices outside [0, {n_classes}) that are not "
        f"ignore_index={ignore_index}: {value} at index {where if len(where) != 1 else where[0]}"
    )


def check_class_indices(target: Array, n_classes: int, ignore_index: int, xp: Any,
                        func: str) -> Array:
    """The mask of non-ignored targets; ValueError for an (eager) index outside ``[0, C)``."""
    valid = target != ignore_index
    if not is_lazy(target) and target.size:
        bad = valid & ((target < 0) | (target >= n_classes))
        if bool(xp.any(bad)):
            raise_bad_class_index(target, bad, n_classes, ignore_index, xp, func)
    return valid


# ------------------------------------------------------------------------------ arithmetic


def safe_div(s: Array, d: Array, xp: Any) -> Array:
    """``s / d`` with NaN (never a warning) when ``d == 0``: the mean over nothing."""
    zero = d == 0
    return xp.where(zero, xp.asarray(math.nan, dtype=s.dtype), s / xp.where(zero, 1.0, d))


def mul0(a: Array, b: Array, xp: Any) -> Array:
    """``a * b`` with ``0 * (+-inf) = 0`` (the convention 0 log 0 = 0), gradient-safe."""
    bad = (a == 0) & xp.isinf(b)
    return a * xp.where(bad, xp.zeros_like(b), b)


def apply_reduction(per: Array, reduction: str, denom: Array | float | None, xp: Any) -> Array:
    """``per`` itself, its sum, or its sum over ``denom`` (NaN when ``denom`` is 0)."""
    if reduction == "none":
        return per
    total = xp.sum(per)
    if reduction == "sum":
        return total
    if not hasattr(denom, "dtype"):
        denom = xp.asarray(denom, dtype=per.dtype)
    return safe_div(total, denom, xp)


def elementwise_reduce(per: Array, reduction: str, xp: Any) -> Array:
    """:func:`reduce` where ``"mean"`` divides by the number of elements."""
    return apply_reduction(per, reduction, float(math.prod(per.shape)), xp)


def along(v: Array, ndim: int, axis: int, xp: Any) -> Array:
    """Reshape a ``(C,)`` vector to broadcast along ``axis`` of an ``ndim`` array."""
    shape = [1] * ndim
    shape[axis] = v.shape[0]
    return xp.reshape(v, tuple(shape))


# ------------------------------------------------------------------------ log-probabilities


def _log_softmax_native(x: Array, axis: int, kind: str) -> Array:
    if kind == "torch":
        import torch

        return torch.log_softmax(x, dim=axis)
    import jax

    return jax.nn.log_softmax(x, axis=axis)


def log_softmax(x: Array, axis: int, xp: Any, kind: str = "other") -> Array:
    """Log-softmax along ``axis``; a fully masked row gives ``-inf`` everywhere, never NaN.

    Eager torch/JAX arrays take the native kernel unless a row whose logits are all ``-inf``
    is present; lazy or traced arrays and other libraries take the guarded
    :func:`kullback.measures._kernels.log_normalize` (branch-free, so ``jax.jit`` compiles it
    once).
    """
    if kind in ("torch", "jax") and not is_lazy(x):
        if x.shape[axis] == 0 or not bool(xp.any(xp.max(x, axis=axis) == -math.inf)):
            return _log_softmax_native(x, axis, kind)
    return _kernels.log_normalize(xp, x, axis=axis)


def logsumexp(x: Array, axis: int, xp: Any) -> Array:
    """:func:`kullback.measures._kernels.logsumexp` (kept dimension)."""
    return _kernels.logsumexp(xp, x, axis=axis)


def take_class(a: Array, idx: Array, axis: int, xp: Any, kind: str = "other") -> Array:
    """``a[..., idx, ...]`` along ``axis`` with ``idx`` shaped like ``a`` without ``axis``."""
    if kind == "torch":
        import torch

        return torch.gather(a, axis, xp.expand_dims(idx, axis=axis)).squeeze(axis)
    if hasattr(xp, "take_along_axis"):
        out = xp.take_along_axis(a, xp.expand_dims(idx, axis=axis), axis=axis)
        return xp.reshape(out, idx.shape)
    # libraries without take_along_axis (Dask): a one-hot select, still O(N C)
    shape = [1] * a.ndim
    shape[axis] = a.shape[axis]
    classes = xp.reshape(xp.arange(a.shape[axis]), tuple(shape))
    hit = classes == xp.expand_dims(idx, axis=axis)
    return xp.sum(xp.where(hit, a, xp.zeros_like(a)), axis=axis)


def nll_terms(logp: Array, target: Array, weight: Array | None, ignore_index: int, axis: int,
              xp: Any, kind: str = "other",
              log_norm: Array | None = None) -> tuple[Array, Array, Array]:
    """Per-element ``-w[y] log p[y]`` (0 where ignored), the weights ``w[y]`` (0 where
    ignored) and the mask of non-ignored targets (indices already validated).

    With ``log_norm`` (the log-sum-exp of each row, class axis dropped) ``logp`` holds logits
    and ``log p[y] = logp[y] - log_norm`` is formed after the pick: the normalised array is
    never materialised. A fully masked row (``log_norm = -inf``) gives ``-inf``, not NaN."""
    valid = target != ignore_index
    if kind == "torch" and str(target.dtype) != "torch.int64":
        target = xp.astype(target, xp.int64)
    y = xp.where(valid, target, xp.zeros_like(target))
    picked = take_class(logp, y, axis, xp, kind)
    if log_norm is not None:
        dead = log_norm == -math.inf
        picked = xp.where(dead, -math.inf, picked - xp.where(dead, 0.0, log_norm))
    if weight is None:
        wy = xp.astype(valid, logp.dtype)
    else:
        flat = xp.reshape(y, (-1,))
        wy = xp.reshape(xp.take(weight, flat, axis=0), y.shape) * xp.astype(valid, logp.dtype)
    # ignored positions and zero-weight classes contribute 0, even next to a -inf log-prob
    picked = xp.where(valid, picked, xp.zeros_like(picked))
    return -mul0(wy, picked, xp), wy, valid
