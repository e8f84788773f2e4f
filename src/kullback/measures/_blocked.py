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

import dataclasses
import functools
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from kullback.measures import _kernels
from kullback.measures._prepare import Prepared
from kullback.measures._table import Measure
from kullback.measures._tiles import (
    _EPS,
    _HALF,
    _NONE,
    _TINY,
    _TOL,
    NORMALISED,
    RawTotals,
    TileNamespace,
    _room,
    extremes,
    one_sign_rejects,
    rowsum,
)
from kullback.validation import check_masses

__all__ = ["MIN_BLOCKED", "evaluate", "one_pass", "precise_sums", "term_sums", "use_blocked"]

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
    """Elements per tile: a power of two near 1/8 of the input, from 16 Ki to 64 Ki.

    Bounded below by the Python overhead per tile (some 30 us: a 16 Ki tile's logarithms
    take about as long, so small tiles spend half their time in overhead) and above by memory
    and cache: a worker holds about a dozen tile buffers (6 MB at 64 Ki in float64).
    """
    return int(min(_MAX_TILE, max(_MIN_TILE, 1 << max(0, (total // 8).bit_length() - 1))))


def _as_rows(x: np.ndarray) -> np.ndarray | None:
    n = x.shape[-1]
    rows = int(np.prod(x.shape[:-1], dtype=np.int64))
    try:
        return np.reshape(x, (rows, n), copy=False)
    except ValueError:  # a broadcast view that cannot be flattened without a copy
        return None


def _tiles(rows: int, n: int, tile: int, columns: bool) -> list[tuple[int, int, int, int]]:
    """``(r0, r1, c0, c1)`` of every tile: runs along memory, rows (or, for ``columns``,
    outcomes) split only when one is longer than a tile; in row order, so that a worker's
    run of tiles covers a run of rows."""
    if columns:  # stored outcome by outcome: a tile is a block of rows for a few outcomes
        if _whole_columns(n, tile):  # or for every outcome, each a run of rows
            per = tile // n
            return [(r, min(r + per, rows), 0, n) for r in range(0, rows, per)]
        if rows >= tile:
            return [(r, min(r + tile, rows), c, c + 1) for r in range(0, rows, tile)
                    for c in range(n)]
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


def _plan(arrays: Sequence[np.ndarray]) -> tuple[list[np.ndarray | None], int, bool]:
    """The operands as (rows, n) views (None: a broadcast view that needs gathering), the
    tile size, and whether the tiles follow the outcomes (see :func:`_by_columns`)."""
    flat = [_as_rows(a) for a in arrays]
    return flat, _tile_size(arrays[0].size), _by_columns(flat)


def _whole_columns(n: int, tile: int) -> bool:
    """Whether tiles of an outcome-major input hold whole rows: runs of at least
    ``_COLUMN_RUN`` rows of each of the ``n`` outcomes fit in a tile (shorter runs make every
    operation a thousand short loops: (1000, 1000) along axis 0 took twice as long)."""
    return _COLUMN_RUN * n <= tile


_COLUMN_RUN = 256


def _whole_rows(arrays: Sequence[np.ndarray]) -> bool:
    """Whether every tile of :func:`_run` holds whole rows (rows shorter than a tile, or
    short enough outcome-major ones): each tile then knows its rows' totals and can finish
    them."""
    _, tile, columns = _plan(arrays)
    n = arrays[0].shape[-1]
    return _whole_columns(n, tile) if columns else n < tile


_Work = Callable[[TileNamespace, list[np.ndarray], "list[np.ndarray] | None", int],
                 list[np.ndarray]]


def _run(arrays: Sequence[np.ndarray], work: _Work, n_out: int,
         widen: bool = False) -> list[np.ndarray]:
    """Apply ``work`` to every tile of ``arrays`` (same shape, axis last); return row sums.

    ``widen``: short float32 rows are computed in float64 (see ``job``).

    Rows are whole or split across tiles; either way each tile adds its rows' partial sums.
    ``work(ns, tiles, dest, r0)`` returns the tile's ``n_out`` row sums; where tiles hold
    whole rows, ``dest`` are the outputs' slices of those rows, which ``work`` may fill and
    return itself (no copy), else None; ``r0`` is the tile's first row (flat index).
    """
    shape = arrays[0].shape
    n = shape[-1]
    lead = shape[:-1]
    rows = int(np.prod(lead, dtype=np.int64))
    flat, tile, columns = _plan(arrays)

    def take(a: np.ndarray, f: np.ndarray | None, r0: int, r1: int, c0: int, c1: int):
        if f is not None:
            return f[r0:r1, c0:c1]
        return a[np.unravel_index(np.arange(r0, r1), lead)][:, c0:c1]

    tiles = _tiles(rows, n, tile, columns)
    k = min(_workers(), len(tiles))
    bounds = [len(tiles) * i // k for i in range(k + 1)]
    whole = _whole_columns(n, tile) if columns else n < tile  # tiles of whole rows: in place
    dtype = arrays[0].dtype
    # rows split across tiles add up one partial sum a tile: float32 ones in float64 (up to
    # thousands of partials, whose float32 rounding could add up to the contract's 1e-4)
    wide = np.dtype(np.float64) if dtype == np.float32 and not whole else dtype
    out = [(np.empty if whole else np.zeros)(rows, dtype=wide) for _ in range(n_out)]

    def job(i: int) -> tuple[int, list[np.ndarray]]:
        mine = tiles[bounds[i] : bounds[i + 1]]
        lo = min(t[0] for t in mine)  # the worker's rows: its own partial sums (a row split
        hi = max(t[1] for t in mine)  # across workers gets a share from each)
        acc = out if whole else [np.zeros(hi - lo, dtype=wide) for _ in range(n_out)]
        shift = 0 if whole else lo
        # rows of a few outcomes are gathered outcome by outcome: every operation then runs
        # along memory (a column of a row-major tile is read across cache lines); float32
        # ones in float64, whose single pass vouches for nearly every short row (float32's
        # rounding of a short row's KL is often too close to it)
        # (an input reduced along its first axis is stored that way already)
        short = whole and n <= _SHORT
        work_dtype = np.dtype(np.float64) if widen and short and dtype == np.float32 \
            else dtype
        gather = [np.empty((n, mine[0][1] - mine[0][0]), dtype=work_dtype) for _ in arrays] \
            if short and (not columns or work_dtype != dtype) else None
        ns = TileNamespace(work_dtype)
        with np.errstate(all="ignore"):
            for r0, r1, c0, c1 in mine:
                ns.reset((r1 - r0, c1 - c0), columns or short)
                pieces = [take(a, f, r0, r1, c0, c1) for a, f in zip(arrays, flat, strict=True)]
                if gather is not None:
                    pieces = [_gathered(g, x) for g, x in zip(gather, pieces, strict=True)]
                dest = [o[r0:r1] for o in out] if whole and work_dtype == dtype else None
                for j, part in enumerate(work(ns, pieces, dest, r0)):
                    if whole:
                        if dest is None or part is not dest[j]:
                            out[j][r0:r1] = part
                    else:
                        acc[j][r0 - shift : r1 - shift] += part
        return lo, acc

    partials = [job(0)] if k == 1 else list(_pool().map(job, range(k)))
    if not whole:
        for lo, acc in partials:  # in a fixed order: the result does not depend on timing
            for j in range(n_out):
                out[j][lo : lo + acc[j].shape[0]] += acc[j]
    return [o.astype(dtype, copy=False).reshape(lead) for o in out]


_SHORT = 16


def _gathered(buffer: np.ndarray, tile: np.ndarray) -> np.ndarray:
    """``tile`` copied into ``buffer`` (outcome-major), returned as a (rows, n) view."""
    view = buffer[:, : tile.shape[0]].T
    np.copyto(view, tile)
    return view


def one_pass(
    measures: Sequence[Measure], p: np.ndarray, q: np.ndarray | None, *, minima: bool = True
) -> dict[str, Any]:
    """Masses, minima and the raw (unnormalised) sums, in a single pass over the input.

    Returns row sums ``sp`` (and ``sq``), global minima ``min_p`` (``min_q``) and for each
    measure with a ``raw_finish`` its single-pass kernel's row sums on the unnormalised
    operands (under the measure's name). One pass reads the input once, which matters: the
    logarithms run on every core, but memory bandwidth is shared.

    Where every tile holds whole rows (``finished`` is then True in the result), each tile
    also finishes its rows: the sums of the normalised terms of *every* measure, the rows a
    finish rejects recomputed at once from the tile in cache (see :func:`_finish_tile`), so
    that no second pass and no per-row work over the whole batch follows.

    Entropy alone needs no minimum: its kernel's sum is finite exactly when every entry is
    positive and finite (a zero or a negative entry gives NaN), so only a tile whose sum is
    not finite is searched for its minimum and summed again with the careful kernel; there
    the reported minimum is +inf when every entry was seen to be positive.

    Tiles of whole rows also report the extremes of their rows' totals (``ranges``: ``(min,
    max)`` of ``sp``, then of ``sq``, over every row; the validation and the choice of path
    need no pass over the totals then) and the rows they left NaN for the caller
    (``deferred``: flat row indices by measure).
    """
    arrays = [p] if q is None else [p, q]
    stats: list[tuple[list[float], list[tuple[float, float]], dict[str, np.ndarray]]] = []
    whole = _whole_rows(arrays)
    raw = [m for m in measures if m.raw_finish is not None or whole]
    # the minima choose each tile's kernel when q is read; without a raw sum (a JS-only
    # call) they come from the second pass instead
    upfront = (bool(raw) and q is not None) or (minima and not raw)
    ratios = any(m.raw_tile is not None for m in raw)  # kernels that divide q by p

    def work(ns: TileNamespace, tiles: list[np.ndarray],
             dest: list[np.ndarray] | None, r0: int) -> list[np.ndarray]:
        out = [rowsum(t, None if dest is None else dest[i]) for i, t in enumerate(tiles)]
        mins = [float(t.min()) for t in tiles] if upfront else [np.inf] * len(tiles)
        ranges = [extremes(s) for s in out] if whole else []
        careful = min(mins) <= 0 or (ratios and _extreme_ratio(
            mins, [hi for _, hi in ranges] if whole else [float(np.max(s)) for s in out],
            out[0].dtype))
        deferred: dict[str, np.ndarray] = {}
        if whole and not careful:
            done = _normalised_tile(ns, raw, tiles, out, ranges, mins if upfront else None,
                                    None if dest is None else dest[len(tiles):], deferred, r0)
            if done is not None:
                stats.append((done[1], ranges, deferred))
                return out + done[0]
        single = [m for m in raw if m.raw_finish is not None]
        sums = [(m.raw_tile or m.tile)(ns, *tiles[: m.arity], careful) for m in single]
        if not upfront and sums and not math.isfinite(
                sum(float(np.add.reduce(x)) for x in sums)):
            mins = [float(t.min()) for t in tiles]
            sums = [(m.raw_tile or m.tile)(ns, *tiles[: m.arity], True) for m in single]
        if whole:
            named = {m.name: x for m, x in zip(single, sums, strict=True)}
            sums = _finish_tile(ns, raw, tiles, RawTotals(*out, ranges=tuple(ranges)), named,
                                deferred=deferred, first_row=r0,
                                mins=mins if upfront else None,
                                dest=None if dest is None else dest[len(tiles):])
        stats.append((mins, ranges, deferred))
        return out + sums

    sums = _run(arrays, work, len(arrays) + len(raw), widen=any(m.homogeneous for m in raw))
    k = len(arrays)
    # (NumPy's reductions, not Python's min and max, which drop a NaN)
    res: dict[str, Any] = {"sp": sums[0], "min_p": float(np.min([s[0][0] for s in stats])),
                           "finished": whole, "deferred": _merged([s[2] for s in stats])}
    if whole:  # every row's total is in some tile: the extremes over the tiles
        res["ranges"] = tuple((float(np.min([s[1][i][0] for s in stats])),
                               float(np.max([s[1][i][1] for s in stats]))) for i in range(k))
    if q is not None:
        res["sq"] = sums[1]
        res["min_q"] = float(np.min([s[0][1] for s in stats]))
    for m, r in zip(raw, sums[k:], strict=True):
        res[m.name] = r
    return res


def _normalised_tile(ns: TileNamespace, measures: Sequence[Measure], tiles: list[np.ndarray],
                     totals: list[np.ndarray], ranges: list[tuple[float, float]],
                     mins: list[float] | None, dest: list[np.ndarray] | None,
                     deferred: dict[str, np.ndarray], first_row: int,
                     ) -> tuple[list[np.ndarray], list[float]] | None:
    """The measures on a tile of short whole rows, each row normalised before the logarithm
    (:data:`~kullback.measures._tiles.NORMALISED`: in float32 the raw sums' finish cancels,
    and its per-row test costs more than the logarithms), with the tile's minima; None where
    that does not serve the tile (a dtype or measure not listed there, totals out of the
    normal range, a ``Q`` that may leave it, or, for entropy alone, whose minima are not
    known, a zero or a negative entry: the single pass then takes it)."""
    dtype = tiles[0].dtype
    if tiles[0].shape[-1] > _SHORT \
            or not all(dtype in NORMALISED.get(m.name, ((), None))[0] for m in measures) \
            or not all(_room(lo, hi, dtype) for lo, hi in ranges) \
            or (len(tiles) == 2 and not (mins is not None
                                         and mins[1] >= _NORMAL_Q[dtype] * ranges[1][1])):
        return None
    values = [NORMALISED[m.name][1](ns, tiles, totals, None if dest is None else dest[i])
              for i, m in enumerate(measures)]
    if any(math.isnan(float(np.minimum.reduce(v, axis=None))) for v in values):
        if mins is None:  # rows rejected, or an entry <= 0 (then the single pass serves)
            mins = [float(np.minimum.reduce(t, axis=None)) for t in tiles]
            if not min(mins) > 0:
                return None
        sq = totals[1] if len(totals) == 2 else None
        values = [_settle(m, v, tiles, totals[0], sq, deferred, first_row)
                  for m, v in zip(measures, values, strict=True)]
    return values, mins if mins is not None else [math.inf] * len(tiles)


_NORMAL_Q = {np.dtype(t): 2.0 * float(np.finfo(t).tiny)  # least q / S_q with a normal Q
             for t in (np.float32, np.float64)}


def _settle(m: Measure, value: np.ndarray, tiles: list[np.ndarray], sp: np.ndarray,
            sq: np.ndarray | None, deferred: dict[str, np.ndarray] | None,
            first_row: int) -> np.ndarray:
    """``value`` (a tile's rows) with its NaN rows (rejected by a single pass) redone now,
    or deferred (see :func:`_finish_tile`); a measure ``composed_of`` others keeps them."""
    if m.composed_of or not math.isnan(float(np.minimum.reduce(value, axis=None))):
        return value
    idx = np.flatnonzero(np.isnan(value))
    if deferred is not None and 16 * idx.size < value.size:
        deferred[m.name] = idx + first_row
    else:
        rows = [t[idx] for t in tiles[: m.arity]]
        value[idx] = _redo_whole_rows(m, rows, sp[idx], None if sq is None else sq[idx])
    return value


def _finish_tile(ns: TileNamespace, measures: Sequence[Measure], tiles: list[np.ndarray],
                 totals: RawTotals, raw: dict[str, np.ndarray], *,
                 deferred: dict[str, np.ndarray] | None = None, first_row: int = 0,
                 mins: list[float] | None = None,
                 dest: list[np.ndarray] | None = None) -> list[np.ndarray]:
    """Sums of each measure's normalised terms on a tile of whole rows (``totals`` are their
    totals): a single-pass measure finished from its ``raw`` sums; the rows it rejects, and
    every row of a measure without a single pass, by the exact kernels on the tile's rows
    (:func:`_redo_whole_rows`). A measure ``composed_of`` others keeps its NaN rows (the
    caller composes them); given a dict ``deferred``, so do the others when only a few rows
    of the tile are rejected, their flat row indices (``first_row``: the tile's first) put in
    it under the measure's name (the caller redoes those of every tile at once: one call, not
    one a tile, and no search for them). ``mins``: the tiles' smallest entries, if known;
    ``dest``: the measures' output slices, which a finish may fill (and return) itself.
    """
    sp, sq = totals.sp, totals.sq
    out = []
    for i, m in enumerate(measures):
        if m.name not in raw:
            out.append(_exact_tile_rows(ns, m, tiles, sp, sq, mins))
            continue
        value = m.raw_finish(raw[m.name], totals if dest is None else
                             dataclasses.replace(totals, out=dest[i]))
        out.append(_settle(m, value, tiles, sp, sq, deferred, first_row))
    return out


def _redo_whole_rows(m: Measure, rows: list[np.ndarray], sp: np.ndarray,
                     sq: np.ndarray | None) -> np.ndarray:
    """``m`` on whole rows (copies) a single pass rejected: float32 rows by the float64
    single pass (which vouches for far more rows), entropy by its generic sum (a dominant
    entry compensated), the others by the exact tile kernels."""
    if rows[0].dtype == np.float32:
        return _single_pass_rows(m, [r.astype(np.float64) for r in rows])
    if m.raw_sum is not None:
        return _exact_rows(m, rows, sp, sq)
    sub = TileNamespace(rows[0].dtype)
    sub.reset(rows[0].shape)
    return _exact_tile_rows(sub, m, rows, sp, sq)


def _merged(deferred: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The tiles' deferred rows (flat indices), by measure."""
    names = {name for d in deferred for name in d}
    return {name: np.concatenate([d[name] for d in deferred if name in d]) for name in names}


def _redo_deferred(m: Measure, value: np.ndarray, flat: np.ndarray, p: np.ndarray,
                   q: np.ndarray | None, sp: np.ndarray,
                   sq: np.ndarray | None) -> np.ndarray:
    """``value`` (the driver's own array) with the rows that tiles of whole rows deferred
    (``flat``: their flat indices, in row order) redone at once."""
    idx = np.unravel_index(flat, value.shape)
    rows = [a[idx] for a in (p, q)[: m.arity]]
    value[idx] = _redo_whole_rows(m, rows, sp[idx], None if sq is None else sq[idx])
    return value


def _single_pass_rows(m: Measure, rows: list[np.ndarray]) -> np.ndarray:
    """``m`` on a few whole rows (float64 copies of float32 rows that the float32 single pass
    rejected): the single pass again, its rejected rows by the generic kernels."""
    ns = TileNamespace(rows[0].dtype)
    ns.reset(rows[0].shape)
    totals = [rowsum(r) for r in rows]
    careful = min(float(r.min()) for r in rows) <= 0 or (
        len(rows) == 2 and _extreme_ratio([float(r.min()) for r in rows],
                                          [float(np.max(t)) for t in totals], totals[0].dtype))
    raw = {m.name: (m.raw_tile or m.tile)(ns, *rows[: m.arity], careful)}
    return _finish_tile(ns, [m], rows, RawTotals(*totals), raw)[0]


def _exact_tile_rows(ns: TileNamespace, m: Measure, tiles: list[np.ndarray], sp: np.ndarray,
                     sq: np.ndarray | None, mins: list[float] | None = None) -> np.ndarray:
    """A measure without a single pass on a tile of whole rows: its tile kernel on the rows
    scaled (or normalised) by their own totals, in the tile's buffers. ``mins``: the tiles'
    smallest entries, if known (a homogeneous measure then scales ``q`` alone where it can,
    see :func:`_scaled_to_p`)."""
    if sq is None:
        return _exact_tile(ns, [m], tiles[0], None, (1.0 / sp)[:, None], None, None, [])[0]
    value = _scaled_to_p(ns, m, tiles, sp, sq, mins) if m.homogeneous and mins else None
    if value is None:
        inv_p = (1.0 / sp)[:, None]
        fp, fq, total, _ = _kernels.pair_factors(np, sp, sq)
        value = _exact_tile(ns, [m], tiles[0], tiles[1], inv_p, (1.0 / sq)[:, None],
                            [fp[:, None], fq[:, None]], [])[0]
        if not m.homogeneous:
            return value
        value = value / total
    # scaling rounds each entry by eps, which is most of q - p for nearly identical rows:
    # those (a divergence below about (2**14 eps)**2) take the generic kernels, which
    # recover the exact difference
    if float(np.minimum.reduce(value, axis=None)) >= _NEAR[value.dtype]:
        return value  # (one reduction; NaN fails it)
    near = np.flatnonzero(~(value >= _NEAR[value.dtype]))
    if near.size:
        value[near] = _exact_rows(m, [t[near] for t in tiles], sp[near], sq[near])
    return value


_NEAR = {np.dtype(np.float64): 2.0**-26, np.dtype(np.float32): 2.0**-10}


def _scaled_to_p(ns: TileNamespace, m: Measure, tiles: list[np.ndarray], sp: np.ndarray,
                 sq: np.ndarray, mins: list[float]) -> np.ndarray | None:
    """A homogeneous measure's normalised sums on a tile of whole rows whose entries are all
    normal: its kernel on ``p`` and ``q sp/sq`` (one multiply; no entry of that can overflow,
    ``q <= sq``), divided by ``sp``. None where a scaled entry could leave the normal range
    (the caller then scales the smaller total up, :func:`_kernels.pair_factors`)."""
    tiny = 2.0 * float(np.finfo(sp.dtype).tiny)  # (a margin for the rounding of the bound)
    c = sp / sq
    if not (mins[0] >= tiny and mins[1] * float(np.minimum.reduce(c, axis=None)) >= tiny):
        return None  # (NaN fails too)
    B = ns.multiply(tiles[1], c[:, None])
    value = m.tile(ns, tiles[0], B, False)
    value /= sp
    return value


def _exact_rows(m: Measure, rows: list[np.ndarray], sp: np.ndarray,
                sq: np.ndarray | None) -> np.ndarray:
    """Sums of ``m``'s normalised terms on a few whole rows (copies) that a single pass could
    not vouch for, by the generic path's kernels (the reference: a series for nearly
    identical inputs, the normalisers' rounding removed, a dominant entry compensated)."""
    from kullback.measures.discrete import _term_sums  # the generic path (imports this one)

    q = rows[1] if len(rows) == 2 else None
    return _term_sums(np, (m.name,), rows[0], q, sp[:, None],
                      None if sq is None else sq[:, None])[0]


def _extreme_ratio(mins: list[float], highs: list[float], dtype: Any = np.float64) -> bool:
    """Whether a ratio ``q/p`` of the tile may leave ``[2**-half, 2**half]``: bounded by the
    smallest entry over the largest row total (``highs``; no entry exceeds its row's
    total)."""
    half = 2.0 ** (512 if dtype == np.float64 else 64)
    return bool(mins[1] * half < highs[0] or mins[0] * half < highs[1])


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
    if q is not None:
        fp, fq, total, _ = _kernels.pair_factors(np, sp, sq)  # the caller checked all are fine
        scale = (bool(np.any(fp != 1)), bool(np.any(fq != 1)))
        arrays += [q, column(fp), column(fq), column(1.0 / sq)]

    def work(ns: TileNamespace, tiles: list[np.ndarray], _: Any, __: int) -> list[np.ndarray]:
        if q is None:
            return _exact_tile(ns, measures, tiles[0], None, tiles[1][:, :1], None, None,
                               minima)
        factors = [tiles[i][:, :1] if on else None for i, on in zip((3, 4), scale, strict=True)]
        return _exact_tile(ns, measures, tiles[0], tiles[2], tiles[1][:, :1], tiles[5][:, :1],
                           factors, minima)

    minima: list[tuple[float, float]] = []
    sums = _run(arrays, work, len(measures))
    sums = [s / total if m.homogeneous and q is not None else s
            for m, s in zip(measures, sums, strict=True)]
    out = {m.name: s for m, s in zip(measures, sums, strict=True)}
    out["min_p"] = min((m[0] for m in minima), default=0.0)  # the factors are positive:
    out["min_q"] = min((m[1] for m in minima), default=0.0)  # signs are those of p and q
    return out


def _exact_tile(ns: TileNamespace, measures: Sequence[Measure], p: np.ndarray,
                q: np.ndarray | None, inv_p: np.ndarray, inv_q: np.ndarray | None,
                factors: list[np.ndarray | None] | None,
                minima: list[tuple[float, float]]) -> list[np.ndarray]:
    """Row sums of each measure's tile kernel on one tile, given its rows' normalisers.

    ``inv_p``, ``inv_q`` are the rows' ``1/S`` (columns); ``factors`` scale ``p`` and ``q``
    to a common total for the homogeneous measures (None: a factor of 1 on every row), whose
    sums the caller divides by that total. The minima of the operands are appended to
    ``minima`` (for validation).
    """
    def operands(homogeneous: bool) -> list[np.ndarray]:
        if homogeneous:
            assert q is not None and factors is not None
            return [x if f is None else ns.multiply(x, f)
                    for x, f in zip((p, q), factors, strict=True)]
        P = ns.multiply(p, inv_p)
        return [P] if q is None else [P, ns.multiply(q, inv_q)]

    out = []
    seen: dict[bool, tuple[list[np.ndarray], list[float]]] = {}
    for m in measures:
        homogeneous = m.homogeneous and q is not None
        if homogeneous not in seen:
            ops = operands(homogeneous)
            lows = [float(ns.min(a)) for a in ops]
            minima.append((lows[0], lows[-1]))
            seen[homogeneous] = (ops, lows)
        ops, lows = seen[homogeneous]
        zero = min(lows[: m.arity]) < np.finfo(p.dtype).tiny
        out.append(m.tile(ns, *ops[: m.arity], zero))
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
    """Whether some row's largest entry holds all but ``2**-16`` of its mass (``2**-7`` in
    float32: :func:`~kullback.measures._kernels.dominant`; the global
    maximum decides for most inputs; the row maxima, one cheap pass, for the rest)."""
    share = _kernels.dominant(float(np.finfo(p.dtype).eps))
    if max_p <= share * float(np.min(sp)):
        return False
    n = p.shape[-1]
    top = np.max(p, axis=-1) if n > 16 else functools.reduce(
        np.maximum, (p[..., j] for j in range(n)))  # short rows: columns, not a slow reduce
    return bool(np.any(top > share * sp))


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
    lean = _lean_long(measures, p, q)  # (rows of more than 16 outcomes)
    if lean is None:
        lean = _lean_short(measures, p, q)
    if lean is not None:
        return lean
    raw = [m for m in measures if m.raw_finish is not None]
    # with no measure finished in the first pass, the minima come from the second
    first = one_pass(measures, p, q, minima=bool(raw))
    sp, sq = first["sp"], first.get("sq")
    ranges = first.get("ranges") or tuple(extremes(s) for s in (sp, sq) if s is not None)
    if pr.validate:  # the first pass saw the minima if it summed a measure (a JS-only call
        seen = bool(raw) or first["finished"]  # on whole rows too: no second pass follows)
        _check(pr, "p", sp, ranges[0], first["min_p"] if seen else 0.0)
        if q is not None:
            _check(pr, "q", sq, ranges[1], first["min_q"] if seen else 0.0)
    if q is not None and not _all_direct(sp, sq, ranges):
        return None  # totals far apart or near the float range: the generic path (log space)
    if first["finished"]:
        deferred = first["deferred"]
        return {m.name: _redo_deferred(m, first[m.name], deferred[m.name], p, q, sp, sq)
                if m.name in deferred else first[m.name] for m in measures}
    totals = RawTotals(sp, sq, ranges=tuple(ranges))
    out: dict[str, Any] = {}
    with np.errstate(all="ignore"):
        for m in raw:
            out[m.name] = m.raw_finish(first[m.name], totals)  # NaN: rows to redo
        rest = [m for m in measures if m.name not in out]
        if rest:
            if any(m.raw_sum is not None for m in rest) and _dominant(p, np.inf, sp):
                return None  # a row holds one dominant entry: the generic path compensates it
            second = term_sums(rest, p, q, sp, sq)
            if pr.validate and not raw:
                check_masses("p", pr.p_orig, sp, xp, minimum=second["min_p"])
                if q is not None:
                    check_masses("q", pr.q_orig, sq, xp, minimum=second["min_q"])
            out.update({m.name: _near_rows(m, second[m.name], p, q, sp, sq) for m in rest})
        for m in raw:
            if not m.composed_of:
                out[m.name] = _redo_rows(m, out[m.name], p, q, sp, sq)
    return out


def _outcome_major(arrays: Sequence[np.ndarray], longest: int) -> list[np.ndarray] | None:
    """The operands as ``(n, rows)`` C-contiguous arrays when each is an input of rows of at
    most ``longest`` outcomes stored outcome by outcome (reduced along its first axis) with
    whole-row tiles; else None."""
    n = arrays[0].shape[-1]
    if n > longest or n < 2 or not _whole_columns(n, _tile_size(arrays[0].size)):
        return None
    flat = [_as_rows(a) for a in arrays]
    if any(f is None or not f.T.flags.c_contiguous for f in flat):
        return None
    return [f.T for f in flat]  # type: ignore[union-attr]


def _colsum(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The sums of the ``(n, R)`` array's columns (each row's terms) into ``out``: a few
    outcomes by adding rows, more by one reduction along the first axis (both sequential)."""
    if x.shape[0] > _SHORT:
        return np.add.reduce(x, axis=0, out=out)
    np.add(x[0], x[1], out=out)
    for j in range(2, x.shape[0]):
        out += x[j]
    return out


class _Abandon(Exception):
    """A tile the lean loop does not serve (a zero or an entry near the float range's ends,
    or an invalid entry): the general driver takes the whole input."""


def _lean_entropy(tiles: list[np.ndarray], bufs: list[np.ndarray],
                  out: np.ndarray) -> np.ndarray:
    """``sum P log P`` of a tile's rows (``(n, R)``: outcome by outcome) into ``out``; returns
    the rows the one-sign bound does not vouch for (NaN in ``out``)."""
    (a,) = tiles
    s, P, L = bufs[0][0], bufs[1], bufs[2]
    np.reciprocal(_colsum(a, s), out=s)
    np.multiply(a, s, out=P)  # (faster than a division; one more rounding in the bound)
    np.log(P, out=L)
    L *= P
    return one_sign_rejects(_colsum(L, out), a.shape[0], 1)  # P: times 1/S, one more rounding


def _lean_cross_entropy(tiles: list[np.ndarray], bufs: list[np.ndarray],
                        out: np.ndarray) -> np.ndarray:
    """``sum p log Q / S_p`` of a tile's rows into ``out`` (and the rows rejected, as
    :func:`_lean_entropy`); abandons a tile with a negative ``p``, a total of ``p`` below
    ``2**-half`` or a ``Q`` below the normal range."""
    a, b = tiles
    sp, sq, Q = bufs[0][0], bufs[0][1], bufs[1]
    dtype = a.dtype
    _colsum(a, sp)
    np.multiply(b, np.reciprocal(_colsum(b, sq), out=sq), out=Q)
    if not (float(np.minimum.reduce(a, axis=None)) >= 0.0
            and float(np.minimum.reduce(sp, axis=None)) >= 2.0 ** -_HALF[dtype]
            and float(np.minimum.reduce(Q, axis=None)) >= _NORMAL_Q[dtype]):
        raise _Abandon
    np.log(Q, out=Q)
    Q *= a
    _colsum(Q, out)
    out /= sp
    return one_sign_rejects(out, a.shape[0], 1)


def _lean_kl(tiles: list[np.ndarray], bufs: list[np.ndarray], out: np.ndarray) -> np.ndarray:
    """KL of a tile's rows in float64 (``bufs``; float32 rows widened): ``log(S_q/S_p) - sum
    p log(q/p) / S_p`` into ``out``, accepted by the error bound of
    :func:`~kullback.measures._tiles.finish_raw_kl` (``8 eps (KL + 3 + 2 |log(S_q/S_p)|)``
    in float64's eps) held to the output's tolerance (float32 rows: only a KL below about
    1e-9 is rejected); the rejected rows are returned (NaN in ``out``). Abandons a tile with
    an entry of ``p`` or ``q`` that is not positive (a zero, a negative entry, NaN), and a
    float64 tile whose totals or ratios ``q/p`` may leave the range the bound holds in (the
    general driver's tests: :func:`_kernels.direct_rows`, :func:`_extreme_ratio`)."""
    a, b = tiles
    sp, sq, X, raw, log_c = bufs[0][0], bufs[0][1], bufs[1], bufs[2][0], bufs[2][1]
    for x, s in ((a, sp), (b, sq)):
        np.add(x[0], x[1], out=s, dtype=np.float64)
        for j in range(2, x.shape[0]):
            np.add(s, x[j], out=s, dtype=np.float64)
    lows = [float(np.minimum.reduce(x, axis=None)) for x in (a, b)]
    if not (lows[0] > 0.0 and lows[1] > 0.0) or (a.dtype == np.float64
                                                 and not _in_range(sp, sq, lows)):
        raise _Abandon
    np.divide(b, a, out=X, dtype=np.float64)
    np.log(X, out=X)
    np.multiply(X, a, out=X, dtype=np.float64)
    _colsum(X, raw)
    raw /= sp
    np.log(np.divide(sq, sp, out=log_c), out=log_c)
    np.subtract(log_c, raw, out=raw)  # KL
    big = max(float(np.maximum.reduce(log_c, axis=None)),
              -float(np.minimum.reduce(log_c, axis=None)))
    eps = _EPS[_F64]
    unit = 8.0 * eps / (_TOL[out.dtype] - 8.0 * eps)  # threshold per unit of the fixed error
    np.copyto(out, raw)
    if float(np.minimum.reduce(raw, axis=None)) >= unit * (2.0 * big + 3.0):  # (NaN fails)
        return _NONE
    bad = np.flatnonzero(~(raw >= unit * (2.0 * np.abs(log_c) + 3.0)))
    out[bad] = np.nan
    return bad


def _in_range(sp: np.ndarray, sq: np.ndarray, lows: list[float]) -> bool:
    """Whether the general driver scales these float64 totals directly (:func:`_all_direct`)
    and no ratio ``q/p`` may leave ``[2**-512, 2**512]`` (:func:`_extreme_ratio`; ``lows``:
    the least entries of ``p`` and ``q``)."""
    ranges = [extremes(sp), extremes(sq)]
    return _all_direct(sp, sq, ranges) and not _extreme_ratio(lows, [hi for _, hi in ranges])


# the lean loop's kernels by measure, and for each input dtype it serves, the compute dtype;
# it serves rows of at most 16 outcomes (the one-sign bound grows with the row length, sums
# being sequential, and in float32 leaves room for a few outcomes only; longer rows take the
# long loop, :func:`_lean_long`, whose raw sums' finish has no such term)
_LEAN = {"entropy": _lean_entropy, "cross_entropy": _lean_cross_entropy, "kl_divergence": _lean_kl}
_F64, _F32 = np.dtype(np.float64), np.dtype(np.float32)
_LEAN_DTYPES = {"entropy": {_F64: _F64, _F32: _F32}, "cross_entropy": {_F64: _F64, _F32: _F32},
                "kl_divergence": {_F64: _F64, _F32: _F64}}


def _lean_short(measures: Sequence[Measure], p: np.ndarray,
                q: np.ndarray | None) -> dict[str, Any] | None:
    """Entropy, cross-entropy or KL of short rows (at most 16 outcomes) stored outcome by
    outcome (an input reduced along its first axis), by a lean loop over whole-row tiles:
    each outcome a contiguous run of the tile's rows, a handful of NumPy calls a tile and no
    per-tile bookkeeping. Entropy and cross-entropy normalise every row before the logarithm
    (terms of one sign, the bound of :func:`~kullback.measures._tiles.normalised_entropy`); KL
    computes in float64 (float32 rows widened). Rows the bounds do not vouch for are redone
    (entropy, KL) or left NaN for the caller to compose (cross-entropy); None (the general
    driver) for another measure or layout, or an input with an entry the loop does not
    serve (a tile is abandoned: the general driver validates and reports it)."""
    if len(measures) != 1 or measures[0].name not in _LEAN:
        return None
    m = measures[0]
    arrays = [p] if q is None else [p, q]
    dtype = p.dtype
    if dtype not in _LEAN_DTYPES[m.name] or len(arrays) != m.arity:
        return None
    work = _LEAN_DTYPES[m.name][dtype]
    cols = _outcome_major(arrays, _SHORT)
    if cols is None:
        return None
    n, rows = cols[0].shape
    per = _MAX_TILE // n
    starts = list(range(0, rows, per))
    k = min(_workers(), len(starts))
    bounds = [len(starts) * i // k for i in range(k + 1)]
    value = np.empty(rows, dtype=dtype)
    kernel = _LEAN[m.name]

    def job(i: int) -> np.ndarray | None:
        with np.errstate(all="ignore"):  # (per thread)
            return run(starts[bounds[i] : bounds[i + 1]])

    abandoned: list[bool] = []  # any worker's abandon stops the others at their next tile

    def run(mine: list[int]) -> np.ndarray | None:
        bufs = [np.empty((2, per), work), np.empty((n, per), work), np.empty((n, per), work)]
        rejected = []
        for r0 in mine:
            r1 = min(rows, r0 + per)
            w = r1 - r0
            try:
                if abandoned:
                    raise _Abandon
                bad = kernel([c[:, r0:r1] for c in cols], [b[..., :w] for b in bufs],
                             value[r0:r1])
            except _Abandon:
                abandoned.append(True)
                return None
            if bad.size:
                rejected.append(bad + r0)
        return np.concatenate(rejected) if rejected else _NONE

    with np.errstate(all="ignore"):
        parts = [job(0)] if k == 1 else list(_pool().map(job, range(k)))
        if any(r is None for r in parts):
            return None
        bad = np.concatenate(parts)  # type: ignore[arg-type]
        if bad.size:
            rows_ = [c[:, bad].T for c in cols]
            totals = [r.sum(axis=-1) for r in rows_]
            if not all(np.isfinite(r).all() and (r >= 0).all() for r in rows_) \
                    or not all(((t > 0) & (t < math.inf)).all() for t in totals):
                return None  # an invalid row: the general driver reports it
            if not m.composed_of:
                value[bad] = _redo_whole_rows(m, rows_, totals[0],
                                              totals[1] if len(totals) == 2 else None)
    return {m.name: value.reshape(p.shape[:-1])}


# ------------------------------------------------------------ one long vector, or long rows
#
# The commonest large inputs, ``kb.entropy(p)`` on a million entries or more and a batch of
# rows of a few dozen to a few thousand outcomes (along either axis), need no more than each
# row's totals and raw sum. The general driver's bookkeeping (row indices, per-tile minima,
# ranges and finishes, deferred rows) costs more than that arithmetic there; this loop makes
# four to eight NumPy calls a tile and finishes every row at once.

_LONG_TILE = 1 << 17  # (measured: 32 Ki tiles took up to twice as long, 16 Ki three times)
# outcome-major rows of at most this many outcomes take tiles of whole rows (at least 2048,
# each outcome's run of them a contiguous piece of memory); longer rows make shorter runs,
# and take bands of outcomes, each a contiguous piece of memory, adding every row's partial
# sums ((512, 2000) along axis 0: 4.9 ms by whole rows, 2.1 ms by bands; at 40 outcomes
# whole rows were 15 % faster, at 100 bands 5 %, at 256 bands 20 %)
_LONG_OUTCOMES = 64
# a band holds at most this many outcomes of each row: its sums along them are sequential
# (NumPy adds the band's rows one by one), so their error grows with it; fewer rows than
# ``_LONG_TILE // _BAND`` (10 x 1e6 along axis 0) stay with the general driver
_BAND = 256


def _long_sums(tile: Callable[..., tuple[Any, ...] | None], arrays: list[np.ndarray],
               lo: int, hi: int, step: int, cut: int, axis: int,
               stop: list[bool]) -> list[list[Any]] | None:
    """The sums ``tile`` returns along the outcomes' ``axis`` for each tile of ``arrays``
    (``step`` indices at a time from ``lo`` to ``hi`` along axis ``cut``: pieces of a vector,
    whole rows, whole columns, or bands of outcomes; a list per sum), or None where a tile
    gave up (None: an entry the loop does not serve; the others are told through ``stop``)
    or another worker did."""
    shape = list(arrays[0].shape)
    shape[cut] = min(step, hi - lo)
    buf = np.empty(shape, dtype=arrays[0].dtype)
    sums: list[list[Any]] = []
    for a in range(lo, hi, step):
        e = min(hi, a + step)
        piece = (slice(a, e),) if cut == 0 else (slice(None), slice(a, e))
        mine = (slice(e - a),) if cut == 0 else (slice(None), slice(e - a))
        part = None if stop else tile(*(x[piece] for x in arrays), buf[mine], axis)
        if part is None:
            stop.append(True)
            return None
        sums = sums or [[] for _ in part]
        for s, v in zip(sums, part, strict=True):
            s.append(v)
    return sums


def _sum(x: np.ndarray, axis: int) -> Any:
    """Sums along the outcomes' ``axis`` (a Python float for a piece of a vector: the
    checks on it cost nothing then; NumPy's own reductions: no BLAS threads, and the error
    bound the finishes assume)."""
    return float(np.add.reduce(x)) if x.ndim == 1 else np.add.reduce(x, axis=axis)


def _finite(s: Any) -> bool:
    """Whether every sum of ``s`` (a float, or a tile's row sums) is finite."""
    return math.isfinite(s) if type(s) is float else bool(np.isfinite(s).all())


def _long_entropy(x: np.ndarray, b: np.ndarray, axis: int) -> tuple[Any, Any] | None:
    """A tile's sums of ``p`` and of ``p log p`` (``b``: a buffer), or None where an entry is
    negative or not finite. A tile whose sums of terms are not finite for zeros alone (``0
    log 0`` is NaN) is summed again with its zeros raised to the least positive number
    (``0 log tiny = 0``, as :func:`~kullback.measures._tiles.tile_entropy`)."""
    total = _sum(x, axis)  # (first: the log then reads from cache)
    np.log(x, out=b)
    np.multiply(b, x, out=b)
    raw = _sum(b, axis)
    if not _finite(raw) and _finite(total) \
            and float(np.minimum.reduce(x, axis=None)) == 0.0:  # zeros, no negative or NaN
        np.log(np.maximum(x, _TINY[x.dtype], out=b), out=b)
        np.multiply(b, x, out=b)
        raw = _sum(b, axis)
    return (total, raw) if _finite(raw) else None


def _long_cross_entropy(x: np.ndarray, y: np.ndarray, b: np.ndarray,
                        axis: int) -> tuple[Any, ...] | None:
    """A tile's sums of ``p``, ``q`` and ``p log q``, or None where an entry of ``p`` is
    negative or NaN or a sum of terms is not finite (an entry of ``q`` that is not positive
    and finite, an infinite ``p``)."""
    sp, sq = _sum(x, axis), _sum(y, axis)
    np.log(y, out=b)  # (a negative q is NaN here, in the sum below)
    np.multiply(b, x, out=b)
    raw = _sum(b, axis)
    ok = _finite(raw) and float(np.minimum.reduce(x, axis=None)) >= 0.0
    return (sp, sq, raw) if ok else None


def _long_kl(x: np.ndarray, y: np.ndarray, b: np.ndarray, axis: int) -> tuple[Any, ...] | None:
    """A tile's sums of ``p``, ``q`` and ``p log(q/p)`` (:func:`~kullback.measures._tiles.
    tile_log_ratio`'s direct form), or None where an entry is not positive or a ratio may
    leave the range the finish's bound holds in (:func:`_extreme_ratio`)."""
    sp, sq = _sum(x, axis), _sum(y, axis)
    lows = [float(np.minimum.reduce(z, axis=None)) for z in (x, y)]
    highs = [s if type(s) is float else float(np.maximum.reduce(s, axis=None))
             for s in (sp, sq)]
    if not (lows[0] > 0.0 and lows[1] > 0.0) or _extreme_ratio(lows, highs, x.dtype):
        return None  # (NaN fails too)
    np.divide(y, x, out=b)
    np.log(b, out=b)
    np.multiply(b, x, out=b)
    raw = _sum(b, axis)
    return (sp, sq, raw) if _finite(raw) else None


_LONG = {"entropy": _long_entropy, "cross_entropy": _long_cross_entropy,
         "kl_divergence": _long_kl}


def _lean_long(measures: Sequence[Measure], p: np.ndarray,
               q: np.ndarray | None) -> dict[str, Any] | None:
    """Entropy, cross-entropy or KL of one long contiguous vector, of contiguous rows of 17
    to 128 Ki outcomes along the last axis, or of rows of more than 16 outcomes stored
    outcome by outcome (an input reduced along its first axis), by a lean loop over tiles:
    each worker a contiguous run of tiles (pieces of the vector, whole rows, or for rows of
    more than 64 outcomes stored outcome by outcome, bands of outcomes), each tile its
    totals and raw sums (four to eight NumPy calls), a vector's partial sums added by
    ``math.fsum`` (correctly rounded: no error grows with the number of tiles) and the bands'
    in float64, and the measure's own single-pass finish
    (:func:`~kullback.measures._tiles.finish_raw_entropy` and its siblings) with its error
    bound, on every row at once. The rows the bound does not vouch for (nearly identical
    inputs, a nearly one-hot row) are redone by the general driver's exact second pass,
    except cross-entropy's, left NaN for the caller to compose from entropy and KL (as the
    general driver does). None (the general driver) for another measure or layout, or an
    input with an entry the loop does not serve (an invalid entry, a zero it does not serve,
    totals near the float range's ends: the general driver validates and reports it)."""
    if len(measures) != 1 or measures[0].name not in _LONG:
        return None
    m = measures[0]
    arrays = [p] if q is None else [p, q]
    dtype, n = p.dtype, p.shape[-1]
    if len(arrays) != m.arity or dtype not in (_F64, _F32) \
            or not all(a.dtype == dtype and a.shape == p.shape for a in arrays):
        return None
    vector = p.ndim == 1
    if all(a.flags.c_contiguous for a in arrays) and (vector or _SHORT < n < _LONG_TILE):
        axis = -1  # a vector, or rows along memory: tiles of pieces, or of whole rows
        arrays = [a.reshape(-1, n) for a in arrays] if not vector else arrays  # (views)
        cut, step = 0, _LONG_TILE if vector else _LONG_TILE // n
    elif not vector and _SHORT < n and all(np.moveaxis(a, -1, 0).flags.c_contiguous
                                           for a in arrays):
        axis = 0  # stored outcome by outcome (reduced along the first axis)
        arrays = [np.moveaxis(a, -1, 0).reshape(n, -1) for a in arrays]  # (views)
        cut, step = (1, _LONG_TILE // n) if n <= _LONG_OUTCOMES \
            else (0, max(1, _LONG_TILE // arrays[0].shape[1]))  # whole rows, or bands
        if cut == 0 and step > _BAND:
            return None
    else:
        return None
    size = arrays[0].shape[cut]
    count = -(-size // step)
    k = min(_workers(), count)
    cuts = [count * i // k * step for i in range(k)] + [size]
    kernel = _LONG[m.name]
    stop: list[bool] = []  # any worker's abandon stops the others at their next tile

    def job(i: int) -> list[list[Any]] | None:
        with np.errstate(all="ignore"):  # (per thread)
            return _long_sums(kernel, arrays, cuts[i], cuts[i + 1], step, cut, axis, stop)

    parts = [job(0)] if k == 1 else list(_pool().map(job, range(k)))
    if stop or any(x is None for x in parts):
        return None
    pieces = [[v for x in parts for v in x[j]] for j in range(len(parts[0]))]  # type: ignore[index]
    if vector:  # a vector's partial sums: correctly rounded
        sums = [np.asarray([math.fsum(v)], dtype=dtype) for v in pieces]
    elif not (axis == 0 and cut == 0):  # tiles of whole rows: each row's sums in one tile
        sums = [np.concatenate(v) for v in pieces]
    else:  # bands of outcomes: every row's partial sums, added in float64
        sums = [np.add.reduce(np.stack(v), axis=0, dtype=np.float64).astype(dtype, copy=False)
                for v in pieces]
    totals = sums[:-1]
    ranges = [extremes(s) for s in totals]
    if not all(lo_ > 0.0 and hi_ < math.inf for lo_, hi_ in ranges) or (
            q is not None and not _all_direct(totals[0], totals[1], ranges)):
        return None
    sq = totals[1] if q is not None else None
    rows = [a.reshape(-1, n) if axis else a.T for a in arrays]  # (views)
    with np.errstate(all="ignore"):
        value = m.raw_finish(sums[-1], RawTotals(totals[0], sq, ranges=tuple(ranges)))
        if not m.composed_of:  # the rejected rows (NaN): the exact second pass
            value = _redo_rows(m, np.asarray(value), rows[0], rows[1] if q is not None else None,
                               totals[0], sq)
    return {m.name: np.asarray(value, dtype=dtype).reshape(p.shape[:-1])}


def _check(pr: Prepared, name: str, s: np.ndarray, extent: tuple[float, float],
           minimum: float) -> None:
    """Validate an operand from its row totals ``s``, their extremes ``extent`` and its
    smallest entry: totals all positive and finite and no entry negative need no look at the
    totals; anything else, :func:`check_masses` (which locates and names the problem)."""
    lo, hi = extent
    if not (lo > 0.0 and hi < math.inf and minimum >= 0.0):  # NaN fails too
        check_masses(name, pr.p_orig if name == "p" else pr.q_orig, s, pr.xp, minimum=minimum)


def _all_direct(sp: np.ndarray, sq: np.ndarray, ranges: Sequence[tuple[float, float]]) -> bool:
    """Whether every row's totals are scaled directly (:func:`_kernels.direct_rows`): the
    extremes decide for nearly every input, the rows only when they do not."""
    lo, hi = min(ranges[0][0], ranges[1][0]), max(ranges[0][1], ranges[1][1])
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
    elif m.homogeneous and rows_q is not None:  # nearly identical rows, mostly: exactly
        value[idx] = precise_sums(m, rows_p, rows_q, rsp, rsq)
    else:
        value[idx] = term_sums([m], rows_p, rows_q, rsp, rsq)[m.name]
    return value


def _near_rows(m: Measure, value: np.ndarray, p: np.ndarray, q: np.ndarray | None,
               sp: np.ndarray, sq: np.ndarray | None) -> np.ndarray:
    """``value`` (a homogeneous measure from :func:`term_sums`) with the rows of a nearly
    identical pair recomputed by :func:`precise_sums` (scaling rounds each entry by eps,
    which is most of ``q - p`` there: a divergence below about ``(2**14 eps)**2``)."""
    if not m.homogeneous or q is None:
        return value
    near = ~(np.asarray(value) >= _NEAR[np.dtype(p.dtype)])
    if not near.any():
        return value
    value = np.array(value)
    idx: Any = ... if near.all() else np.nonzero(near)
    value[idx] = precise_sums(m, p[idx], q[idx], sp[idx], sq[idx])
    return value


def precise_sums(m: Measure, p: np.ndarray, q: np.ndarray, sp: np.ndarray,
                 sq: np.ndarray) -> np.ndarray:
    """Sums of a homogeneous measure's normalised terms by its generic kernel, with the
    difference of the scaled pair recovered exactly (Dekker's two-product, as the generic
    path does) and the normalisers' rounding removed (``total_correction``): the accuracy of
    the generic path for nearly identical inputs, tile by tile."""
    shape, lead = p.shape, p.shape[:-1]
    fp, fq, total, _ = _kernels.pair_factors(np, sp, sq)

    def column(v: Any) -> np.ndarray:
        return np.broadcast_to(np.reshape(np.asarray(v, dtype=p.dtype), (*lead, 1)), shape)

    def work(ns: TileNamespace, tiles: list[np.ndarray], _: Any, __: int) -> list[np.ndarray]:
        a, b, cp, cq = tiles[0], tiles[1], tiles[2][:, :1], tiles[3][:, :1]
        A, B = ns.multiply(a, cp), ns.multiply(b, cq)
        D = (B - A) + (_kernels._product_error(np, cq, b, B)
                       - _kernels._product_error(np, cp, a, A))
        terms = m.terms(ns, A, B, diff=D) if m.takes_difference else m.terms(ns, A, B)
        return [rowsum(terms), rowsum(D)]

    summed, diff = _run([p, q, column(fp), column(fq)], work, 2)
    value = summed / total
    if m.total_correction is not None:
        value = value - m.total_correction(np, diff / total)
    return np.maximum(value, 0.0)
