"""Where logits come from: arrays, streams of chunks, saved stores, running models.

Every source becomes an iterator of :class:`Chunk` (``(n, V)`` logits in their own library
and dtype, plus the targets if the source knows them). Two sources are then walked side by
side by :func:`aligned`, which cuts pieces wherever either side's chunk ends, so a store
sharded by 1024 tokens can be compared with a model that yields 511 tokens per window.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from kullback.lm._arrays import to_numpy

__all__ = ["Chunk", "Piece", "TopK", "aligned", "as_chunk", "chunks_of", "known_tokens"]


@dataclass(frozen=True)
class TopK:
    """A reference chunk kept as its top-k log-probabilities and the log of the tail mass.

    ``indices`` (n, k) are sorted by decreasing probability, ties by lowest index, so
    ``indices[:, 0]`` is the argmax; ``log_tail`` (n,) is the log of the mass outside them;
    ``target_logprob`` (n,) is the exact log-probability of each target, when known.
    """

    indices: np.ndarray
    logprobs: np.ndarray
    log_tail: np.ndarray
    vocab: int
    target_logprob: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (self.indices.shape[0], self.vocab)

    def __getitem__(self, rows: slice) -> TopK:
        tl = None if self.target_logprob is None else self.target_logprob[rows]
        return TopK(self.indices[rows], self.logprobs[rows], self.log_tail[rows], self.vocab, tl)


@dataclass(frozen=True)
class Chunk:
    """``n`` tokens of one source: ``(n, V)`` logits (or a :class:`TopK`) and their targets."""

    logits: Any
    targets: np.ndarray | None = None

    @property
    def tokens(self) -> int:
        return int(self.logits.shape[0])


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, list | tuple)


def as_chunk(item: Any, name: str, index: int) -> Chunk:
    """One item of a stream: an array, a ``(logits, targets)`` pair or a :class:`Chunk`."""
    if isinstance(item, Chunk):
        return _flat(item, name, index)
    if isinstance(item, tuple) and len(item) == 2:
        t = item[1]
        return _flat(Chunk(item[0], None if t is None else to_numpy(t)), name, index)
    if isinstance(item, TopK) or _is_array(item):
        return _flat(Chunk(item), name, index)
    raise TypeError(
        f"{name}: chunk {index} is a {type(item).__name__}; expected an array of logits "
        "or a (logits, targets) pair"
    )


def _flat(chunk: Chunk, name: str, index: int) -> Chunk:
    """(B, T, V) logits become (B*T, V), (B, T) targets (B*T,); anything else is refused."""
    x, t = chunk.logits, chunk.targets
    if isinstance(x, TopK):
        return chunk
    if len(x.shape) == 3:
        x = x.reshape(-1, x.shape[-1])
    if len(x.shape) != 2:
        raise ValueError(
            f"{name}: chunk {index} has shape {tuple(x.shape)}; expected logits of shape "
            "(N, V) or (B, T, V)"
        )
    if t is not None:
        t = np.asarray(t).reshape(-1) if np.ndim(t) == 2 else t
    return Chunk(x, t)


def chunks_of(source: Any, name: str) -> Iterator[Chunk]:
    """The chunks of a source: an array (one chunk), a store, a model stream or an iterable."""
    if _is_array(source) or isinstance(source, TopK):
        yield as_chunk(source, name, 0)
        return
    if not isinstance(source, Iterable) or isinstance(source, str | bytes):
        raise TypeError(
            f"{name} must be logits (an array of shape (N, V) or (B, T, V)), an iterable of "
            f"such chunks, a store from open_logits() or a stream from logits(); got "
            f"{type(source).__name__}"
        )
    for index, item in enumerate(source):
        yield as_chunk(item, name, index)


def known_tokens(source: Any) -> int | None:
    """The number of tokens a source will yield, when it is known in advance."""
    if _is_array(source):
        shape = tuple(source.shape)
        return int(np.prod(shape[:-1])) if len(shape) in (2, 3) else None
    tokens = getattr(source, "tokens", None)
    return int(tokens) if isinstance(tokens, int | np.integer) else None


@dataclass(frozen=True)
class Piece:
    """Aligned rows of both sources: ``start`` is the position of the first token; ``chunks``
    the chunk index each side's rows came from (for messages)."""

    reference: Any
    candidate: Any
    targets: tuple[np.ndarray | None, ...]
    start: int
    chunks: tuple[int, int]


def _cursor(chunks: Iterator[Chunk]) -> Iterator[tuple[int, Chunk]]:
    yield from enumerate(chunks)


def aligned(reference: Iterator[Chunk], candidate: Iterator[Chunk]) -> Iterator[Piece]:
    """Walk two chunk streams in step, yielding pieces cut where either side's chunk ends.

    Raises ``ValueError`` when one stream ends before the other.
    """
    refs, cands = _cursor(reference), _cursor(candidate)
    r: tuple[int, Chunk] | None = None
    c: tuple[int, Chunk] | None = None
    r_off = c_off = 0
    start = 0
    while True:
        if r is None:
            r, r_off = next(refs, None), 0
        if c is None:
            c, c_off = next(cands, None), 0
        if r is None or c is None:
            if r is not None or c is not None:
                longer, shorter = ("reference", "candidate")[:: 1 if r is not None else -1]
                raise ValueError(
                    f"the {shorter} ends after {start} tokens but the {longer} goes on: "
                    "both must cover the same tokens"
                )
            return
        (ri, rc), (ci, cc) = r, c
        n = min(rc.tokens - r_off, cc.tokens - c_off)
        if n > 0:
            yield _piece(rc, cc, r_off, c_off, n, start, (ri, ci))
        start += n
        r_off += n
        c_off += n
        if r_off == rc.tokens:
            r = None
        if c_off == cc.tokens:
            c = None


def _piece(
    rc: Chunk, cc: Chunk, r_off: int, c_off: int, n: int, start: int, chunks: tuple[int, int]
) -> Piece:
    rows_r, rows_c = slice(r_off, r_off + n), slice(c_off, c_off + n)
    targets = (_rows(rc.targets, rows_r), _rows(cc.targets, rows_c))
    return Piece(rc.logits[rows_r], cc.logits[rows_c], targets, start, chunks)


def _rows(t: np.ndarray | None, rows: slice) -> np.ndarray | None:
    return None if t is None else t[rows]
