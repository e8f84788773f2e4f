"""Tile kernels of the blocked driver: the measures' terms on one cache-sized tile.

:class:`TileNamespace` is the slice of the array API the probability kernels use, writing every
result into a reusable per-thread buffer (allocation per operation was the first bottleneck).
Each ``tile_*`` function returns the row sums of one measure's terms on a tile: a fast path of
a few in-place operations for the common tile (every entry positive and normal) and the
generic kernel of :mod:`kullback.measures._kernels` for any other tile, so the result is always
the generic one's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kullback.measures import _kernels

__all__ = [
    "TileNamespace",
    "fast_backend",
    "fast_cross_entropy",
    "fast_entropy",
    "fast_js",
    "fast_kl",
    "finish_raw_entropy",
    "finish_raw_kl",
    "rowsum",
    "tile_entropy",
    "tile_js",
    "tile_kl",
]


class TileNamespace:
    """The slice of the array API the probability kernels use, writing into reusable buffers.

    Every result has the current tile's shape, in the compute dtype or bool. Each call takes
    the next slot of a per-thread pool of buffers; :meth:`reset` rewinds the pool before each
    tile. A kernel never reads a value computed for an earlier tile, and a slot is never
    reused within one tile, so no live value is overwritten. ``guard_gradients`` is False:
    nothing here is differentiated, so the kernels may skip the guards that exist only to keep
    gradients finite (the values are the same).
    """

    guard_gradients = False
    float32 = np.float32
    float64 = np.float64

    def __init__(self, dtype: Any) -> None:
        self._dtype = np.dtype(dtype)
        self._float: list[np.ndarray] = []
        self._bool: list[np.ndarray] = []
        self._nf = self._nb = 0
        self._shape: tuple[int, int] = (0, 0)

    def reset(self, shape: tuple[int, int]) -> None:
        self._nf = self._nb = 0
        self._shape = shape

    def _take(self, pool: list[np.ndarray], i: int, dtype: Any) -> np.ndarray:
        size = self._shape[0] * self._shape[1]
        if i == len(pool):
            pool.append(np.empty(size, dtype=dtype))
        elif pool[i].size < size:
            pool[i] = np.empty(size, dtype=dtype)
        return pool[i][:size].reshape(self._shape)

    def _f(self) -> np.ndarray:
        self._nf += 1
        return self._take(self._float, self._nf - 1, self._dtype)

    def _b(self) -> np.ndarray:
        self._nb += 1
        return self._take(self._bool, self._nb - 1, np.bool_)

    finfo = staticmethod(np.finfo)

    def log(self, x: Any) -> np.ndarray:
        return np.log(x, out=self._f())

    def log1p(self, x: Any) -> np.ndarray:
        return np.log1p(x, out=self._f())

    def negative(self, x: Any) -> np.ndarray:
        return np.negative(x, out=self._f())

    def abs(self, x: Any) -> np.ndarray:
        return np.abs(x, out=self._f())

    def multiply(self, a: Any, b: Any) -> np.ndarray:
        return np.multiply(a, b, out=self._f())

    def divide(self, a: Any, b: Any) -> np.ndarray:
        return np.divide(a, b, out=self._f())

    def add(self, a: Any, b: Any) -> np.ndarray:
        return np.add(a, b, out=self._f())

    def subtract(self, a: Any, b: Any) -> np.ndarray:
        return np.subtract(a, b, out=self._f())

    def maximum(self, a: Any, b: Any) -> np.ndarray:
        return np.maximum(a, b, out=self._f())

    def greater(self, a: Any, b: Any) -> np.ndarray:
        return np.greater(a, b, out=self._b())

    def less(self, a: Any, b: Any) -> np.ndarray:
        return np.less(a, b, out=self._b())

    def less_equal(self, a: Any, b: Any) -> np.ndarray:
        return np.less_equal(a, b, out=self._b())

    def greater_equal(self, a: Any, b: Any) -> np.ndarray:
        return np.greater_equal(a, b, out=self._b())

    def logical_not(self, a: Any) -> np.ndarray:
        return np.logical_not(a, out=self._b())

    def not_equal(self, a: Any, b: Any) -> np.ndarray:
        return np.not_equal(a, b, out=self._b())

    def logical_and(self, a: Any, b: Any) -> np.ndarray:
        return np.logical_and(a, b, out=self._b())

    def where(self, cond: np.ndarray, a: Any, b: Any) -> np.ndarray:
        out = self._f()
        np.copyto(out, b)
        np.copyto(out, a, where=cond)
        return out

    @staticmethod
    def any(x: np.ndarray) -> bool:
        return bool(x.any())

    @staticmethod
    def all(x: np.ndarray) -> bool:
        return bool(x.all())

    @staticmethod
    def min(x: np.ndarray) -> Any:
        """The minimum ignoring NaN (here NaN marks an element a later ``where`` replaces)."""
        return np.fmin.reduce(x, axis=None)




def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product. Not ``np.vecdot``: that calls BLAS, whose own thread pool fights
    the driver's threads for the cores (2x slower with two threads). Short rows multiply and
    add columns (a reduction along a short last axis is several times slower than a log)."""
    if a.shape[-1] <= _SHORT:
        return rowsum(a * b)
    return np.einsum("ij,ij->i", a, b)


_SHORT = 16


def rowsum(a: np.ndarray) -> np.ndarray:
    """Sums along the last axis of a 2-D tile; rows of at most 16 entries add columns."""
    n = a.shape[-1]
    if n > _SHORT or n == 1:
        return np.add.reduce(a, axis=-1)
    out = a[:, 0] + a[:, 1]
    for j in range(2, n):
        out += a[:, j]
    return out


_TINY = {np.dtype(np.float64): 5e-324, np.dtype(np.float32): 1e-45}


def tile_entropy(ns: TileNamespace, A: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of ``A log A`` (0 log 0 = 0): one log and one fused multiply-sum."""
    L = ns.log(ns.maximum(A, _TINY[A.dtype]) if has_zero else A)
    return _rowdot(A, L)


_EPS = {np.dtype(np.float64): 2.0**-52, np.dtype(np.float32): 2.0**-23}
_HALF = {np.dtype(np.float64): 512, np.dtype(np.float32): 64}
# the fast paths' accepted rounding error, relative to the tile's sum: far inside the accuracy
# contract (1e-10 in float64, 1e-4 in float32) since the tiles' errors add up
_TOL = {np.dtype(np.float64): 2.0**-36, np.dtype(np.float32): 2.0**-16}


def _phi_dot(ns: TileNamespace, W: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row sums of ``W (u - log1p(u))`` (overwrites ``u``'s buffer with nothing it reads)."""
    L = ns.log1p(u)
    np.subtract(u, L, out=L)  # in place: the tile buffers stay in cache
    return _rowdot(W, L)


def _rows_ok(s: np.ndarray, bound: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Rows whose fast sum ``s`` is finite with a rounding error (``bound`` units of eps)
    far inside the contract (1e-10 relative in float64, 1e-4 in float32)."""
    return np.isfinite(s) & (_EPS[dtype] * bound <= _TOL[dtype] * s)


def _fix_rows(s: np.ndarray, ok: np.ndarray, kernel: Any, A: np.ndarray,
              B: np.ndarray) -> np.ndarray:
    """``s`` with the rows that are not ``ok`` recomputed by the generic ``kernel``."""
    if ok.all():
        return s
    bad = np.flatnonzero(~ok)
    s[bad] = np.sum(kernel(np, A[bad], B[bad]), axis=-1)
    return s


def tile_kl(ns: TileNamespace, A: np.ndarray, B: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of the Bregman KL terms ``A (x - 1 - log x)``, ``x = B/A``.

    The common tile (every ``A > 0``, no ratio near the float range) takes five operations;
    their rounding error is at most a few ``eps (A + B)`` per element, so a row is accepted
    when ``eps sum(A + B)`` is far below its sum. The other rows (nearly identical inputs,
    whose KL is below that) and any tile with a zero or an extreme ratio go to the generic
    kernel (series near ``x = 1``, every edge case): the result is always within the contract.
    """
    if has_zero:
        return rowsum(_kernels.kl_terms(ns, A, B))
    x = ns.divide(B, A)
    if ns.min(x) < 2.0 ** -_HALF[A.dtype]:
        return rowsum(_kernels.kl_terms(ns, A, B))
    phi = ns.log(x)
    np.subtract(x, phi, out=phi)  # in place: two tile buffers stay in cache, not four
    np.subtract(phi, 1.0, out=phi)
    s = _rowdot(A, phi)
    ok = _rows_ok(s, 8.0 * (rowsum(A) + rowsum(B)), A.dtype)
    return _fix_rows(s, ok, _kernels.kl_terms, A, B)


def tile_js(ns: TileNamespace, A: np.ndarray, B: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of four times the JS terms, ``2 A phi(M/A) + 2 B phi(M/B)``, ``M = (A+B)/2``.

    ``M/A - 1 = (B - A)/(2A)`` is formed from the exact difference ``B - A``, never from a
    rounded midpoint; the ratios are at least 1/2, and ``u - log1p(u)`` errs by about
    ``2 eps |u|`` per unit of weight, so a row's error is at most ``4 eps sum|B - A|``. Rows
    beyond the tolerance (nearly identical) and tiles with a zero or subnormal entry go to the
    generic kernel.
    """
    if has_zero:  # every entry normal and positive below
        return rowsum(_kernels.js_terms(ns, A, B))
    D = ns.subtract(B, A)
    spread = rowsum(ns.abs(D))
    s = np.zeros(A.shape[0], dtype=A.dtype)
    for V, sign in ((A, 0.5), (B, -0.5)):
        u = ns.divide(D, V)
        np.multiply(u, sign, out=u)
        s += _phi_dot(ns, V, u)
    s *= 2.0
    return _fix_rows(s, _rows_ok(s, 8.0 * spread, A.dtype), _kernels.js_terms, A, B)


def finish_raw_entropy(raw: np.ndarray, sp: np.ndarray, max_p: float) -> np.ndarray:
    """The sum of the normalised terms (``-H``) from the raw sum ``sum p log p`` of
    unnormalised ``p``: ``H = log S + t``, ``t = -raw/S``; NaN on rows where that is not
    within the contract (the caller recomputes them with the exact normalisers).

    With every ``p <= 1`` both parts are ``>= 0`` up to ``log S``'s sign; a row is accepted
    when its rounding error, a few ``eps (|log S| + t + 1)``, is far below ``H``.
    """
    if max_p > 1:
        return np.full_like(sp, np.nan)
    log_s, t = np.log(sp), -raw / sp
    h = log_s + t
    ok = _rows_ok(h, 8.0 * (np.abs(log_s) + t + 1.0), np.dtype(sp.dtype))
    return np.where(ok, -h, np.nan)


def finish_raw_kl(raw: np.ndarray, sp: np.ndarray, sq: np.ndarray) -> np.ndarray:
    """KL from the raw Bregman sum of unnormalised ``(p, q)``: ``raw/S_p - phi(S_q/S_p)``.

    ``phi(c) = c - 1 - log c >= 0`` is what the unnormalised sum adds. The raw tile sums err
    by at most a few ``eps (S_p + S_q)``; a row is accepted where that (in units of ``S_p``),
    plus the rounding of the subtraction, is far below the result; NaN elsewhere (the caller
    recomputes those rows with the exact normalisers).
    """
    offset = _kernels.log1pmx(np, (sq - sp) / sp)  # phi(sq/sp), accurate when sq ~ sp
    kl = raw / sp - offset
    bound = 16.0 * (sp + sq) / sp + 4.0 * offset
    return np.where(_rows_ok(kl, bound, np.dtype(sp.dtype)), np.maximum(kl, 0.0), np.nan)


# --------------------------------------------------------------------------- native fast paths
#
# Whole-array shortcuts for one backend, named by the table's ``fast`` field: a handful of the
# library's own fused operations, with the validation folded into them (a NaN, infinite or
# negative entry makes a row sum non-finite; zeros are excluded where a log would see them).
# Each returns the measure in nats, or None when its rounding-error bound is not far inside
# the accuracy contract (nearly identical inputs, a dominant entry, counts...) or when any
# check fails: the general path then computes (and validates, with its messages) as always.


def _accept(ops: Any, value: Any, bound: Any, dtype_eps: float, fine: Any = True) -> Any:
    """``value`` where it is finite, ``fine`` (the row checks) and its rounding error
    (``bound`` units of eps) is far inside the contract (1e-10 relative in float64, 1e-4 in
    float32); NaN on other rows."""
    tol = 2.0**-40 if dtype_eps < 1e-10 else 2.0**-14
    ok = (value * tol >= bound * dtype_eps) & (value < math.inf) & fine
    if type(value) is np.float64 or type(value) is np.float32:  # one NumPy row: no ufunc
        return value if ok else value.dtype.type(math.nan)
    return ops.where(ok, value, math.nan)


class _NumpyOps:
    """Plain NumPy ufuncs (no namespace wrappers): the fast path is mostly call overhead."""

    name = "numpy"

    @staticmethod
    def accepts(*arrays: Any) -> bool:
        a = arrays[0]
        return (all(type(x) is np.ndarray for x in arrays) and a.dtype in _FLOATS
                and all(x.dtype == a.dtype and x.shape == a.shape for x in arrays)
                and 0 < a.size < _FAST_MAX and a.ndim > 0)

    @staticmethod
    def total(x: Any, axis: int) -> Any:
        return np.add.reduce(x, axis=axis, keepdims=True)

    @staticmethod
    def xlogx(x: Any, axis: int) -> Any:
        """Row sums of ``x log x`` (NaN where any ``x <= 0``: the caller falls back). The
        same operations for one row as for a batch, so a batch equals its rows exactly."""
        return np.add.reduce(x * np.log(x), axis=axis)

    @staticmethod
    def xlogy(x: Any, y: Any, axis: int) -> Any:
        return np.add.reduce(x * np.log(y), axis=axis)

    @staticmethod
    def positive(x: Any) -> bool:
        return True  # x log x is NaN at 0 already

    @staticmethod
    def rows_all(cond: Any, axis: int) -> Any:
        return cond.all(axis=axis)

    eps = staticmethod(lambda x: _EPS[x.dtype])
    log = staticmethod(np.log)
    where = staticmethod(np.where)
    wide = staticmethod(lambda x: x.astype(np.float64) if x.dtype == np.float32 else x)
    narrow = staticmethod(lambda v, dtype: v.astype(dtype) if v.dtype != dtype else v)
    squeeze = staticmethod(lambda x, axis: np.squeeze(x, axis=axis))


class _TorchOps:
    """torch's fused kernels: ``special.entr`` and ``xlogy`` (one pass each, 0 log 0 = 0)."""

    name = "torch"

    @staticmethod
    def accepts(*arrays: Any) -> bool:
        import torch

        a = arrays[0]
        return (all(type(x) is torch.Tensor for x in arrays)
                and a.dtype in (torch.float32, torch.float64)
                and all(x.dtype == a.dtype and x.shape == a.shape and x.device == a.device
                        for x in arrays) and a.numel() > 0 and a.ndim > 0)

    @staticmethod
    def total(x: Any, axis: int) -> Any:
        return x.sum(dim=axis, keepdim=True)

    @staticmethod
    def xlogx(x: Any, axis: int) -> Any:
        import torch

        return -torch.special.entr(x).sum(dim=axis)  # -inf entr of a negative: non-finite

    @staticmethod
    def xlogy(x: Any, y: Any, axis: int) -> Any:
        import torch

        return torch.xlogy(x, y).sum(dim=axis)

    @staticmethod
    def positive(x: Any) -> bool:
        """Gradients: at a zero probability the general path's gradient is the finite one of
        its branch, while entr/xlogy give an infinite one; so zeros take the general path."""
        return not x.requires_grad or bool((x > 0).all())

    @staticmethod
    def rows_all(cond: Any, axis: int) -> Any:
        return cond.all(dim=axis)

    @staticmethod
    def where(ok: Any, value: Any, other: float) -> Any:
        import torch

        return torch.where(ok, value, other)

    eps = staticmethod(lambda x: float(__import__("torch").finfo(x.dtype).eps))
    wide = staticmethod(lambda x: x.double() if x.dtype == __import__("torch").float32 else x)
    narrow = staticmethod(lambda v, dtype: v.to(dtype) if v.dtype != dtype else v)
    log = staticmethod(lambda x: x.log())
    squeeze = staticmethod(lambda x, axis: x.squeeze(axis))


class _JaxOps:
    """``jax.numpy``, traceable under ``jit`` and ``grad``: each check is a per-row mask
    folded into the acceptance (as on every backend: no device sync), and the caller
    picks the exact path with ``lax.cond`` on one per-call flag. A zero entry's log is taken
    of 1 (the general kernels' guard), so values and gradients at zeros are the general
    path's; a negative entry's log is NaN and rejects its row."""

    name = "jax"

    @staticmethod
    def accepts(*arrays: Any) -> bool:
        import jax
        import jax.numpy as jnp

        a = arrays[0]
        return (all(isinstance(x, jax.Array) for x in arrays)
                and a.dtype in (jnp.float32, jnp.float64)
                and all(x.dtype == a.dtype and x.shape == a.shape for x in arrays)
                and a.size > 0 and a.ndim > 0)

    @staticmethod
    def total(x: Any, axis: int) -> Any:
        return x.sum(axis=axis, keepdims=True)

    @staticmethod
    def xlogx(x: Any, axis: int) -> Any:
        """Plain: a ``where`` guarding the log halves XLA's throughput; a zero gives NaN,
        which rejects its row (gradients: see ``discrete._jax_guarded``)."""
        import jax.numpy as jnp

        return (x * jnp.log(x)).sum(axis=axis)

    @staticmethod
    def xlogy(x: Any, y: Any, axis: int) -> Any:
        import jax.numpy as jnp

        return (x * jnp.log(y)).sum(axis=axis)

    @staticmethod
    def positive(x: Any) -> bool:
        return True

    @staticmethod
    def rows_all(cond: Any, axis: int) -> Any:
        return cond.all(axis=axis)

    @staticmethod
    def where(ok: Any, value: Any, other: float) -> Any:
        import jax.numpy as jnp

        return jnp.where(ok, value, other)

    @staticmethod
    def wide(x: Any) -> Any:
        import jax
        import jax.numpy as jnp

        if x.dtype == jnp.float32 and jax.config.read("jax_enable_x64"):
            return x.astype(jnp.float64)
        return x

    eps = staticmethod(lambda x: _EPS[np.dtype(x.dtype)])
    narrow = staticmethod(lambda v, dtype: v.astype(dtype) if v.dtype != dtype else v)
    log = staticmethod(lambda x: __import__("jax.numpy").numpy.log(x))
    squeeze = staticmethod(lambda x, axis: x.squeeze(axis))



_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))
_FAST_MAX = 1 << 18  # the blocked driver serves larger NumPy inputs
_OPS = {"numpy": _NumpyOps, "torch": _TorchOps, "jax": _JaxOps}
_MODULES = {"numpy": "numpy", "torch": "torch", "jax": "jax", "jaxlib": "jax"}


def fast_backend(*arrays: Any) -> str | None:
    """The name of the backend with native fast paths these arrays belong to, if any (the
    ``fast_*`` functions rely on its checks: same dtype, shape and device, float32/64)."""
    name = _MODULES.get(type(arrays[0]).__module__.partition(".")[0])
    return name if name is not None and _OPS[name].accepts(*arrays) else None


def _masses(ops: Any, axis: int, *arrays: Any) -> tuple[list[Any], Any]:
    """Row totals and the mask of rows where every array's total is finite and far from the
    subnormal range (``x log x`` of subnormal masses would be rounded to a few bits): a mask,
    not a Python boolean, so that no check synchronises with the device; it joins the
    acceptance (the other rows go to the general path)."""
    totals = [ops.total(x, axis) for x in arrays]
    low = _low(arrays[0].dtype)
    fine: Any = True
    for s in totals:
        fine = fine & ops.squeeze((s >= low) & (s < np.inf), axis)
    return totals, fine


_LOW: dict[Any, float] = {}


def _low(dtype: Any) -> float:
    """``2**-half`` of a NumPy, torch or JAX float dtype (cached: naming a dtype is slow)."""
    if dtype not in _LOW:
        _LOW[dtype] = 2.0 ** -(_HALF[np.dtype(str(dtype).replace("torch.", ""))])
    return _LOW[dtype]


def fast_entropy(backend: str, p: Any, q: Any, axis: int) -> Any:
    """``H = -sum P log P`` on ``P = p/S`` (terms of one sign: no cancellation); a row
    whose largest entry dominates has a small ``H`` beside its error bound ``eps (H + 1)``
    and takes the general path (which compensates that entry)."""
    ops = _OPS[backend]
    if not ops.positive(p):
        return None
    got = _masses(ops, axis, p)
    (tot,), fine = got
    h = -ops.xlogx(p / tot, axis)
    return _accept(ops, h, 8.0 * (h + 1.0), ops.eps(p), fine)


def _kl_parts(ops: Any, p: Any, q: Any, axis: int) -> tuple[Any, ...]:
    got = _masses(ops, axis, p, q)
    sp, sq = (ops.squeeze(s, axis) for s in got[0])
    a = ops.xlogx(p, axis) / sp - ops.log(sp)   # -H(P)
    b = ops.xlogy(p, q, axis) / sp - ops.log(sq)  # -H(P, Q)
    return a, b, 8.0 * (abs(a) + abs(b) + abs(ops.log(sp)) + abs(ops.log(sq)) + 1.0), got[1]


def fast_kl(backend: str, p: Any, q: Any, axis: int) -> Any:
    """``KL = H(P, Q) - H(P)`` from two fused passes, where that difference is well inside the
    accuracy contract (not for nearly identical inputs, whose KL is below its rounding)."""
    ops = _OPS[backend]
    if not (ops.positive(p) and ops.positive(q)):
        return None
    parts = _kl_parts(ops, p, q, axis)
    a, b, bound, fine = parts
    kl = a - b
    return _accept(ops, kl, 0.5 * bound, ops.eps(p), fine)


def fast_cross_entropy(backend: str, p: Any, q: Any, axis: int) -> Any:
    """``H(P, Q) = -(sum p log q)/S_p + log S_q`` (no cancellation unless ``H(P, Q)`` is
    tiny: a nearly one-hot pair takes the general path). No log of ``p`` is taken, so its
    signs are checked explicitly."""
    ops = _OPS[backend]
    if not (ops.positive(p) and ops.positive(q)):
        return None
    signs = ops.rows_all(p >= 0, axis)
    got = _masses(ops, axis, p, q)
    sp, sq = (ops.squeeze(s, axis) for s in got[0])
    ce = ops.log(sq) - ops.xlogy(p, q, axis) / sp
    return _accept(ops, ce, 4.0 * (abs(ce) + 2.0 * abs(ops.log(sq)) + 1.0), ops.eps(p),
                   got[1] & signs)


def fast_js(backend: str, p: Any, q: Any, axis: int) -> Any:
    """``JS = H(M) - (H(P) + H(Q))/2`` on the normalised operands (error bound from the
    three entropies; nearly identical inputs take the general path). Float32 inputs are
    computed in float64: the three entropies are ~100 times the JS of typical inputs."""
    dtype = p.dtype
    ops = _OPS[backend]
    if not (ops.positive(p) and ops.positive(q)):
        return None
    p, q = ops.wide(p), ops.wide(q)  # float32: the entropies' difference needs float64
    got = _masses(ops, axis, p, q)
    (sp, sq), fine = got
    P, Q = p / sp, q / sq
    M = (P + Q) * 0.5
    hp, hq, hm = (-ops.xlogx(x, axis) for x in (P, Q, M))
    js = hm - (hp + hq) * 0.5
    return ops.narrow(_accept(ops, js, 8.0 * (hm + 1.0), ops.eps(p), fine), dtype)
