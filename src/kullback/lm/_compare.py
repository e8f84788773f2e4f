"""``compare``: walk two sources of logits in step and collect per-token values."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import numpy as np

from kullback.lm._arrays import library, to_numpy
from kullback.lm._comparison import BASE_COLUMNS, TARGET_COLUMNS, Comparison
from kullback.lm._sources import Piece, TopK, aligned, chunks_of, known_tokens
from kullback.lm._tokens import Where, chunk_columns, validate_targets

__all__ = ["compare", "working_dtype"]

_DTYPES = {"float32": np.float32, "float64": np.float64}


def working_dtype(dtype: Any) -> Any:
    """The working precision: float64 by default (every input dtype converts exactly)."""
    if dtype is None:
        return np.float64
    try:
        name = np.dtype(dtype).name
    except TypeError:  # torch.float32 and the like
        name = str(dtype).removeprefix("torch.")
    if name not in _DTYPES:
        raise ValueError(f"dtype must be float32 or float64 (the working precision); got {dtype}")
    return _DTYPES[name]


def _flat_targets(targets: Any) -> np.ndarray | None:
    """All targets as one int64 array (an array of any library, or an iterable of chunks)."""
    if targets is None:
        return None
    if hasattr(targets, "shape"):
        t = to_numpy(targets)
    else:
        parts = [to_numpy(part).reshape(-1) for part in targets]
        t = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
    return t.reshape(-1)


def _piece_targets(piece: Piece, given: np.ndarray | None, n: int, vocab: int) -> np.ndarray | None:
    """The targets of a piece: the ones given to ``compare``, else the ones the sources carry;
    every available set must agree."""
    where = Where(piece.chunks[0], piece.start)
    options = [] if given is None else [("targets", given[piece.start : piece.start + n])]
    options += [
        (side, t) for side, t in zip(("reference", "candidate"), piece.targets, strict=True)
        if t is not None
    ]
    if not options:
        return None
    checked = [(name, validate_targets(t, n, vocab, where)) for name, t in options]
    first_name, first = checked[0]
    for name, t in checked[1:]:
        diff = np.flatnonzero(t != first)
        if diff.size:
            r = int(diff[0])
            raise ValueError(
                f"the {name} targets differ from the {first_name} ones at token "
                f"{piece.start + r} ({int(t[r])} vs {int(first[r])}): the texts or tokenizers "
                "are not the same"
            )
    return first


def _check_shapes(piece: Piece, vocab: int | None) -> int:
    r_shape, c_shape = tuple(piece.reference.shape), tuple(piece.candidate.shape)
    if r_shape[1] != c_shape[1]:
        raise ValueError(
            f"vocabulary sizes differ at token {piece.start}: reference chunk {piece.chunks[0]} "
            f"has {r_shape[1]}, candidate chunk {piece.chunks[1]} has {c_shape[1]}"
        )
    if vocab is not None and r_shape[1] != vocab:
        raise ValueError(
            f"the vocabulary size changes at token {piece.start} (reference chunk "
            f"{piece.chunks[0]}): {r_shape[1]} after {vocab}"
        )
    if isinstance(piece.candidate, TopK):
        raise TypeError(
            "the candidate must be full logits; only the reference may be a top-k store"
        )
    return int(r_shape[1])


def _piece_columns(piece: Piece, given: np.ndarray | None, dtype: Any, vocab: int) -> dict:
    n = int(piece.reference.shape[0])
    targets = _piece_targets(piece, given, n, vocab)
    cols = chunk_columns(
        piece.reference, piece.candidate, targets, dtype=dtype,
        where=Where(piece.chunks[0], piece.start, piece.chunks[1]),
    )
    cols["position"] = np.arange(piece.start, piece.start + n, dtype=np.int64)
    if targets is not None:
        cols["target"] = targets
    return cols


def _progress(total: int | None, enabled: bool) -> Any:
    if not enabled:
        return nullcontext(None)
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="tok", unit_scale=True, file=sys.stderr, dynamic_ncols=True)


def _collect(
    pieces: Iterator[Piece], given: np.ndarray | None, dtype: Any, bar: Any
) -> tuple[dict[str, np.ndarray], bool]:
    """The per-token table over all pieces, and whether any reference piece was top-k."""
    parts: list[dict[str, np.ndarray]] = []
    vocab = None
    lower = False
    for piece in pieces:
        lower = lower or isinstance(piece.reference, TopK)
        vocab = _check_shapes(piece, vocab)
        parts.append(_piece_columns(piece, given, dtype, vocab))
        if bar is not None:
            bar.update(int(piece.reference.shape[0]))
    if not parts:
        raise ValueError("reference and candidate hold no tokens")
    names = set(parts[0])
    if any(set(p) != names for p in parts):
        raise ValueError("targets are known for some chunks but not others")
    order = [*BASE_COLUMNS, *(c for c in TARGET_COLUMNS if c in names)]
    return {k: np.concatenate([p[k] for p in parts]) for k in order}, lower


def compare(
    reference: Any,
    candidate: Any,
    targets: Any = None,
    *,
    base: Any = None,
    dtype: Any = None,
    tokenizer: Any = None,
    progress: bool = False,
) -> Comparison:
    """Compare a candidate model's next-token distributions with a reference's, token by token.

    Parameters
    ----------
    reference, candidate : array, iterable of chunks, store or stream
        Next-token logits of shape (N, V) or (B, T, V), in any array library (NumPy, PyTorch,
        JAX, CuPy) and floating dtype (bfloat16 and float16 included); or iterables of such
        chunks, or of ``(logits, targets)`` pairs (streamed: memory is O(chunk)); or stores
        from :func:`open_logits`; or streams from :func:`logits`; or Dask arrays (then the
        result is lazy, see Notes). The two sides may be chunked differently. ``-inf`` logits
        (masked vocabulary entries) are valid; NaN and +inf are not.
    targets : array of int, optional
        The actual next tokens, (N,) or (B, T), for perplexity and Δp. Stores and model
        streams carry their own; all sets given must agree.
    base : float or str, optional
        Unit of the divergences and NLLs: ``"nats"`` (default), ``"bits"``, ``"bans"``.
    dtype : {None, "float32", "float64"}
        Working precision; default float64, into which every input dtype converts exactly.
    tokenizer : optional
        For decoded text in :meth:`Comparison.worst`.
    progress : bool
        Show a progress bar (tokens/s, ETA) on stderr.

    Returns
    -------
    Comparison

    Notes
    -----
    Every term comes from the core log-space kernels (:mod:`kullback.measures._kernels`):
    KL and JS are sums of non-negative Bregman terms, never negative, exactly 0 for identical
    rows, and accurate for nearly identical rows. With Dask arrays chunked along the token
    axis the per-chunk work becomes one task per chunk (run on a ``distributed`` client if
    one is active) and nothing is computed until the comparison is used.

    Examples
    --------
    >>> import numpy as np
    >>> from kullback.lm import compare
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(64, 50)).astype(np.float32)
    >>> cand = ref + np.float32(0.01) * rng.normal(size=(64, 50)).astype(np.float32)
    >>> c = compare(ref, cand, targets=rng.integers(0, 50, 64))
    >>> s = c.summary()
    >>> s["tokens"], s["same_top"] > 0.9, 0 < s["kl_min"] < s["kl_mean"] < 1e-4
    (64, True, True)
    """
    if "dask" in (library(reference), library(candidate)):
        from kullback.lm._dask import compare_lazy

        return compare_lazy(reference, candidate, targets, base=base, dtype=working_dtype(dtype),
                            tokenizer=tokenizer)
    dtype = working_dtype(dtype)
    given = _flat_targets(targets)
    tokenizer = tokenizer or getattr(reference, "tokenizer", None) or getattr(
        candidate, "tokenizer", None)
    pieces = aligned(chunks_of(reference, "reference"), chunks_of(candidate, "candidate"))
    total = known_tokens(reference) or known_tokens(candidate)
    with _progress(total, progress) as bar:
        cols, lower = _collect(pieces, given, dtype, bar)
    cols["position"] += int(getattr(reference, "start", 0))  # a store shard's first token
    return Comparison(cols, base=base, bound="lower" if lower else "exact", tokenizer=tokenizer)
