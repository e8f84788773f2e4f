"""Native fast paths: what every backend's shortcut shares.

Each backend with a fast path has its own module (:mod:`~kullback.measures._fast_numpy`,
:mod:`~kullback.measures._fast_torch`, :mod:`~kullback.measures._fast_jax`) whose functions
the table of measures names in its ``fast`` field, one per measure and backend. A fast path
takes the raw operands ``(p, q, axis)`` (``q`` is None for entropy) and returns the measure in
nats, or None when it does not serve these arrays (another dtype, shape or device, invalid
values, or a rounding-error bound that is not far inside the accuracy contract); the general
path then computes, and validates with its messages. Every fast path is tested against the
general path.

This module holds the shared parts: the acceptance rule (a row's value is kept only where its
rounding-error bound is far inside the contract: 1e-10 relative in float64, 1e-4 in float32),
the row masses, the generic formulas written over a small "ops" namespace, and the eager runner
that sends the rows a fast path does not vouch for (NaN) to the general path.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kullback.units import resolve_unit

__all__ = [
    "accept",
    "cross_entropy",
    "eager",
    "entropy",
    "general_rows",
    "js",
    "kl",
    "low",
    "masses",
    "run",
]

_EPS = {np.dtype(np.float64): 2.0**-52, np.dtype(np.float32): 2.0**-23}
_HALF = {np.dtype(np.float64): 512, np.dtype(np.float32): 64}


def accept(ops: Any, value: Any, bound: Any, dtype_eps: float, fine: Any = True) -> Any:
    """``value`` where it is finite, ``fine`` (the row checks) and its rounding error
    (``bound`` units of eps) is far inside the contract (1e-10 relative in float64, 1e-4 in
    float32); NaN on other rows."""
    tol = 2.0**-40 if dtype_eps < 1e-10 else 2.0**-14
    ok = (value * tol >= bound * dtype_eps) & (value < math.inf) & fine
    if type(value) is np.float64 or type(value) is np.float32:  # one NumPy row: no ufunc
        return value if ok else value.dtype.type(math.nan)
    return ops.where(ok, value, math.nan)


def masses(ops: Any, axis: int, *arrays: Any) -> tuple[list[Any], Any]:
    """Row totals and the mask of rows where every array's total is finite and far from the
    subnormal range (``x log x`` of subnormal masses would be rounded to a few bits): a mask,
    not a Python boolean, so that no check synchronises with the device; it joins the
    acceptance (the other rows go to the general path)."""
    totals = [ops.total(x, axis) for x in arrays]
    floor = low(arrays[0].dtype)
    fine: Any = True
    for s in totals:
        fine = fine & ops.squeeze((s >= floor) & (s < np.inf), axis)
    return totals, fine


_LOW: dict[Any, float] = {}


def low(dtype: Any) -> float:
    """``2**-half`` of a NumPy, torch or JAX float dtype (cached: naming a dtype is slow)."""
    if dtype not in _LOW:
        _LOW[dtype] = 2.0 ** -(_HALF[np.dtype(str(dtype).replace("torch.", ""))])
    return _LOW[dtype]


def entropy(ops: Any, p: Any, q: Any, axis: int) -> Any:
    """``H = -sum P log P`` on ``P = p/S`` (terms of one sign: no cancellation); a row
    whose largest entry dominates has a small ``H`` beside its error bound ``eps (H + 1)``
    and takes the general path (which compensates that entry)."""
    if not ops.positive(p):
        return None
    got = masses(ops, axis, p)
    (tot,), fine = got
    h = -ops.xlogx(p / tot, axis)
    return accept(ops, h, 8.0 * (h + 1.0), ops.eps(p), fine)


def _kl_parts(ops: Any, p: Any, q: Any, axis: int) -> tuple[Any, ...]:
    got = masses(ops, axis, p, q)
    sp, sq = (ops.squeeze(s, axis) for s in got[0])
    a = ops.xlogx(p, axis) / sp - ops.log(sp)   # -H(P)
    b = ops.xlogy(p, q, axis) / sp - ops.log(sq)  # -H(P, Q)
    return a, b, 8.0 * (abs(a) + abs(b) + abs(ops.log(sp)) + abs(ops.log(sq)) + 1.0), got[1]


def kl(ops: Any, p: Any, q: Any, axis: int) -> Any:
    """``KL = H(P, Q) - H(P)`` from two fused passes, where that difference is well inside the
    accuracy contract (not for nearly identical inputs, whose KL is below its rounding)."""
    if not (ops.positive(p) and ops.positive(q)):
        return None
    parts = _kl_parts(ops, p, q, axis)
    a, b, bound, fine = parts
    value = a - b
    return accept(ops, value, 0.5 * bound, ops.eps(p), fine)


def cross_entropy(ops: Any, p: Any, q: Any, axis: int) -> Any:
    """``H(P, Q) = -(sum p log q)/S_p + log S_q`` (no cancellation unless ``H(P, Q)`` is
    tiny: a nearly one-hot pair takes the general path). No log of ``p`` is taken, so its
    signs are checked explicitly."""
    if not (ops.positive(p) and ops.positive(q)):
        return None
    signs = ops.rows_all(p >= 0, axis)
    got = masses(ops, axis, p, q)
    sp, sq = (ops.squeeze(s, axis) for s in got[0])
    ce = ops.log(sq) - ops.xlogy(p, q, axis) / sp
    return accept(ops, ce, 4.0 * (abs(ce) + 2.0 * abs(ops.log(sq)) + 1.0), ops.eps(p),
                   got[1] & signs)


def js(ops: Any, p: Any, q: Any, axis: int) -> Any:
    """``JS = H(M) - (H(P) + H(Q))/2`` on the normalised operands (error bound from the
    three entropies; nearly identical inputs take the general path). Float32 inputs are
    computed in float64: the three entropies are ~100 times the JS of typical inputs."""
    dtype = p.dtype
    if not (ops.positive(p) and ops.positive(q)):
        return None
    p, q = ops.wide(p), ops.wide(q)  # float32: the entropies' difference needs float64
    got = masses(ops, axis, p, q)
    (sp, sq), fine = got
    P, Q = p / sp, q / sq
    M = (P + Q) * 0.5
    hp, hq, hm = (-ops.xlogx(x, axis) for x in (P, Q, M))
    js = hm - (hp + hq) * 0.5
    return ops.narrow(accept(ops, js, 8.0 * (hm + 1.0), ops.eps(p), fine), dtype)


def eager(formula: Any, ops: Any, entry: Any, p: Any, q: Any, axis: int) -> Any:
    """``formula(ops, p, q, axis)`` on eager arrays: the rows it does not vouch for (NaN) are
    recomputed by the general path; None if that is every row, or if those rows hold invalid
    values (the general path then validates the whole call, with its messages)."""
    with np.errstate(all="ignore"):
        value = formula(ops, p, q, axis)
    if value is None:
        return None
    redo = value != value  # NaN: rows the fast path does not vouch for
    if not bool(redo.any()):  # the happy path: one synchronisation
        return value
    if bool(redo.all()):
        return None
    return general_rows(entry, value, redo, p, q, axis)


def general_rows(entry: Any, value: Any, redo: Any, p: Any, q: Any, axis: int) -> Any:
    """``value`` (nats) with the rows marked ``redo`` computed by the general path; None if
    those rows hold invalid entries (the whole call then goes the general way)."""
    import array_api_compat

    from kullback.measures._prepare import prepare
    from kullback.measures.discrete import _evaluate

    xp = array_api_compat.array_namespace(p)
    rows = [xp.moveaxis(a, axis, -1)[redo] for a in ((p,) if q is None else (p, q))]
    invalid = [(r < 0) | (r != r) | (r == math.inf) for r in rows]
    if any(bool(xp.any(b)) for b in invalid) or any(bool(xp.any(xp.sum(r, axis=-1) == 0))
                                                    for r in rows):
        return None  # invalid input: the general path reports it in the caller's layout
    pr = prepare(rows[0], rows[1] if q is not None else None, -1, "probs", "probs", True)
    sub = _evaluate(pr, (entry.name,))[entry.name]
    if sub.dtype != value.dtype:  # float32 is computed in float64 there
        sub = xp.astype(sub, value.dtype)
    if hasattr(value, "requires_grad"):
        value = value.clone()
    value[redo] = sub
    return value


def run(name: str, p: Any, q: Any, axis: Any, unit: Any) -> Any:
    """The measure by its table entry's native fast path, or None (the general path serves)."""
    kind = type(p)
    if kind is list and (q is None or type(q) is list):  # small literal inputs
        p, q = _float_array(p), None if q is None else _float_array(q)
        if p is None or (q is None and name != "entropy"):
            return None
        kind = np.ndarray
    found = _RUNNERS.get((name, kind))
    if found is None:
        found = _RUNNERS[name, kind] = _runner(name, kind)
    path, entry = found
    if path is None or type(axis) is not int or not -p.ndim <= axis < p.ndim:
        return None
    value = path(entry, p, q, axis)
    if value is None:
        return None
    if unit is not _NATS:
        value = unit.from_nats(value)
    if name == "js_distance":
        value = value**0.5  # accepted rows have JS > 0; exact ones (JAX) 0 and above
    return value[()] if type(value) is np.ndarray and value.ndim == 0 else value


_NATS = resolve_unit(None)
# (measure name, argument type) -> (fast path or None, table entry): one look-up per call
_RUNNERS: dict[tuple[str, type], tuple[Any, Any]] = {}
_BACKENDS = {"numpy": "numpy", "torch": "torch", "jax": "jax", "jaxlib": "jax"}


def _runner(name: str, kind: type) -> tuple[Any, Any]:
    """The fast path of measure ``name`` (``js_distance`` is JS's) for arguments of type
    ``kind``, with its table entry."""
    from kullback.measures._table import lookup

    entry = lookup("js_divergence" if name == "js_distance" else name)
    backend = "numpy" if kind is np.ndarray else _BACKENDS.get(kind.__module__.partition(".")[0])
    return entry.fast.get(backend), entry


def _float_array(x: list) -> np.ndarray | None:
    try:
        a = np.asarray(x)
    except ValueError:
        return None
    if a.dtype.kind == "i":
        return a.astype(np.float64)
    return a if a.dtype == np.float64 else None
