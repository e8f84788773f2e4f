"""``compare`` on Dask arrays: one task per token chunk, nothing computed until asked.

The logits are rechunked so that each block holds whole rows (the vocabulary axis in one
piece) and the candidate's token chunks match the reference's; each block then becomes a
small float64 table of per-token values (``map_blocks``), the O(N x V) work runs wherever the
scheduler puts it (a ``distributed`` client included), and only the O(N) table comes back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from kullback.lm._arrays import library
from kullback.lm._comparison import BASE_COLUMNS, INTEGER_COLUMNS, TARGET_COLUMNS, Comparison
from kullback.lm._tokens import Where, chunk_columns, validate_targets

__all__ = ["compare_lazy", "store_to_dask"]


def _rows(x: Any, name: str) -> Any:
    if x.ndim == 3:
        x = x.reshape(-1, x.shape[-1])
    if x.ndim != 2:
        raise ValueError(f"{name} has shape {x.shape}; expected (N, V) or (B, T, V)")
    return x.rechunk({1: -1})


def _block(x: np.ndarray, y: np.ndarray, *rest: Any, names: tuple[str, ...], working: Any,
           block_info: dict | None = None) -> np.ndarray:
    """One block's per-token table, shape (n, len(names)), float64 (ids are exact in it)."""
    info = block_info[0] if block_info else {"chunk-location": (0, 0), "array-location": [(0,)]}
    where = Where(int(info["chunk-location"][0]), int(info["array-location"][0][0]))
    t = validate_targets(rest[0][:, 0], x.shape[0], x.shape[1], where) if rest else None
    cols = chunk_columns(x, y, t, dtype=working, where=where)
    cols["position"] = np.arange(where.start, where.start + x.shape[0])
    if t is not None:
        cols["target"] = t
    return np.stack([np.asarray(cols[k], dtype=np.float64) for k in names], axis=1)


def _table(blocks: Any, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    values = blocks.compute()
    return {k: values[:, i].astype(np.int64) if k in INTEGER_COLUMNS else values[:, i]
            for i, k in enumerate(names)}


def compare_lazy(reference: Any, candidate: Any, targets: Any, *, base: Any, dtype: Any,
                 tokenizer: Any = None) -> Comparison:
    """A lazy :class:`Comparison` of Dask (or Dask and in-memory) logits."""
    import dask.array as da

    ref = _rows(da.asarray(reference), "reference")
    cand = _rows(da.asarray(candidate), "candidate")
    if ref.shape != cand.shape:
        raise ValueError(f"reference has shape {ref.shape}, candidate {cand.shape}: "
                         "they must match")
    cand = cand.rechunk(ref.chunks)
    names = BASE_COLUMNS if targets is None else (*BASE_COLUMNS, *TARGET_COLUMNS)
    args = [ref, cand]
    if targets is not None:
        t = targets if library(targets) == "dask" else da.from_array(np.asarray(targets))
        t = t.reshape(-1)
        if t.shape[0] != ref.shape[0]:
            raise ValueError(f"targets: {t.shape[0]} given for {ref.shape[0]} tokens")
        args.append(t.rechunk((ref.chunks[0],))[:, None])
    blocks = da.map_blocks(_block, *args, names=names, working=dtype, dtype=np.float64,
                           chunks=(ref.chunks[0], (len(names),)), meta=np.empty((0, 0)))
    comparison = Comparison(None, base=base, tokenizer=tokenizer,
                            pending=lambda: _table(blocks, names))
    comparison.dask = blocks
    return comparison


def _read_logits(path: str, dtype: str) -> np.ndarray:
    from kullback.lm._arrays import to_numpy
    from kullback.lm._store import _read

    return to_numpy(_read(Path(path), dtype)["logits"])


def store_to_dask(store: Any) -> Any:
    """A full-logit store as a Dask array, one block per shard, each read by its worker."""
    import dask
    import dask.array as da

    if store.top_k is not None:
        raise ValueError("to_dask(): top-k stores hold no full logits")
    blocks = []
    for shard in store.shards:
        dtype = np.float32 if shard["dtype"] == "bfloat16" else np.dtype(shard["dtype"])
        read = dask.delayed(_read_logits)(str(store.path / shard["file"]), shard["dtype"])
        blocks.append(da.from_delayed(read, (shard["tokens"], store.vocab), dtype=dtype))
    return da.concatenate(blocks, axis=0)
