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
from kullback.measures._tiles import RawTotals, TileNamespace, rowsum
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


def _tiles(rows: int, n: int, tile: int, columns: bool) -> list[tuple[int, int, int, int]]:
    """``(r0, r1, c0, c1)`` of every tile: runs along memory, rows (or, for ``columns``,
    outcomes) split only when one is longer than a tile."""
    if columns:  # stored outcome by outcome: a tile is a block of rows for a few outcomes
        if rows >= tile:
            return [(r, min(r + tile, rows), c, c + 1) for c in range(n)
                    for r in range(0, rows, tile)]
        per = max(1, tile // rows)
        return [(0, rows, c, min(c + per, n)) for c in range(0, n, per)]
    if n >= tile:
        return [(r, r + 1, c, min(c + tile, n)) for r in range(rows) for c in range(0, n, tile)]
    per = max(1, tile // n)
    return [(r, min(r + per, rows), 0, n) for r in range(0, rows, per)]


def _by_columns(flat: Sequence[np.ndarray | None]) -> bool:
    """Whether the (rows, n) operands are stored outcome by outcome (an input reduced along
    its first axis): then the tiles follow that order and no transposing copy is made."""
    a = flat[0]
    return a is not None and a.ndim == 2 and a.shape[0] > 1 and a.shape[1] > 1 \
        and a.flags.f_contiguous


def _run(
    arrays: Sequence[np.ndarray],
    work: Callable[[TileNamespace, list[np.ndarray]], list[np.ndarray]],
    n_out: int,
) -> list[np.ndarray]:
    """Apply ``work`` to every tile of ``arrays`` (same shape, axis last); return row sums.

    Rows are whole or split across tiles; either way each tile adds its rows' partial sums.
    """
    shape = arrays[0].shape
    n = shape[-1]
    lead = shape[:-1]
    rows = int(np.prod(lead, dtype=np.int64))
    flat = [_as_rows(a) for a in arrays]
    tile = _tile_size(rows * n)
    columns = _by_columns(flat)

    def take(a: np.ndarray, f: np.ndarray | None, r0: int, r1: int, c0: int, c1: int):
        if f is not None:
            return f[r0:r1, c0:c1]
        return a[np.unravel_index(np.arange(r0, r1), lead)][:, c0:c1]

    tiles = _tiles(rows, n, tile, columns)
    k = min(_workers(), len(tiles))
    bounds = [len(tiles) * i // k for i in range(k + 1)]

    def job(i: int) -> list[np.ndarray]:
        acc = [np.zeros(rows, dtype=arrays[0].dtype) for _ in range(n_out)]
        ns = TileNamespace(arrays[0].dtype)
        with np.errstate(all="ignore"):
            for r0, r1, c0, c1 in tiles[bounds[i] : bounds[i + 1]]:
                ns.reset((r1 - r0, c1 - c0), columns)
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
    maxima ``max_p`` (``max_q``) where a finishing step needs them, and for each measure with
    a ``raw_finish`` its tile kernel's row sums on the unnormalised operands (under the
    measure's name). One pass reads the input once, which matters: the logarithms run on
    every core, but memory bandwidth is shared.
    """
    arrays = [p] if q is None else [p, q]
    stats: list[tuple[float, ...]] = []
    raw = [m for m in measures if m.raw_finish is not None]
    # the largest entries bound the raw sums' terms of the other sign (counts above 1)
    tops = [any(m.name == "entropy" for m in raw), any(m.name == "cross_entropy" for m in raw)]

    def work(ns: TileNamespace, tiles: list[np.ndarray]) -> list[np.ndarray]:
        # the minima also choose each tile's fast path, so they are computed whenever a raw
        # sum is; without one (a JS-only call) they come from the second pass instead
        mins = [float(t.min()) for t in tiles] if minima or raw else [0.0] * len(tiles)
        maxs = [float(t.max()) if want else np.inf for t, want in zip(tiles, tops, strict=False)]
        stats.append((*mins, *maxs))
        out = [rowsum(t) for t in tiles]
        out += [m.tile(ns, *tiles[: m.arity], min(mins[: m.arity]) <= 0) for m in raw]
        return out

    sums = _run(arrays, work, len(arrays) + len(raw))
    k = len(arrays)
    res: dict[str, Any] = {"sp": sums[0], "min_p": min(s[0] for s in stats),
                           "max_p": max(s[k] for s in stats)}
    if q is not None:
        res["sq"] = sums[1]
        res["min_q"] = min(s[1] for s in stats)
        res["max_q"] = max(s[k + 1] for s in stats)
    for m, r in zip(raw, sums[k:], strict=True):
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
    """``x`` itself if it is stored row by row, or outcome by outcome (the outcome axis was
    the first: the tiles then follow that order), or is a broadcast view (zero strides); a
    C-contiguous copy of any other strided view (rows of a few outcomes, read across cache
    lines, are several times slower than one copying pass)."""
    if x.flags.c_contiguous or 0 in x.strides or np.moveaxis(x, -1, 0).flags.c_contiguous:
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
    ``raw_finish`` are finished from those where the normalisation loses nothing to
    cancellation. The rest take a second pass with the exact normalisers, and so do the rows
    a finish rejects, except for a measure ``composed_of`` others: its rejected rows stay NaN
    for the caller to compose. None means the generic path must serve: a measure without a
    tile kernel, or totals of p and q beyond the float range of each other.
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
    if q is not None and not _all_direct(sp, sq):
        return None  # totals far apart or near the float range: the generic path (log space)
    totals = RawTotals(sp, sq, first["max_p"], first.get("max_q", np.inf))
    out: dict[str, Any] = {}
    with np.errstate(all="ignore"):
        for m in raw:
            out[m.name] = m.raw_finish(first[m.name], totals)  # NaN: rows to redo
        rest = [m for m in measures if m.name not in out]
        if rest:
            if any(m.raw_sum is not None for m in rest) and _dominant(p, first["max_p"], sp):
                return None  # a row holds one dominant entry: the generic path compensates it
            second = term_sums(rest, p, q, sp, sq)
            if pr.validate and not raw:
                check_masses("p", pr.p_orig, sp, xp, minimum=second["min_p"])
                if q is not None:
                    check_masses("q", pr.q_orig, sq, xp, minimum=second["min_q"])
            out.update({m.name: second[m.name] for m in rest})
        for m in raw:
            if not m.composed_of:
                out[m.name] = _redo_rows(m, out[m.name], p, q, sp, sq)
    return out


def _all_direct(sp: np.ndarray, sq: np.ndarray) -> bool:
    """Whether every row's totals are scaled directly (:func:`_kernels.direct_rows`): the
    extremes decide for nearly every input, the rows only when they do not."""
    lo, hi = min(float(np.min(sp)), float(np.min(sq))), max(float(np.max(sp)), float(np.max(sq)))
    if bool(_kernels.direct_rows(np, np.asarray([hi, lo], dtype=sp.dtype),
                                 np.asarray([lo, hi], dtype=sp.dtype)).all()):
        return True
    return bool(np.all(_kernels.direct_rows(np, sp, sq)))


def _redo_rows(m: Measure, value: np.ndarray, p: np.ndarray, q: np.ndarray | None,
               sp: np.ndarray, sq: np.ndarray | None) -> np.ndarray:
    """``value`` with the rows a single-pass finish left NaN filled by a second pass over
    those rows only (or, for a measure with a ``raw_sum`` where one of those rows holds a
    dominant entry, by that generic sum, which compensates it)."""
    bad = np.isnan(value)
    if not bad.any():
        return value
    value = np.array(value)  # writable, also for a single row (a NumPy scalar)
    # every row: no copy; some: leading-axis indices (fancy indexing copies only those rows)
    idx: Any = ... if bad.all() else np.nonzero(bad)
    rows_p, rows_q = p[idx], None if q is None else q[idx]
    rsp, rsq = sp[idx], None if sq is None else sq[idx]
    if m.raw_sum is not None and _dominant(rows_p, float(np.max(rows_p)), rsp):
        value[idx] = m.raw_sum(np, rows_p, rsp[..., None])
    else:
        value[idx] = term_sums([m], rows_p, rows_q, rsp, rsq)[m.name]
    return value
