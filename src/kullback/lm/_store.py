"""Reference stores: a model's logits saved once, sharded, so the candidate run needs only its
own model.

A store is a directory of safetensors shards plus ``manifest.json`` (written last, so a store
with a manifest is complete)::

    {"format": "kullback.lm.logits", "version": 1, "kind": "logits" | "top_k",
     "vocab": V, "tokens": N, "top_k": null | k, "targets": true | false,
     "windowing": null | {"context": c, "stride": s},
     "shards": [{"file": "shard-00000.safetensors", "tokens": n, "dtype": "bfloat16"}, ...]}

``kind == "logits"``: each shard holds ``logits`` (n, V) in the dtype the model produced
(bfloat16 through safetensors' torch writer, NumPy dtypes through its NumPy writer), bit for
bit, no clipping, and ``targets`` (n,) int64 when known.

``kind == "top_k"``: each shard holds ``indices`` (n, k) int64 (decreasing probability, ties
by lowest id), ``logprobs`` (n, k) float64, ``log_tail`` (n,) float64 (the log of the mass
outside the top k, a log-sum-exp of those entries) and, with targets, ``target_logprob``.
Divergences from such a reference are guaranteed lower bounds: merging the tail outcomes of
both distributions into one can only lower KL and JS (log-sum inequality).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from kullback.lm._arrays import library, to_numpy
from kullback.lm._sources import Chunk, TopK, chunks_of
from kullback.lm._tokens import Where, top_k_of, validate_targets

__all__ = ["FORMAT", "MANIFEST", "SHARD_BYTES", "LogitStore", "open_logits", "save_logits"]

FORMAT = "kullback.lm.logits"
MANIFEST = "manifest.json"
SHARD_BYTES = 1 << 28  # one-shot arrays are cut into shards of at most 256 MiB


def _shard_rows(x: Any) -> int:
    n, vocab = x.shape
    itemsize = getattr(x.dtype, "itemsize", 4)
    return max(1, min(n, SHARD_BYTES // max(1, vocab * int(itemsize))))


def _dtype_name(x: Any) -> str:
    return str(x.dtype).removeprefix("torch.")


def _tensors_file(tensors: dict[str, Any], path: Path) -> None:
    """Write tensors of one library with that library's safetensors writer."""
    if any(library(t) == "torch" for t in tensors.values()):
        import torch
        from safetensors.torch import save_file

        as_torch = {k: v if library(v) == "torch" else torch.from_numpy(np.ascontiguousarray(v))
                    for k, v in tensors.items()}
        save_file({k: v.detach().cpu().contiguous() for k, v in as_torch.items()}, str(path))
    else:
        from safetensors.numpy import save_file

        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(path))


def _native(x: Any) -> Any:
    """Logits ready for writing: torch tensors stay torch (bfloat16 kept); others NumPy."""
    return x if library(x) == "torch" else to_numpy(x)


def _cast_torch(x: Any, name: str) -> Any:
    import torch

    return x.to(getattr(torch, name))


_CASTS = {"torch": _cast_torch, "numpy": lambda x, name: x.astype(np.dtype(name))}


def _cast(x: Any, name: str) -> Any:
    return _CASTS[library(x)](x, name)


def _shard_tensors(chunk: Chunk, top_k: int | None, dtype: Any, where: Where) -> dict[str, Any]:
    if top_k is None:
        x = _native(chunk.logits)
        tensors = {"logits": x if dtype is None else _cast(x, str(dtype).removeprefix("torch."))}
    else:
        tk = top_k_of(chunk.logits, top_k, chunk.targets, where)
        tensors = {"indices": tk.indices, "logprobs": tk.logprobs, "log_tail": tk.log_tail}
        if tk.target_logprob is not None:
            tensors["target_logprob"] = tk.target_logprob
    if chunk.targets is not None:
        tensors["targets"] = chunk.targets
    return tensors


def _split(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """Chunks cut to at most :data:`SHARD_BYTES` of logits each."""
    for chunk in chunks:
        rows = _shard_rows(chunk.logits)
        for lo in range(0, chunk.tokens, rows):
            t = None if chunk.targets is None else chunk.targets[lo : lo + rows]
            yield Chunk(chunk.logits[lo : lo + rows], t)


def _with_targets(chunks: Iterator[Chunk], targets: Any) -> Iterator[Chunk]:
    """Attach the targets given to ``save_logits`` (checked) to the chunks, by position."""
    from kullback.lm._compare import _flat_targets

    flat = _flat_targets(targets)
    start = 0
    for i, chunk in enumerate(chunks):
        n, vocab = chunk.logits.shape
        t = chunk.targets
        if flat is not None:
            if flat.shape[0] < start + n:
                raise ValueError(f"targets: {flat.shape[0]} given, but the logits go on "
                                 f"past token {flat.shape[0]} (chunk {i})")
            t = flat[start : start + n]
        if t is not None:
            t = validate_targets(t, n, vocab, Where(i, start))
        yield Chunk(chunk.logits, t)
        start += n
    if flat is not None and flat.shape[0] != start:
        raise ValueError(f"targets: {flat.shape[0]} given for {start} tokens of logits")


def save_logits(
    path: str | os.PathLike[str],
    chunks: Any,
    *,
    targets: Any = None,
    dtype: Any = None,
    top_k: int | None = None,
    progress: bool = False,
) -> LogitStore:
    """Save a model's logits as a sharded store, to compare candidates against later.

    Parameters
    ----------
    path : str or path
        A new (or empty) directory.
    chunks : array, iterable of chunks, or a stream from :func:`logits`
        As for :func:`compare`; one shard per chunk (large arrays are cut into 256 MiB shards).
    targets : array of int, optional
        The actual next tokens (model streams carry their own).
    dtype : str, optional
        Store the logits in this dtype instead of the model's (not exact if narrower).
    top_k : int, optional
        Store only the top-k log-probabilities and the tail mass: divergences computed from
        the store are then guaranteed lower bounds (labelled as such in every result).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    LogitStore
        The store, opened.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from kullback.lm import save_logits, open_logits
    >>> x = np.random.default_rng(0).normal(size=(10, 7)).astype(np.float32)
    >>> store = save_logits(tempfile.mkdtemp() + "/ref", x, targets=np.arange(10) % 7)
    >>> store.tokens, store.vocab, store.dtype
    (10, 7, 'float32')
    >>> bool(np.array_equal(np.concatenate([c.logits for c in open_logits(store.path)]), x))
    True
    """
    root = Path(path)
    if (root / MANIFEST).exists() or (root.exists() and any(root.iterdir())):
        raise FileExistsError(f"save_logits: {str(root)!r} exists and is not empty")
    if top_k is not None and int(top_k) < 1:
        raise ValueError(f"top_k must be a positive number of tokens; got {top_k}")
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        return _write(root, chunks, targets, dtype, top_k, progress, written)
    except BaseException:
        for f in written:  # a failed save leaves nothing behind
            f.unlink(missing_ok=True)
        if created:
            root.rmdir()
        raise


def _write(root: Path, chunks: Any, targets: Any, dtype: Any, top_k: int | None,
           progress: bool, written: list[Path]) -> LogitStore:
    from kullback.lm._compare import _progress
    from kullback.lm._sources import known_tokens

    shards: list[dict[str, Any]] = []
    vocab = None
    start = 0
    stream = _with_targets(_split(chunks_of(chunks, "chunks")), targets)
    with _progress(known_tokens(chunks), progress) as bar:
        for i, chunk in enumerate(stream):
            vocab = _check_vocab(chunk, vocab, i)
            name = f"shard-{i:05d}.safetensors"
            tensors = _shard_tensors(chunk, top_k, dtype, Where(i, start))
            start += chunk.tokens
            written.append(root / name)
            _tensors_file(tensors, root / name)
            logits_dtype = _dtype_name(tensors["logits"]) if top_k is None else "float64"
            shards.append({"file": name, "tokens": chunk.tokens, "dtype": logits_dtype,
                           "targets": chunk.targets is not None})
            if bar is not None:
                bar.update(chunk.tokens)
    written.append(root / MANIFEST)
    return _finish(root, shards, vocab, top_k, getattr(chunks, "windowing", None))


def _check_vocab(chunk: Chunk, vocab: int | None, i: int) -> int:
    v = int(chunk.logits.shape[1])
    if vocab is not None and v != vocab:
        raise ValueError(f"chunks: chunk {i} has a vocabulary of {v}, chunk 0 of {vocab}")
    return v


def _finish(root: Path, shards: list[dict[str, Any]], vocab: int | None, top_k: int | None,
            windowing: dict[str, int] | None) -> LogitStore:
    if not shards:
        raise ValueError("save_logits: no logits to save")
    with_targets = {s["targets"] for s in shards}
    if len(with_targets) > 1:
        raise ValueError("save_logits: targets are known for some chunks but not others")
    manifest = {
        "format": FORMAT, "version": 1, "kind": "logits" if top_k is None else "top_k",
        "vocab": vocab, "tokens": sum(s["tokens"] for s in shards),
        "top_k": None if top_k is None else min(int(top_k), int(vocab or 0)),
        "targets": with_targets.pop(), "windowing": windowing, "shards": shards,
    }
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, root / MANIFEST)
    return LogitStore(root)


def _read(file: Path, dtype: str) -> dict[str, Any]:
    """All tensors of one shard: NumPy arrays, or torch tensors for bfloat16 logits."""
    from safetensors import safe_open

    framework = "pt" if dtype == "bfloat16" else "numpy"
    with safe_open(str(file), framework=framework) as f:
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    if framework == "pt":
        tensors = {k: v if k == "logits" else v.numpy() for k, v in tensors.items()}
    return tensors


class LogitStore:
    """A saved store, opened: iterating yields one :class:`Chunk` per shard, read on demand.

    Attributes: ``path``, ``tokens``, ``vocab``, ``dtype`` (of the logits), ``top_k``
    (``None`` for full logits), ``has_targets``, ``start`` (position of the first token: 0, or
    the shard's position for a store restricted by :meth:`shard`).
    """

    def __init__(self, path: str | os.PathLike[str], shards: slice | None = None) -> None:
        self.path = Path(path)
        manifest_file = self.path / MANIFEST
        if not manifest_file.is_file():
            raise FileNotFoundError(
                f"{str(self.path)!r} is not a logit store (no {MANIFEST}; "
                "was save_logits interrupted?)"
            )
        m = json.loads(manifest_file.read_text())
        if m.get("format") != FORMAT:
            raise ValueError(f"{str(manifest_file)!r} is not a kullback logit store manifest")
        self.manifest = m
        self._restricted = shards is not None
        all_shards = m["shards"]
        chosen = slice(None) if shards is None else shards
        self.start = sum(s["tokens"] for s in all_shards[: chosen.indices(len(all_shards))[0]])
        self.shards = all_shards[chosen]
        self.tokens = sum(s["tokens"] for s in self.shards)
        self.vocab = int(m["vocab"])
        self.top_k = m["top_k"]
        self.has_targets = bool(m["targets"])
        self.dtype = self.shards[0]["dtype"] if self.shards else None
        self.windowing = m.get("windowing")  # context and stride of the model run, if any

    def __len__(self) -> int:
        return len(self.shards)

    def shard(self, index: int | slice) -> LogitStore:
        """The store restricted to shard ``index`` (or a slice of shards); positions stay those
        of the whole store, so comparisons over shards merge into the whole comparison."""
        if self._restricted:
            raise ValueError("shard() of a store that is already restricted to some shards")
        return LogitStore(self.path, index if isinstance(index, slice) else
                          slice(index, index + 1 or None))

    def _chunk(self, shard: dict[str, Any]) -> Chunk:
        t = _read(self.path / shard["file"], shard["dtype"])
        targets = t.get("targets")
        if self.top_k is None:
            return Chunk(t["logits"], targets)
        top = TopK(t["indices"], t["logprobs"], t["log_tail"], self.vocab, t.get("target_logprob"))
        return Chunk(top, targets)

    def __iter__(self) -> Iterator[Chunk]:
        for shard in self.shards:
            yield self._chunk(shard)

    @property
    def targets(self) -> np.ndarray | None:
        """All targets (int64), or ``None`` when the store has none."""
        if not self.has_targets:
            return None
        return np.concatenate([c.targets for c in self]) if self.shards else None

    def to_dask(self) -> Any:
        """The logits as a Dask array (one block per shard, read by the worker that needs it;
        bfloat16 shards arrive as float32, exactly). Full-logit stores only."""
        from kullback.lm._dask import store_to_dask

        return store_to_dask(self)

    def __repr__(self) -> str:
        kind = "logits" if self.top_k is None else f"top-{self.top_k} log-probabilities"
        return (f"LogitStore({str(self.path)!r}: {self.tokens} tokens x {self.vocab}, {kind}, "
                f"{len(self)} shards, dtype {self.dtype})")


def open_logits(path: str | os.PathLike[str]) -> LogitStore:
    """Open a store written by :func:`save_logits`; iterate it to stream the chunks back.

    See :func:`save_logits` for an example.
    """
    return LogitStore(path)
