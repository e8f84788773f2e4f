"""Blocked, multi-core evaluation of the generic kernels on large NumPy inputs.

The same kernels of :mod:`kullback.measures._kernels` run on cache-sized tiles of the input;
each tile
yields a partial state (row sums of terms of one sign) and the states merge by addition. The
tiles are split into one contiguous run per worker thread, and the per-worker states are added
in a fixed order, so the result does not depend on thread timing.

Two things make this fast on NumPy, where a naive blocked loop is not:

* The kernels receive a :class:`_TileNamespace` instead of NumPy itself: the same functions
  (``where``, ``log``, ``multiply``, ...) but each result is written into a preallocated
  per-thread buffer. Without it, every operation of every tile allocates and frees a temporary,
  and the allocator's page faults and locks cost more than the logarithms.
* NumPy releases the GIL inside each ufunc, so the logarithms run on every core.

The extra memory is a few dozen tile-sized buffers per worker, whatever the input size.

Passes: :func:`one_pass` (row sums and minima, the normalisers and validation data, together
with the raw entropy and KL sums) and, when needed, :func:`term_sums` (the measures, given the
exact normalisers).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from kullback.measures import _kernels

MIN_BLOCKED = 1 << 18   # below this many elements one generic call is as fast
_MIN_TILE, _MAX_TILE = 4096, 65536

_POOL: ThreadPoolExecutor | None = None


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="kullback")
    return _POOL


def use_blocked(*arrays: Any) -> bool:
    """Whether the blocked driver serves these (broadcast, axis-last) arrays."""
    return all(type(a) is np.ndarray for a in arrays) and arrays[0].size >= MIN_BLOCKED


def _tile_size(total: int) -> int:
    """Elements per tile: a power of two near 1/128 of the input, from 4 Ki to 64 Ki.

    Bounded below by the Python overhead per tile and above by memory: a worker holds about a
    dozen tile buffers, which stays under 10 % of the input at every size.
    """
    return int(min(_MAX_TILE, max(_MIN_TILE, 1 << max(0, (total // 128).bit_length() - 1))))


class _TileNamespace:
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


def _as_rows(x: np.ndarray) -> np.ndarray | None:
    n = x.shape[-1]
    rows = int(np.prod(x.shape[:-1], dtype=np.int64))
    try:
        return np.reshape(x, (rows, n), copy=False)
    except ValueError:  # a broadcast view that cannot be flattened without a copy
        return None


def _tiles(rows: int, n: int, tile: int) -> list[tuple[int, int, int, int]]:
    if n >= tile:
        return [(r, r + 1, c, min(c + tile, n)) for r in range(rows) for c in range(0, n, tile)]
    per = max(1, tile // n)
    return [(r, min(r + per, rows), 0, n) for r in range(0, rows, per)]


def _run(
    arrays: Sequence[np.ndarray],
    work: Callable[[_TileNamespace, list[np.ndarray]], list[np.ndarray]],
    n_out: int,
) -> list[np.ndarray]:
    """Apply ``work`` to every tile of ``arrays`` (same shape, axis last); return row sums."""
    shape = arrays[0].shape
    n = shape[-1]
    lead = shape[:-1]
    rows = int(np.prod(lead, dtype=np.int64))
    flat = [_as_rows(a) for a in arrays]
    tile = _tile_size(rows * n)

    def take(a: np.ndarray, f: np.ndarray | None, r0: int, r1: int, c0: int, c1: int):
        if f is not None:
            return f[r0:r1, c0:c1]
        return a[np.unravel_index(np.arange(r0, r1), lead)][:, c0:c1]

    tiles = _tiles(rows, n, tile)
    k = min(_workers(), len(tiles))
    bounds = [len(tiles) * i // k for i in range(k + 1)]

    def job(i: int) -> list[np.ndarray]:
        acc = [np.zeros(rows, dtype=arrays[0].dtype) for _ in range(n_out)]
        ns = _TileNamespace(arrays[0].dtype)
        with np.errstate(all="ignore"):
            for r0, r1, c0, c1 in tiles[bounds[i] : bounds[i + 1]]:
                ns.reset((r1 - r0, c1 - c0))
                pieces = [take(a, f, r0, r1, c0, c1) for a, f in zip(arrays, flat, strict=True)]
                for j, part in enumerate(work(ns, pieces)):
                    acc[j][r0:r1] += part
        return acc

    partials = [job(0)] if k == 1 else list(_pool().map(job, range(k)))
    out = partials[0]
    for extra in partials[1:]:
        for j in range(n_out):
            out[j] = out[j] + extra[j]
    return [o.reshape(lead) for o in out]


_HALF = {np.dtype(np.float64): 512, np.dtype(np.float32): 64}


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot product without a temporary. Not ``np.vecdot``: that calls BLAS, whose
    own thread pool fights the driver's threads for the cores (2x slower with two threads)."""
    return np.einsum("ij,ij->i", a, b)
_TINY = {np.dtype(np.float64): 5e-324, np.dtype(np.float32): 1e-45}


def _tile_entropy(ns: _TileNamespace, A: np.ndarray, has_zero: bool) -> np.ndarray:
    """Row sums of ``A log A`` (0 log 0 = 0): one log and one fused multiply-sum."""
    L = ns.log(ns.maximum(A, _TINY[A.dtype]) if has_zero else A)
    return _rowdot(A, L)


def _tile_kl(ns: _TileNamespace, A: np.ndarray, B: np.ndarray, has_zero: bool) -> np.ndarray:
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


def _tile_js(ns: _TileNamespace, A: np.ndarray, B: np.ndarray, has_zero: bool) -> np.ndarray:
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


def one_pass(
    kinds: Sequence[str], p: np.ndarray, q: np.ndarray | None, *, minima: bool = True
) -> dict[str, Any]:
    """Masses, minima and the raw (unnormalised) sums, in a single pass over the input.

    Returns row sums ``sp`` (and ``sq``), global minima ``min_p`` (``min_q``), the global
    maximum ``max_p``, and for each kind among ``entropy`` and ``kl`` the raw sum: ``A = sum
    p log p`` and ``B = sum p (x - 1 - log x)`` with ``x = q/p``. The caller turns them into the
    measures (``H = log sp - A/sp``, ``KL = B/sp - phi(sq/sp)``) when that loses nothing to
    cancellation, and otherwise makes a second pass with the exact normalisers
    (:func:`term_sums`). One pass reads the input once, which matters: the logarithms run on
    every core, but memory bandwidth is shared.
    """
    arrays = [p] if q is None else [p, q]
    stats: list[tuple[float, ...]] = []
    raw_kinds = [k for k in kinds if k in ("entropy", "kl")]

    def work(ns: _TileNamespace, tiles: list[np.ndarray]) -> list[np.ndarray]:
        A = tiles[0]
        # the minima also choose each tile's fast path, so they are computed whenever a raw
        # sum is; without one (a JS-only call) they come from the second pass instead
        mins = [float(t.min()) for t in tiles] if minima or raw_kinds else [0.0] * len(tiles)
        stats.append((*mins, float(A.max()) if "entropy" in raw_kinds else 0.0))
        out = [np.sum(t, axis=-1) for t in tiles]
        for kind in raw_kinds:
            if kind == "entropy":
                out.append(_tile_entropy(ns, A, mins[0] <= 0))
            else:
                out.append(_tile_kl(ns, A, tiles[1], mins[0] <= 0))
        return out

    sums = _run(arrays, work, len(arrays) + len(raw_kinds))
    res: dict[str, Any] = {"sp": sums[0], "min_p": min(s[0] for s in stats),
                           "max_p": max(s[-1] for s in stats)}
    if q is not None:
        res["sq"] = sums[1]
        res["min_q"] = min(s[1] for s in stats)
    for kind, raw in zip(raw_kinds, sums[len(arrays):], strict=True):
        res[kind] = raw
    return res


def term_sums(
    kinds: Sequence[str],
    p: np.ndarray,
    q: np.ndarray | None,
    sp: np.ndarray,
    sq: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """Row sums of the kernels' terms for each kind (entropy, kl, js) of ``p/sp``, ``q/sq``.

    Also returns ``min_p`` and ``min_q``, the minima of the (scaled) tiles, for validation.

    ``sp`` and ``sq`` have the rows' shape (``p.shape[:-1]``). Entropy runs on ``P = p/sp``.
    The KL and JS terms are homogeneous of degree one in ``(P, Q)``, so they run on ``p`` and
    ``q`` with the smaller-total one scaled *up* to the other's total (no positive mass can
    underflow, and usually only one array is multiplied), and their row sums are divided by
    that total once at the end. Per-row factors ride along as extra inputs broadcast over the
    outcome axis (zero-stride views, no memory), so every tile receives its own rows' factors.
    """
    shape = p.shape
    lead = shape[:-1]

    def column(v: Any) -> np.ndarray:
        return np.broadcast_to(np.reshape(np.asarray(v, dtype=p.dtype), (*lead, 1)), shape)

    arrays = [p, column(1.0 / sp)]
    total = None
    scale_p = scale_q = False
    if q is not None:
        from kullback.measures.discrete import _pair_factors

        fp, fq, total, _ = _pair_factors(np, sp, sq)  # the caller checked that all are fine
        scale_p, scale_q = bool(np.any(fp != 1)), bool(np.any(fq != 1))
        arrays += [q, column(fp), column(fq)]
    def work(ns: _TileNamespace, tiles: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        A = B = None
        for kind in kinds:
            if kind == "entropy":
                P = ns.multiply(tiles[0], tiles[1][:, :1])
                lo = float(ns.min(P))
                minima.append((lo, lo))
                out.append(_tile_entropy(ns, P, lo <= 0))
                continue
            if A is None:
                A = ns.multiply(tiles[0], tiles[3][:, :1]) if scale_p else tiles[0]
                B = ns.multiply(tiles[2], tiles[4][:, :1]) if scale_q else tiles[2]
                lo_a, lo_b = float(ns.min(A)), float(ns.min(B))
                minima.append((lo_a, lo_b))
                zero = min(lo_a, lo_b) < np.finfo(A.dtype).tiny
            tile_fn = _tile_kl if kind == "kl" else _tile_js
            out.append(tile_fn(ns, A, B, zero))
        return out

    minima: list[tuple[float, float]] = []
    sums = _run(arrays, work, len(kinds))
    sums = [s if k == "entropy" else s / total for k, s in zip(kinds, sums, strict=True)]
    out = dict(zip(kinds, sums, strict=True))
    out["min_p"] = min((m[0] for m in minima), default=0.0)  # the factors are positive:
    out["min_q"] = min((m[1] for m in minima), default=0.0)  # signs are those of p and q
    return out
