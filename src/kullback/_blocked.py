"""Blocked, two-core evaluation of the generic kernels on large NumPy inputs.

The same kernels of :mod:`kullback._kernels` run on cache-sized tiles of the input; each tile
yields a partial state (row sums of non-negative terms) and the states merge by addition. The
tiles are split into one contiguous run per worker thread, and the per-worker states are added
in a fixed order, so the result does not depend on thread timing. NumPy releases the GIL inside
its ufuncs, so the logarithms (the bottleneck) run on every core, and no temporary is larger
than a tile: the extra memory is a few tiles per worker, whatever the input size.

Two passes: :func:`masses` (row sums and minima: the normalisers, and the validation data) and
:func:`term_sums` (the measures, given the normalisers).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import array_api_compat.numpy as xnp
import numpy as np

from kullback import _kernels

TILE = 32_768          # elements per tile: ~256 KiB of float64, a few tiles fit in L2
MIN_BLOCKED = 1 << 18  # below this many elements one generic call is faster

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


def _as_rows(x: np.ndarray) -> np.ndarray | None:
    n = x.shape[-1]
    rows = int(np.prod(x.shape[:-1], dtype=np.int64))
    try:
        return np.reshape(x, (rows, n), copy=False)
    except ValueError:  # a broadcast view that cannot be flattened without a copy
        return None


def _tiles(rows: int, n: int) -> list[tuple[int, int, int, int]]:
    if n >= TILE:
        return [(r, r + 1, c, min(c + TILE, n)) for r in range(rows) for c in range(0, n, TILE)]
    per = max(1, TILE // n)
    return [(r, min(r + per, rows), 0, n) for r in range(0, rows, per)]


def _run(
    arrays: Sequence[np.ndarray],
    work: Callable[[list[np.ndarray]], list[np.ndarray]],
    n_out: int,
) -> list[np.ndarray]:
    """Apply ``work`` to every tile of ``arrays`` (same shape, axis last); return row sums."""
    shape = arrays[0].shape
    n = shape[-1]
    flat = [_as_rows(a) for a in arrays]
    rows = int(np.prod(shape[:-1], dtype=np.int64))
    lead = shape[:-1]

    def take(a: np.ndarray, f: np.ndarray | None, r0: int, r1: int, c0: int, c1: int):
        if f is not None:
            return f[r0:r1, c0:c1]
        idx = np.unravel_index(np.arange(r0, r1), lead)
        return a[idx][:, c0:c1]

    tiles = _tiles(rows, n)
    k = min(_workers(), len(tiles))
    bounds = [len(tiles) * i // k for i in range(k + 1)]

    def job(i: int) -> list[np.ndarray]:
        acc = [np.zeros(rows, dtype=arrays[0].dtype) for _ in range(n_out)]
        with np.errstate(all="ignore"):
            for r0, r1, c0, c1 in tiles[bounds[i] : bounds[i + 1]]:
                pieces = [take(a, f, r0, r1, c0, c1) for a, f in zip(arrays, flat, strict=True)]
                parts = work(pieces)
                for j, part in enumerate(parts):
                    acc[j][r0:r1] += part
        return acc

    if k == 1:
        partials = [job(0)]
    else:
        partials = list(_pool().map(job, range(k)))
    out = partials[0]
    for extra in partials[1:]:
        for j in range(n_out):
            out[j] = out[j] + extra[j]
    return [o.reshape(lead) for o in out]


def masses(*arrays: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
    """Row sums and global minimum of each array, in one blocked pass."""
    mins: list[list[float]] = []

    def work(tiles: list[np.ndarray]) -> list[np.ndarray]:
        mins.append([float(t.min()) for t in tiles])
        return [np.sum(t, axis=-1) for t in tiles]

    sums = _run(arrays, work, len(arrays))
    minima = [min(m[j] for m in mins) for j in range(len(arrays))]
    return sums, minima


def _kind_fn(kind: str) -> Callable[[Any, Any], Any]:
    if kind == "entropy":
        return lambda P, Q: _kernels.entropy_terms(xnp, P)
    if kind == "cross_entropy":
        return lambda P, Q: _kernels.cross_entropy_terms(xnp, P, Q)
    if kind == "kl":
        return lambda P, Q: _kernels.kl_terms(xnp, P, Q)
    if kind == "js":
        return lambda P, Q: _kernels.js_terms(xnp, P, Q)
    raise ValueError(f"unknown measure {kind!r}")


def term_sums(
    kinds: Sequence[str],
    p: np.ndarray,
    q: np.ndarray | None,
    sp: np.ndarray,
    sq: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """Row sums of the kernels' terms for each kind, with ``p/sp`` and ``q/sq`` normalised.

    ``sp`` and ``sq`` have the rows' shape (``p.shape[:-1]``). They ride along as extra
    inputs broadcast over the outcome axis (zero-stride views, no memory), so every tile
    receives its own rows' normalisers from the same tiling.
    """
    arrays = [p] if q is None else [p, q]
    shape = p.shape
    lead = shape[:-1]
    norms = [np.broadcast_to(np.reshape(s, (*lead, 1)), shape) for s in (sp, sq) if s is not None]
    fns = [_kind_fn(k) for k in kinds]
    k = len(arrays)

    def work(tiles: list[np.ndarray]) -> list[np.ndarray]:
        P = tiles[0] / tiles[k][:, :1]
        Q = tiles[1] / tiles[k + 1][:, :1] if k == 2 else None
        return [np.sum(f(P, Q), axis=-1) for f in fns]

    out = _run(arrays + norms, work, len(fns))
    return dict(zip(kinds, out, strict=True))
