"""Blocked, multi-core evaluation of the measures on large NumPy inputs.

The measures' tile kernels (:mod:`kullback.measures._tiles`, named by the table of measures)
run on cache-sized tiles of the input; each tile yields a partial state (row sums of terms of
one sign) and the states merge by addition. The tiles are split into one contiguous run per
worker thread, and the per-worker states are added in a fixed order, so the result does not
depend on thread timing.

Two things make this fast on NumPy, where a naive blocked loop is not:

* The kernels receive a :class:`~kullback.measures._tiles.TileNamespace` instead of NumPy
  itself: the same functions (``where``, ``log``, ``multiply``, ...), but each result is
  written into a preallocated per-thread buffer. Without it, every operation of every tile
  allocates and frees a temporary, and the allocator's page faults and locks cost more than
  the logarithms.
* NumPy releases the GIL inside each ufunc, so the logarithms run on every core.

The extra memory is a few dozen tile-sized buffers per worker, whatever the input size.

Passes: :func:`one_pass` (row sums and minima, the normalisers and validation data, together
with the raw sums of the measures that have a ``raw_finish``) and, when needed,
:func:`term_sums` (the measures, given the exact normalisers). :func:`evaluate` chooses.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from kullback.measures import _kernels
from kullback.measures._prepare import Prepared
from kullback.measures._table import Measure
from kullback.measures._tiles import TileNamespace, rowsum
from kullback.validation import check_masses

__all__ = ["MIN_BLOCKED", "evaluate", "one_pass", "term_sums", "use_blocked"]

MIN_BLOCKED = 1 << 18   # below this many elements one generic call is as fast
_MIN_TILE, _MAX_TILE = 16384, 65536

_POOL: ThreadPoolExecutor | None = None


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="kullback")
    return _POOL


def _forget_pool_in_child() -> None:
    """A forked child inherits the pool object but none of its threads (and possibly its
    locks held): using it would wait forever. The child starts a pool of its own instead."""
    global _POOL
    _POOL = None


os.register_at_fork(after_in_child=_forget_pool_in_child)


def use_blocked(*arrays: Any) -> bool:
    """Whether the blocked driver serves these (broadcast, axis-last) arrays."""
    return all(type(a) is np.ndarray for a in arrays) and arrays[0].size >= MIN_BLOCKED


def _tile_size(total: int) -> int:
    """Elements per tile: a power of two near 1/128 of the input, from 16 Ki to 64 Ki.

    Bounded below by the Python overhead per tile and above by memory: a worker holds about a
    dozen tile buffers, which stays under 10 % of the input at every size.
    """
    return int(min(_MAX_TILE, max(_MIN_TILE, 1 << max(0, (total // 128).bit_length() - 1))))


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
    work: Callable[[TileNamespace, list[np.ndarray]], list[np.ndarray]],
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
        ns = TileNamespace(arrays[0].dtype)
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


def one_pass(
    measures: Sequence[Measure], p: np.ndarray, q: np.ndarray | None, *, minima: bool = True
) -> dict[str, Any]:
    """Masses, minima and the raw (unnormalised) sums, in a single pass over the input.

    Returns row sums ``sp`` (and ``sq``), global minima ``min_p`` (``min_q``), the global
    maximum ``max_p``, and for each measure with a ``raw_finish`` its tile kernel's row sums on
    the unnormalised operands (under the measure's name). One pass reads the input once, which
    matters: the logarithms run on every core, but memory bandwidth is shared.
    """
    arrays = [p] if q is None else [p, q]
    stats: list[tuple[float, ...]] = []
    raw = [m for m in measures if m.raw_finish is not None]

    def work(ns: TileNamespace, tiles: list[np.ndarray]) -> list[np.ndarray]:
        # the minima also choose each tile's fast path, so they are computed whenever a raw
        # sum is; without one (a JS-only call) they come from the second pass instead
        mins = [float(t.min()) for t in tiles] if minima or raw else [0.0] * len(tiles)
        top = float(tiles[0].max()) if any(m.arity == 1 or m.raw_sum for m in measures) else 0.0
        stats.append((*mins, top))
        out = [rowsum(t) for t in tiles]
        out += [m.tile(ns, *tiles[: m.arity], mins[0] <= 0) for m in raw]
        return out

    sums = _run(arrays, work, len(arrays) + len(raw))
    res: dict[str, Any] = {"sp": sums[0], "min_p": min(s[0] for s in stats),
                           "max_p": max(s[-1] for s in stats)}
    if q is not None:
        res["sq"] = sums[1]
        res["min_q"] = min(s[1] for s in stats)
    for m, r in zip(raw, sums[len(arrays):], strict=True):
        res[m.name] = r
    return res


def term_sums(
    measures: Sequence[Measure],
    p: np.ndarray,
    q: np.ndarray | None,
    sp: np.ndarray,
    sq: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """Row sums of each measure's terms on ``P = p/sp`` (and ``Q = q/sq``).

    Also returns ``min_p`` and ``min_q``, the minima of the (scaled) tiles, for validation.

    ``sp`` and ``sq`` have the rows' shape (``p.shape[:-1]``). Homogeneous measures (KL, JS)
    run on ``p`` and ``q`` with the smaller-total one scaled *up* to the other's total (no
    positive mass can underflow, and usually only one array is multiplied), and their row sums
    are divided by that total once at the end; the others run on the normalised operands.
    Per-row factors ride along as extra inputs broadcast over the outcome axis (zero-stride
    views, no memory), so every tile receives its own rows' factors.
    """
    shape = p.shape
    lead = shape[:-1]

    def column(v: Any) -> np.ndarray:
        return np.broadcast_to(np.reshape(np.asarray(v, dtype=p.dtype), (*lead, 1)), shape)

    arrays = [p, column(1.0 / sp)]
    total = None
    scale_p = scale_q = False
    if q is not None:
        fp, fq, total, _ = _kernels.pair_factors(np, sp, sq)  # the caller checked all are fine
        scale_p, scale_q = bool(np.any(fp != 1)), bool(np.any(fq != 1))
        arrays += [q, column(fp), column(fq), column(1.0 / sq)]

    def normalised(ns: TileNamespace, tiles: list[np.ndarray]) -> list[np.ndarray]:
        P = ns.multiply(tiles[0], tiles[1][:, :1])
        return [P] if q is None else [P, ns.multiply(tiles[2], tiles[5][:, :1])]

    def scaled(ns: TileNamespace, tiles: list[np.ndarray]) -> list[np.ndarray]:
        A = ns.multiply(tiles[0], tiles[3][:, :1]) if scale_p else tiles[0]
        B = ns.multiply(tiles[2], tiles[4][:, :1]) if scale_q else tiles[2]
        return [A, B]

    def work(ns: TileNamespace, tiles: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        operands: dict[bool, tuple[list[np.ndarray], list[float]]] = {}
        for m in measures:
            homogeneous = m.homogeneous and q is not None
            if homogeneous not in operands:
                ops = (scaled if homogeneous else normalised)(ns, tiles)
                lows = [float(ns.min(a)) for a in ops]
                minima.append((lows[0], lows[-1]))
                operands[homogeneous] = (ops, lows)
            ops, lows = operands[homogeneous]
            zero = min(lows[: m.arity]) < np.finfo(p.dtype).tiny
            out.append(m.tile(ns, *ops[: m.arity], zero))
        return out

    minima: list[tuple[float, float]] = []
    sums = _run(arrays, work, len(measures))
    sums = [s / total if m.homogeneous and q is not None else s
            for m, s in zip(measures, sums, strict=True)]
    out = {m.name: s for m, s in zip(measures, sums, strict=True)}
    out["min_p"] = min((m[0] for m in minima), default=0.0)  # the factors are positive:
    out["min_q"] = min((m[1] for m in minima), default=0.0)  # signs are those of p and q
    return out


def _contiguous(x: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of a strided view whose outcome axis was not last (rows of a few
    outcomes, read across cache lines, are several times slower than one copying pass);
    broadcast views (zero strides) stay views."""
    if x.flags.c_contiguous or 0 in x.strides:
        return x
    return np.ascontiguousarray(x)


def _dominant(p: np.ndarray, max_p: float, sp: np.ndarray) -> bool:
    """Whether some row's largest entry holds all but ``2**-16`` of its mass (the global
    maximum decides for most inputs; the row maxima, one cheap pass, for the rest)."""
    if max_p <= _kernels.DOMINANT * float(np.min(sp)):
        return False
    n = p.shape[-1]
    top = np.max(p, axis=-1) if n > 16 else functools.reduce(
        np.maximum, (p[..., j] for j in range(n)))  # short rows: columns, not a slow reduce
    return bool(np.any(top > _kernels.DOMINANT * sp))


def evaluate(pr: Prepared, measures: Sequence[Measure]) -> dict[str, Any] | None:
    """Sums of each measure's normalised terms along the last axis, or None (generic path).

    One pass gives the masses, the validation data and the raw sums; measures with a
    ``raw_finish`` are finished from those when the normalisation loses nothing to
    cancellation. The rest take a second pass with the exact normalisers. None means the
    generic path must serve: a measure without a tile kernel, or totals of p and q beyond the
    float range of each other.
    """
    if any(m.tile is None for m in measures):
        return None
    xp, p, q = pr.xp, _contiguous(pr.p), None if pr.q is None else _contiguous(pr.q)
    raw = [m for m in measures if m.raw_finish is not None]
    # with no measure finished in the first pass, the minima come from the second
    first = one_pass(measures, p, q, minima=bool(raw))
    sp, sq = first["sp"], first.get("sq")
    if pr.validate:
        check_masses("p", pr.p_orig, sp, xp, minimum=first["min_p"] if raw else 0.0)
        if q is not None:
            check_masses("q", pr.q_orig, sq, xp, minimum=first["min_q"] if raw else 0.0)
    if any(m.raw_sum is not None for m in measures) and _dominant(p, first["max_p"], sp):
        return None  # a row holds one dominant entry: the generic path compensates it
    if q is not None and not bool(np.all(_kernels.direct_rows(np, sp, sq))):
        return None  # totals far apart or near the float range: the generic path (log space)
    out: dict[str, Any] = {}
    with np.errstate(all="ignore"):
        for m in raw:
            extra = (sq,) if m.arity == 2 else (first["max_p"],)
            out[m.name] = m.raw_finish(first[m.name], sp, *extra)  # NaN: rows to redo
        rest = [m for m in measures if m.name not in out]
        if rest:
            second = term_sums(rest, p, q, sp, sq)
            if pr.validate and not raw:
                check_masses("p", pr.p_orig, sp, xp, minimum=second["min_p"])
                if q is not None:
                    check_masses("q", pr.q_orig, sq, xp, minimum=second["min_q"])
            out.update({m.name: second[m.name] for m in rest})
        for m in raw:
            _redo_rows(m, out[m.name], p, q, sp, sq)
    return out


def _redo_rows(m: Measure, value: np.ndarray, p: np.ndarray, q: np.ndarray | None,
               sp: np.ndarray, sq: np.ndarray | None) -> None:
    """Fill the rows a single-pass finish left NaN, by a second pass over those rows only."""
    bad = np.isnan(value)
    if not bad.any():
        return
    if bad.all():
        value[...] = term_sums([m], p, q, sp, sq)[m.name]
        return
    idx = np.nonzero(bad)  # leading-axis indices: fancy indexing copies only those rows
    sub = term_sums([m], p[idx], None if q is None else q[idx], sp[idx],
                    None if sq is None else sq[idx])
    value[idx] = sub[m.name]
