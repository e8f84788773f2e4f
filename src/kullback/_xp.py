"""Array-namespace plumbing: which library an input belongs to, and its floating dtype.

Nothing here imports an array library the caller did not hand us: torch, jax and dask are
recognised by the module of the input's type before anything of theirs is touched.
"""

from __future__ import annotations

import sys
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "as_namespace_array",
    "compiled",
    "compute_dtype",
    "float_dtype",
    "is_lazy",
    "is_numpy",
    "is_numpy_like",
]

_NUMPY_NS = array_api_compat.array_namespace(np.empty(0))


def _is_numeric_sequence(x: Any) -> bool:
    return isinstance(x, list | tuple)


def as_namespace_array(x: Any, name: str) -> tuple[Any, Any]:
    """Return ``(xp, array)`` for an input, converting Python sequences and scalars to NumPy.

    NumPy-like inputs become plain NumPy arrays: a masked array becomes its data with the
    masked entries set to zero (zero mass, the same in every function); ``np.matrix`` becomes
    a 2-D ndarray; pandas and polars Series/DataFrames (anything with ``__array__`` that no
    array library claims) become their values. Labels are not aligned: only the order counts.

    Raises
    ------
    TypeError
        If the input is not numeric (strings, objects, complex numbers, booleans).
    """
    if type(x) is np.ndarray:  # the common case, without the namespace machinery
        return _NUMPY_NS, _checked(_NUMPY_NS, x, name)
    if isinstance(x, np.ndarray):  # subclasses: masked arrays and matrices
        x = np.ma.filled(x, 0) if isinstance(x, np.ma.MaskedArray) else x
        return _NUMPY_NS, _checked(_NUMPY_NS, np.asarray(x), name)
    try:
        xp = array_api_compat.array_namespace(x)
        arr = x
    except TypeError:
        if not (_is_numeric_sequence(x) or isinstance(x, int | float | np.number)
                or hasattr(x, "__array__")):
            raise TypeError(
                f"{name} must be an array or a sequence of numbers; got {type(x).__name__}"
            ) from None
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:  # ragged nested lists, unconvertible frames
            raise ValueError(f"{name} is not a rectangular array of numbers: {exc}") from None
        xp = _NUMPY_NS
    return xp, _checked(xp, arr, name)


def _checked(xp: Any, arr: Any, name: str) -> Any:
    if not _is_real_number_dtype(xp, arr.dtype):
        raise TypeError(
            f"{name} must hold real numbers (integers or floats); got dtype {arr.dtype}"
        )
    return arr


def is_numpy_like(x: Any) -> bool:
    """A NumPy array (or subclass), NumPy scalar, Python number or sequence: data that joins
    the other operand's library when that one is torch, JAX, ... (as lists always did)."""
    return isinstance(x, np.ndarray | np.generic | int | float | list | tuple)


def _is_real_number_dtype(xp: Any, dtype: Any) -> bool:
    try:
        if xp.isdtype(dtype, "bool"):
            return False
        return bool(xp.isdtype(dtype, ("integral", "real floating")))
    except (TypeError, ValueError, AttributeError):
        return False


def float_dtype(xp: Any, *arrays: Any) -> Any:
    """The floating dtype of the result: the promoted float dtype of the inputs.

    Integer inputs become the library's default floating dtype; half precision stays the
    result dtype, but callers compute in float32 (see :func:`compute_dtype`).
    """
    floats = [a.dtype for a in arrays if xp.isdtype(a.dtype, "real floating")]
    if not floats:
        return _default_float(xp, arrays[0])
    dt = floats[0]
    for other in floats[1:]:
        dt = xp.result_type(dt, other)
    return dt


def _default_float(xp: Any, x: Any) -> Any:
    try:
        info = xp.__array_namespace_info__()
        device = array_api_compat.device(x)
        return info.default_dtypes(device=device)["real floating"]
    except Exception:  # pragma: no cover - libraries without the inspection API
        return xp.float64


def compute_dtype(xp: Any, dtype: Any) -> Any:
    """Half-precision inputs (float16, bfloat16) are computed in float32 (and cast back by the
    caller); every other floating dtype, NumPy's longdouble included, is computed as itself."""
    name = str(dtype).rsplit(".", 1)[-1]
    return xp.float32 if name in ("float16", "bfloat16") else dtype


def is_numpy(x: Any) -> bool:
    """True for a NumPy ndarray (not a subclass such as a masked array)."""
    return type(x) is np.ndarray


_COMPILED: dict[Any, Any] = {}


def compiled(xp: Any, fn: Any) -> Any:
    """``fn(xp, static, *arrays)`` compiled once per shape when ``xp`` is JAX's namespace
    (``xp`` and the second argument static); ``fn`` itself for every other library.

    Eager JAX dispatches (and compiles) each operation separately, which costs far more
    than the arithmetic for the kernels' few dozen operations; under ``jax.grad`` or
    ``jax.jit`` the compiled function is traced like any other.
    """
    if not getattr(xp, "__name__", "").startswith("jax"):
        return fn
    if fn not in _COMPILED:
        import jax

        _COMPILED[fn] = jax.jit(fn, static_argnums=(0, 1))
    return _COMPILED[fn]


def is_lazy(x: Any) -> bool:
    """True for arrays whose values cannot be inspected without a computation.

    Dask arrays and JAX tracers (inside ``jit``/``grad``) are lazy; a concrete JAX array is not.
    """
    mod = type(x).__module__
    if mod.startswith("dask"):
        return True
    if mod.startswith("jax"):
        jax = sys.modules.get("jax")
        return jax is not None and isinstance(x, jax.core.Tracer)
    return False
