"""Operands of the measures: library, dtype, axis, broadcasting, validation, normalisers.

:func:`prepare` turns the caller's ``p`` (and ``q``) into one array namespace and compute dtype,
with the outcome axis moved last and the batch axes broadcast; :func:`masses` gives the row
totals (validating the values first) and :func:`log_operand` normalised log-probabilities for
the log-space path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from kullback import _xp
from kullback.measures import _kernels
from kullback.validation import check_axis, check_form, check_log_input, check_masses

__all__ = ["Prepared", "log_operand", "masses", "prepare"]


@dataclass
class Prepared:
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


def prepare(
    p: Any, q: Any | None, axis: Any, p_form: str, q_form: str, validate: bool
) -> Prepared:
    check_form(p_form, "p_form")
    check_form(q_form, "q_form")
    xp, pa = _xp.as_namespace_array(p, "p")
    qa = None
    if q is not None:
        xq, qa = _xp.as_namespace_array(q, "q")
        if xq is not xp:
            # NumPy data (arrays, lists, scalars) joins the other operand's library, so a
            # NumPy constant closed over inside jax.jit or mixed with a tensor just works
            if _xp.is_numpy_like(p) and not _xp.is_numpy_like(q):
                xp, pa = xq, _join(xq, pa, qa)
            elif _xp.is_numpy_like(q) and not _xp.is_numpy_like(p):
                qa = _join(xp, qa, pa)
            else:
                raise TypeError(
                    "p and q come from different array libraries "
                    f"({type(p).__module__}.{type(p).__name__} and "
                    f"{type(q).__module__}.{type(q).__name__}); convert one of them"
                )
    arrays = [pa] if qa is None else [pa, qa]
    out_dtype = _xp.float_dtype(xp, *arrays)
    cdt = _widened(xp, _xp.compute_dtype(xp, out_dtype), arrays)
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
        raise ValueError(f"{'p and q have' if qa is not None else 'p has'} an empty axis {axis}: "
                         "a distribution needs at least one outcome")
    lazy = any(_xp.is_lazy(a) for a in moved)
    return Prepared(
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


def _widened(xp: Any, cdt: Any, arrays: list) -> Any:
    """float64 for float32 operands where the library has it, else ``cdt``.

    In float32 the ratio of two nearly identical entries is rounded to 2**-24 of itself, so a
    relative difference of 5e-6 comes out 1 % off (and a pair of huge counts' normalised
    difference of 1e-29 as 0); float32 inputs are exact in float64, where every formula keeps
    the float32 contract (1e-4) by a wide margin, and the result is cast back. Not for JAX (a
    float64 under ``jit`` needs x64, and its fast path's branches keep one dtype), Apple's MPS
    (no float64), or NumPy inputs the blocked driver serves (its own float64 partials and
    exact differences, without a float64 copy of the operands).
    """
    import array_api_compat

    from kullback.measures._blocked import use_blocked

    if cdt != xp.float32 or array_api_compat.is_jax_namespace(xp) or use_blocked(*arrays):
        return cdt
    if getattr(getattr(arrays[0], "device", None), "type", None) == "mps":
        return cdt
    return xp.float64


def _join(xp: Any, data: Any, like: Any) -> Any:
    """NumPy ``data`` as an array of ``like``'s library (on its device, where it has one)."""
    import array_api_compat

    data = np.asarray(data)
    if _xp.is_lazy(like):  # a JAX tracer: jnp.asarray of a constant is traced as a constant
        return xp.asarray(data)
    return xp.asarray(data, device=array_api_compat.device(like))


def masses(pr: Prepared, x: Any, orig: Any, name: str) -> Any:
    """Row sums of masses along the last axis (kept), validating the masses first."""
    s = pr.xp.sum(x, axis=-1, keepdims=True)
    if pr.validate:
        check_masses(name, orig, s, pr.xp)
    return s


def log_operand(pr: Prepared, x: Any, orig: Any, name: str, form: str) -> Any:
    """Normalised log-probabilities of an operand in any form (masses: ``log x - log sum``)."""
    xp = pr.xp
    if form == "probs":
        s = masses(pr, x, orig, name)
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
