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

    def log(self, x: Any) -> np.ndarray:
        return np.log(x, out=self._f())

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


_HALF = {np.dtype(np.float64): 512, np.dtype(np.float32): 64}


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product without a temporary. Not ``np.vecdot``: that calls BLAS, whose
    own thread pool fights the driver's threads for the cores (2x slower with two threads)."""
    return np.einsum("ij,ij->i", a, b)


_TINY = {np.dtype(np.float64): 5e-324, np.dtype(np.float32): 1e-45}


def tile_entropy(ns: TileNamespace, A: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of ``A log A`` (0 log 0 = 0): one log and one fused multiply-sum."""
    L = ns.log(ns.maximum(A, _TINY[A.dtype]) if has_zero else A)
    return _rowdot(A, L)


def tile_kl(ns: TileNamespace, A: np.ndarray, B: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of the Bregman KL terms ``A (x - 1 - log x)``, ``x = B/A``.

    The common tile (every ``A > 0``, no ratio near the float range) takes five operations;
    a tile with a zero, an infinite term or an extreme ratio is recomputed by the generic
    kernel, which handles every case (the result is then exactly the generic one).
    """
    if not has_zero:
        x = ns.divide(B, A)
        phi = ns.log(x)
        np.subtract(x, phi, out=phi)  # in place: two tile buffers stay in cache, not four
        np.subtract(phi, 1.0, out=phi)
        s = _rowdot(A, phi)
        if np.isfinite(s).all() and ns.min(x) >= 2.0 ** -_HALF[A.dtype]:
            return s
    return np.sum(_kernels.kl_terms(ns, A, B), axis=-1)


def tile_js(ns: TileNamespace, A: np.ndarray, B: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of four times the JS terms: Bregman terms of ``(2A, A+B)`` and ``(2B, A+B)``.

    On a tile of normal positive numbers these are ``2 A phi(M/A) + 2 B phi(M/B)`` with the
    exact midpoint ``M``; the ratios are at least 1/2, so only an overflow (a NaN sum) sends
    such a tile to the generic kernel, as does any zero or subnormal entry.
    """
    if not has_zero:  # every entry normal and positive: M = (A + B) / 2 is exact
        M = ns.add(A, B)
        np.multiply(M, 0.5, out=M)
        s = np.zeros(A.shape[0], dtype=A.dtype)
        for V in (A, B):
            x = ns.divide(M, V)
            phi = ns.log(x)
            np.subtract(x, phi, out=phi)  # in place: fewer tile buffers, all in cache
            np.subtract(phi, 1.0, out=phi)
            s += _rowdot(V, phi)
        s *= 2.0
        if np.isfinite(s).all():
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
    c = sq / sp
    offset = (c - 1.0) - np.log(c)
    b = raw / sp
    return np.maximum(b - offset, 0.0) if np.all(offset <= b / 16) else None
