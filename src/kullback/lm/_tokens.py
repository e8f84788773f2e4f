"""Per-token values of one chunk: the core's divergences applied tile by tile.

A chunk of ``n`` tokens (``n x V`` logits from each model) is processed in row tiles of about
:data:`TILE_ELEMENTS` entries, converted to the working precision (float64 unless asked
otherwise) one tile at a time, so the memory in use is a few tiles whatever the chunk size.

Each row's logits ``x`` become weights ``exp(x - max x)`` (in (0, 1]; ``-inf`` gives 0): in
float64 the difference ``x - max x`` of float32/bfloat16/float16 logits is exact, so each
weight carries one rounding of ``exp``. The divergences are the core's public measures on
those weights (:func:`kullback.kl_divergence` both ways, :func:`kullback.js_divergence`),
which normalise them and sum Bregman terms ``P (x - 1 - log x) >= 0`` (``x = Q/P``) on the
core's blocked multi-core driver: never negative, 0 exactly for identical rows, and relatively
accurate for nearly identical rows, because ``x - 1`` comes from the exact difference ``Q - P``.
Negative log-likelihoods are ``log(sum of weights) - (x_target - max x)``.

Two torch tensors on the CPU take the native path of :mod:`kullback.lm._fused` instead: one
fused float64 torch pass per (cache-sized) tile computes both KLs, JS, the argmaxes and the
normalisers together, and hands the rows it cannot vouch for (nearly identical ones, masked
ones, non-finite ones) back to the generic path described above.

Argmax ties go to the lowest index (``numpy.argmax``). Bad rows are reported with the chunk,
the token position (counted over the whole stream) and the vocabulary column.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from kullback.lm._arrays import to_numpy
from kullback.lm._fused import fused_tile, single_threaded_ops, supports
from kullback.lm._sources import TopK
from kullback.measures import _kernels as K

__all__ = [
    "FUSED_TILE_ELEMENTS",
    "TILE_ELEMENTS",
    "Where",
    "chunk_columns",
    "divergences",
    "load_tile",
    "run_tiles",
    "top_k_of",
    "validate_targets",
    "workers",
]

TILE_ELEMENTS = 1 << 19  # entries per row tile and operand (4 MiB in float64): large enough
# for the core's blocked driver (which tiles again, for the cache, on all cores)
FUSED_TILE_ELEMENTS = int(os.environ.get("KULLBACK_LM_TILE", 1 << 16))  # fused torch path: in cache


@dataclass(frozen=True)
class Where:
    """Where a piece sits in the stream: the reference's chunk index, the position of the
    first token, and the candidate's chunk index when the two are chunked differently."""

    chunk: int
    start: int
    candidate_chunk: int | None = None

    def candidate(self) -> Where:
        """The same place, named by the candidate's chunk."""
        chunk = self.chunk if self.candidate_chunk is None else self.candidate_chunk
        return Where(chunk, self.start)

    def at(self, row: int) -> str:
        return f"chunk {self.chunk}, token {self.start + row}"


def _locate_bad_row(x: np.ndarray, name: str, where: Where, row0: int) -> ValueError:
    """The error for the first row of ``x`` holding a NaN, a +inf, or only -inf."""
    for r, row in enumerate(x):
        nan = np.flatnonzero(np.isnan(row))
        if nan.size:
            return ValueError(
                f"{name} logits: NaN at {where.at(row0 + r)}, vocabulary entry {nan[0]}"
            )
        pinf = np.flatnonzero(row == np.inf)
        if pinf.size:
            return ValueError(
                f"{name} logits: +inf at {where.at(row0 + r)}, vocabulary entry {pinf[0]}"
            )
        if not np.any(row > -np.inf):
            return ValueError(
                f"{name} logits: every entry is -inf at {where.at(row0 + r)} (no distribution)"
            )
    raise AssertionError("no bad row found")  # pragma: no cover - called only when one exists


def load_tile(x: Any, lo: int, hi: int, dtype: Any, name: str, where: Where) -> np.ndarray:
    """Rows ``lo:hi`` of a native 2-D array in the working dtype, checked for bad values."""
    tile = np.asarray(to_numpy(x[lo:hi]), dtype=dtype)
    if not np.all(np.isfinite(np.max(tile, axis=-1))):  # NaN, +inf or an all -inf row
        raise _locate_bad_row(tile, name, where, lo)
    return tile


def validate_targets(targets: np.ndarray, n: int, vocab: int, where: Where) -> np.ndarray:
    """Targets of one chunk as int64, checked for length, integrality and range."""
    t = to_numpy(targets)
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(
            f"targets: chunk {where.chunk} has {t.shape[0] if t.ndim == 1 else t.shape} "
            f"targets for {n} tokens"
        )
    if t.dtype.kind not in "iu":
        raise TypeError(f"targets must be integer token ids; chunk {where.chunk} has {t.dtype}")
    bad = np.flatnonzero((t < 0) | (t >= vocab))
    if bad.size:
        r = int(bad[0])
        raise ValueError(
            f"targets: id {int(t[r])} at {where.at(r)} is outside the vocabulary [0, {vocab})"
        )
    return t.astype(np.int64, copy=False)


def _weights(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``exp(x - max x)`` per row and the row's log-normaliser ``log(sum exp(x - max x))``."""
    w = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return w, np.log(np.sum(w, axis=-1))


def divergences(P: np.ndarray, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise KL(P||Q), KL(Q||P) and JS(P, Q), in nats, of non-negative weights (each row
    normalised by the core), by the core's measures."""
    from kullback.measures import js_divergence, kl_divergence

    return (kl_divergence(P, Q, validate=False), kl_divergence(Q, P, validate=False),
            js_divergence(P, Q, validate=False))


def _full_tile(reference: Any, candidate: Any, lo: int, hi: int, t: np.ndarray | None,
               dtype: Any, where: Where, out: dict[str, np.ndarray]) -> None:
    """Rows ``lo:hi`` of two chunks of full logits."""
    x = load_tile(reference, lo, hi, dtype, "reference", where)
    y = load_tile(candidate, lo, hi, dtype, "candidate", where.candidate())
    s = slice(lo, hi)
    top_x, top_y = np.argmax(x, axis=-1), np.argmax(y, axis=-1)
    out["top_reference"][s], out["top_candidate"][s] = top_x, top_y
    rows = np.arange(x.shape[0])
    if t is not None:  # x_t - max x (exact in float64)
        dx, dy = x[rows, t] - x[rows, top_x], y[rows, t] - y[rows, top_y]
    P, log_zp = _weights(x)
    Q, log_zq = _weights(y)
    out["kl"][s], out["kl_reverse"][s], out["js"][s] = divergences(P, Q)
    if t is not None:
        out["nll_reference"][s] = log_zp - dx
        out["nll_candidate"][s] = log_zq - dy


def _columns(n: int, with_targets: bool) -> dict[str, np.ndarray]:
    out = {k: np.empty(n) for k in ("kl", "kl_reverse", "js")}
    out["top_reference"] = np.empty(n, dtype=np.int64)
    out["top_candidate"] = np.empty(n, dtype=np.int64)
    if with_targets:
        out["nll_reference"] = np.empty(n)
        out["nll_candidate"] = np.empty(n)
    return out


def workers() -> int:
    """Threads for the tile loop (NumPy's ufuncs release the GIL): ``KULLBACK_THREADS`` or the
    number of CPUs this process may use, at most 8."""
    env = os.environ.get("KULLBACK_THREADS")
    if env:
        return max(1, int(env))
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere all CPUs
    return min(8, len(affinity(0)) if affinity else os.cpu_count() or 1)


def run_tiles(n: int, rows: int, work: Callable[[int, int], None], *,
              initializer: Callable[[], None] | None = None) -> None:
    """``work(lo, hi)`` over row tiles, on :func:`workers` threads; the first tile's error
    (in token order) is the one raised. With an ``initializer`` the tiles always run on
    pool threads, each set up by it (the fused torch path makes its ops single-threaded)."""
    starts = range(0, n, rows)

    def tile(lo: int) -> None:
        # as in the core's drivers: the kernels discard, by `where`, the NaN of -inf - -inf
        with np.errstate(all="ignore"):
            work(lo, min(lo + rows, n))

    threads = min(workers(), len(starts))
    if threads <= 1 and initializer is None:
        for lo in starts:
            tile(lo)
        return
    with ThreadPoolExecutor(max(threads, 1), initializer=initializer) as pool:
        list(pool.map(tile, starts))


def _topk_tile(reference: TopK, candidate: Any, lo: int, hi: int, t: np.ndarray | None,
               dtype: Any, where: Where, out: dict[str, np.ndarray]) -> None:
    """Rows ``lo:hi``, top-k reference: the reference's top-k outcomes and one merged tail.

    Both distributions are merged on the same partition (the k outcomes, then everything
    else), so by the log-sum inequality each divergence is at most the exact one.
    """
    ref = reference[lo:hi]
    y = load_tile(candidate, lo, hi, dtype, "candidate", where.candidate())
    s = slice(lo, hi)
    lq = K.log_normalize(np, y)
    lq_top = np.take_along_axis(lq, ref.indices, axis=1)
    rest = lq.copy()
    np.put_along_axis(rest, ref.indices, -np.inf, axis=1)
    lp2 = np.concatenate([ref.logprobs, ref.log_tail[:, None]], axis=1)
    lq2 = np.concatenate([lq_top, K.logsumexp(np, rest, axis=-1)], axis=1)
    out["kl"][s], out["kl_reverse"][s], out["js"][s] = divergences(np.exp(lp2), np.exp(lq2))
    out["top_reference"][s] = ref.indices[:, 0]
    out["top_candidate"][s] = np.argmax(y, axis=-1)
    if t is not None:
        if ref.target_logprob is None:
            raise ValueError("targets were given but the top-k reference store holds no "
                             "target log-probabilities (save it with targets=)")
        out["nll_reference"][s] = -ref.target_logprob
        out["nll_candidate"][s] = -lq[np.arange(lq.shape[0]), t]


# how rows of a reference chunk of each kind are compared with full candidate logits
_TILES: dict[type, Callable[..., None]] = {TopK: _topk_tile}


def chunk_columns(
    reference: Any,
    candidate: Any,
    targets: np.ndarray | None,
    *,
    dtype: Any,
    where: Where,
) -> dict[str, np.ndarray]:
    """Per-token columns (nats) for one chunk: ``(n, V)`` logits each, or a
    :class:`~kullback.lm._sources.TopK` reference (then KL, reverse KL and JS are lower
    bounds; argmax agreement and NLLs stay exact).

    Returns ``kl``, ``kl_reverse``, ``js``, ``top_reference``, ``top_candidate`` and, with
    targets, ``nll_reference`` and ``nll_candidate``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.log(np.array([[0.5, 0.25, 0.25]]))
    >>> cols = chunk_columns(a, a[:, ::-1], np.array([0]), dtype=np.float64, where=Where(0, 0))
    >>> round(float(cols["kl"][0]), 12), int(cols["top_candidate"][0])   # 0.25 ln 2
    (0.17328679514, 2)
    """
    n, vocab = reference.shape
    out = _columns(n, targets is not None)
    tile = _TILES.get(type(reference), _full_tile)
    fused = tile is _full_tile and supports(reference, candidate, dtype)
    if fused:
        tile = fused_tile(_full_tile)

    def work(lo: int, hi: int) -> None:
        t = None if targets is None else targets[lo:hi]
        tile(reference, candidate, lo, hi, t, dtype, where, out)

    if not fused:
        run_tiles(n, max(1, TILE_ELEMENTS // max(vocab, 1)), work)
        return out
    with single_threaded_ops() as initializer:
        run_tiles(n, max(1, FUSED_TILE_ELEMENTS // max(vocab, 1)), work, initializer=initializer)
    return out


def top_k_of(logits: Any, k: int, targets: np.ndarray | None, where: Where) -> Any:
    """The :class:`~kullback.lm._sources.TopK` summary of a chunk of full logits (float64).

    The tail's log-mass is the log-sum-exp of the entries outside the top k, computed
    directly (not as ``log(1 - sum)``), so it stays accurate when the tail is tiny.
    """
    n, vocab = logits.shape
    k = min(int(k), vocab)
    idx = np.empty((n, k), dtype=np.int64)
    top = np.empty((n, k))
    tail = np.empty(n)
    tl = None if targets is None else np.empty(n)
    rows = max(1, TILE_ELEMENTS // max(vocab, 1))

    def work(lo: int, hi: int) -> None:
        lp = K.log_normalize(np, load_tile(logits, lo, hi, np.float64, "logits", where))
        order = np.argsort(-lp, axis=1, kind="stable")[:, :k]  # ties: lowest index first
        idx[lo:hi] = order
        top[lo:hi] = np.take_along_axis(lp, order, axis=1)
        np.put_along_axis(lp, order, -np.inf, axis=1)
        tail[lo:hi] = K.logsumexp(np, lp, axis=-1)[:, 0]
        if tl is not None:
            lp_t = np.take_along_axis(lp, targets[lo:hi, None], axis=1)[:, 0]
            in_top = order == targets[lo:hi, None]
            top_t = np.sum(np.where(in_top, top[lo:hi], 0.0), axis=1)
            tl[lo:hi] = np.where(np.any(in_top, axis=1), top_t, lp_t)

    run_tiles(n, rows, work)
    return TopK(idx, top, tail, vocab, tl)
