"""Tile kernels of the blocked driver: the measures' terms on one cache-sized tile.

:class:`TileNamespace` is the slice of the array API the probability kernels use, writing every
result into a reusable per-thread buffer (allocation per operation was the first bottleneck).
Each ``tile_*`` function returns the row sums of one measure's terms on a tile: a fast path of
a few in-place operations for the common tile (every entry positive and normal) and the
generic kernel of :mod:`kullback.measures._kernels` for any other tile, so the result is always
the generic one's.
"""

from __future__ import annotations

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
    """Row-wise dot product without a temporary. Not ``np.vecdot``: that calls BLAS, whose
    own thread pool fights the driver's threads for the cores (2x slower with two threads)."""
    return np.einsum("ij,ij->i", a, b)


_TINY = {np.dtype(np.float64): 5e-324, np.dtype(np.float32): 1e-45}


def tile_entropy(ns: TileNamespace, A: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of ``A log A`` (0 log 0 = 0): one log and one fused multiply-sum."""
    L = ns.log(ns.maximum(A, _TINY[A.dtype]) if has_zero else A)
    return _rowdot(A, L)


_EPS = {np.dtype(np.float64): 2.0**-52, np.dtype(np.float32): 2.0**-23}
# the fast paths' accepted rounding error, relative to the tile's sum: far inside the accuracy
# contract (1e-10 in float64, 1e-4 in float32) since the tiles' errors add up
_TOL = {np.dtype(np.float64): 2.0**-40, np.dtype(np.float32): 2.0**-17}


def _phi_dot(ns: TileNamespace, W: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row sums of ``W (u - log1p(u))`` (overwrites ``u``'s buffer with nothing it reads)."""
    L = ns.log1p(u)
    np.subtract(u, L, out=L)  # in place: the tile buffers stay in cache
    return _rowdot(W, L)


def _fast_ok(s: np.ndarray, spread: np.ndarray, low: float, dtype: np.dtype) -> bool:
    """Whether a fast tile sum ``s`` is within the tolerance.

    ``u - log1p(u)`` computed directly errs by about ``2 eps |u|`` per unit of weight, so the
    row's error is at most ``2 eps sum|W u|`` (``spread``); ``low`` (the smallest ``u``) must
    keep ``1 + u`` well inside the float range, and the sum must be finite.
    """
    return (bool(np.isfinite(s).all()) and low >= -1.0 + 2.0**-20
            and bool(np.all(4.0 * _EPS[dtype] * spread <= _TOL[dtype] * s)))


def tile_kl(ns: TileNamespace, A: np.ndarray, B: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of the Bregman KL terms ``A (u - log1p(u))``, ``u = (B - A)/A``.

    The common tile (every ``A > 0``, ratios not near the float range, the inputs not so
    close that ``u - log1p(u)`` cancels) takes a few in-place operations; any other tile is
    recomputed by the generic kernel (series near ``u = 0``, every edge case), so the result
    is always within the accuracy contract of the generic one.
    """
    if not has_zero:
        U = ns.subtract(B, A)  # exact (Sterbenz) wherever the ratio is within [1/2, 2]
        spread = np.sum(ns.abs(U), axis=-1)
        np.divide(U, A, out=U)
        s = _phi_dot(ns, A, U)
        if _fast_ok(s, spread, float(ns.min(U)), A.dtype):
            return s
    return np.sum(_kernels.kl_terms(ns, A, B), axis=-1)


def tile_js(ns: TileNamespace, A: np.ndarray, B: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of four times the JS terms, ``2 A phi(M/A) + 2 B phi(M/B)``, ``M = (A+B)/2``.

    ``M/A - 1 = (B - A)/(2A)`` is formed from the exact difference ``B - A``, never from a
    rounded midpoint; the ratios are at least 1/2. Tiles with a zero or subnormal entry, an
    overflow or nearly identical entries go to the generic kernel.
    """
    if not has_zero:  # every entry normal and positive
        D = ns.subtract(B, A)
        spread = np.sum(ns.abs(D), axis=-1)
        s = np.zeros(A.shape[0], dtype=A.dtype)
        for V, sign in ((A, 0.5), (B, -0.5)):
            u = ns.divide(D, V)
            np.multiply(u, sign, out=u)
            s += _phi_dot(ns, V, u)
        s *= 2.0
        if _fast_ok(s, spread, -0.5, A.dtype):
            return s
    return np.sum(_kernels.js_terms(ns, A, B), axis=-1)


def finish_raw_entropy(raw: np.ndarray, sp: np.ndarray, max_p: float) -> np.ndarray | None:
    """H from the raw sum ``sum p log p`` of unnormalised ``p``: ``log S - raw/S``.

    Exact enough only where the normalisation cancels little: with every ``p <= 1`` the two
    parts are ``log S`` and ``t = -raw/S >= 0``; at most 4 bits may be lost. Otherwise None
    (the caller normalises first).
    """
    if max_p > 1:
        return None
    log_s, t = np.log(sp), -raw / sp
    h = log_s + t
    return -h if np.all(np.abs(log_s) + t <= 16 * h) else None  # terms' sum: -H


def finish_raw_kl(raw: np.ndarray, sp: np.ndarray, sq: np.ndarray) -> np.ndarray | None:
    """KL from the raw Bregman sum of unnormalised ``(p, q)``: ``raw/S_p - phi(S_q/S_p)``.

    ``phi(c) = c - 1 - log c >= 0`` is what the unnormalised sum adds; when it is small beside
    the sum (at most 1/16 of it) the subtraction loses at most 4 bits; otherwise None.
    """
    offset = _kernels.log1pmx(np, (sq - sp) / sp)  # phi(sq/sp), accurate when sq ~ sp
    b = raw / sp
    return np.maximum(b - offset, 0.0) if np.all(offset <= b / 16) else None


# --------------------------------------------------------------------------- native fast paths
#
# Whole-array shortcuts for one backend, named by the table's ``fast`` field: a handful of the
# library's own fused operations, with the validation folded into them (a NaN, infinite or
# negative entry makes a row sum non-finite; zeros are excluded where a log would see them).
# Each returns the measure in nats, or None when its rounding-error bound is not far inside
# the accuracy contract (nearly identical inputs, a dominant entry, counts...) or when any
# check fails: the general path then computes (and validates, with its messages) as always.


def _bound_ok(value: Any, bound: Any, dtype_eps: float) -> bool:
    """``value`` is finite and its rounding error (``bound`` units of eps) is within tol."""
    tol = 2.0**-40 if dtype_eps < 1e-10 else 2.0**-17
    if getattr(value, "ndim", 1) == 0 and type(value) is not np.ndarray and not hasattr(
            value, "requires_grad"):  # a NumPy scalar: Python arithmetic is cheaper
        v = float(value)
        return v * tol >= float(bound) * dtype_eps and v < np.inf
    return bool(((value * tol >= bound * dtype_eps) & (value < np.inf)).all())


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
        """Row sums of ``x log x`` (NaN where any ``x <= 0``: the caller falls back)."""
        if x.ndim == 1:
            return np.dot(x, np.log(x))
        return np.add.reduce(x * np.log(x), axis=axis)

    @staticmethod
    def xlogy(x: Any, y: Any, axis: int) -> Any:
        if x.ndim == 1:
            return np.dot(x, np.log(y))
        return np.add.reduce(x * np.log(y), axis=axis)

    @staticmethod
    def positive(x: Any) -> bool:
        return True  # x log x is NaN at 0 already

    eps = staticmethod(lambda x: float(np.finfo(x.dtype).eps))
    log = staticmethod(np.log)
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

    eps = staticmethod(lambda x: float(__import__("torch").finfo(x.dtype).eps))
    log = staticmethod(lambda x: x.log())
    squeeze = staticmethod(lambda x, axis: x.squeeze(axis))


_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))
_FAST_MAX = 1 << 18  # the blocked driver serves larger NumPy inputs
_OPS = {"numpy": _NumpyOps, "torch": _TorchOps}


def fast_backend(*arrays: Any) -> str | None:
    """The name of the backend with native fast paths these arrays belong to, if any (the
    ``fast_*`` functions rely on its checks: same dtype, shape and device, float32/64)."""
    mod = type(arrays[0]).__module__
    name = "numpy" if mod == "numpy" else "torch" if mod == "torch" else None
    return name if name is not None and _OPS[name].accepts(*arrays) else None


def _masses(ops: Any, axis: int, *arrays: Any) -> list[Any] | None:
    """Row totals, if every row of every array has a positive finite total."""
    totals = [ops.total(x, axis) for x in arrays]
    for s in totals:
        if s.ndim == 1 and s.shape[0] == 1 and type(s) is np.ndarray:
            if not 0.0 < float(s[0]) < np.inf:
                return None
        elif not bool(((s > 0) & (s < np.inf)).all()):
            return None
    return totals


def fast_entropy(backend: str, p: Any, q: Any, axis: int) -> Any:
    """``H = log S - (sum p log p)/S``; error bound ``(|log S| + |t| + 1) eps``."""
    ops = _OPS[backend]
    if not ops.positive(p):
        return None
    tot = _masses(ops, axis, p)
    if tot is None:
        return None
    s = ops.squeeze(tot[0], axis)
    t = ops.xlogx(p, axis) / s
    log_s = ops.log(s)
    h = log_s - t
    return h if _bound_ok(h, 8.0 * (abs(log_s) + abs(t) + 1.0), ops.eps(p)) else None


def _kl_parts(ops: Any, p: Any, q: Any, axis: int) -> tuple[Any, Any, Any] | None:
    tot = _masses(ops, axis, p, q)
    if tot is None:
        return None
    sp, sq = (ops.squeeze(s, axis) for s in tot)
    a = ops.xlogx(p, axis) / sp - ops.log(sp)   # -H(P)
    b = ops.xlogy(p, q, axis) / sp - ops.log(sq)  # -H(P, Q)
    return a, b, 8.0 * (abs(a) + abs(b) + abs(ops.log(sp)) + abs(ops.log(sq)) + 1.0)


def fast_kl(backend: str, p: Any, q: Any, axis: int) -> Any:
    """``KL = H(P, Q) - H(P)`` from two fused passes, where that difference is well inside the
    accuracy contract (not for nearly identical inputs, whose KL is below its rounding)."""
    ops = _OPS[backend]
    if not (ops.positive(p) and ops.positive(q)):
        return None
    parts = _kl_parts(ops, p, q, axis)
    if parts is None:
        return None
    a, b, bound = parts
    kl = a - b
    return kl if _bound_ok(kl, bound, ops.eps(p)) else None


def fast_cross_entropy(backend: str, p: Any, q: Any, axis: int) -> Any:
    """``H(P, Q) = -(sum p log q)/S_p + log S_q`` (no cancellation unless ``H(P, Q)`` is
    tiny: a nearly one-hot pair takes the general path)."""
    ops = _OPS[backend]
    if not (ops.positive(p) and ops.positive(q)):
        return None
    parts = _kl_parts(ops, p, q, axis)
    if parts is None:
        return None
    _, b, bound = parts
    ce = -b
    return ce if _bound_ok(ce, bound, ops.eps(p)) else None


def fast_js(backend: str, p: Any, q: Any, axis: int) -> Any:
    """``JS = H(M) - (H(P) + H(Q))/2`` on the normalised operands (error bound from the
    three entropies; nearly identical inputs take the general path)."""
    ops = _OPS[backend]
    if not (ops.positive(p) and ops.positive(q)):
        return None
    tot = _masses(ops, axis, p, q)
    if tot is None:
        return None
    P, Q = p / tot[0], q / tot[1]
    M = (P + Q) * 0.5
    hp, hq, hm = (-ops.xlogx(x, axis) for x in (P, Q, M))
    js = hm - (hp + hq) * 0.5
    return js if _bound_ok(js, 8.0 * (hm + 1.0), ops.eps(p)) else None
