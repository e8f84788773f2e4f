"""Logits from a transformers causal language model, window by window over a text.

The text is tokenized once; windows of ``context`` tokens start every ``stride`` tokens
(default ``context - 1``: consecutive windows share one token, so every token after the first
is predicted exactly once). Each window scores only the targets that no earlier window scored,
so a smaller stride gives every scored token more context (the sliding-window perplexity of
the transformers documentation). Windows of equal length are run ``batch_size`` at a time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from kullback.lm._sources import Chunk

__all__ = ["LogitStream", "load_model", "logits", "windows"]


def windows(length: int, context: int, stride: int) -> list[tuple[int, int, int]]:
    """``(start, end, first_scored)`` per window over ``length`` tokens.

    The window covers tokens ``start:end``; its logits at window position ``k`` predict token
    ``start + k + 1``; targets ``first_scored .. end - 1`` are scored there.

    >>> windows(10, 4, 3)
    [(0, 4, 1), (3, 7, 4), (6, 10, 7)]
    >>> windows(10, 4, 1)[:3]
    [(0, 4, 1), (1, 5, 4), (2, 6, 5)]
    """
    if context < 2:
        raise ValueError(f"context must be at least 2 tokens; got {context}")
    if not 1 <= stride <= context - 1:
        raise ValueError(f"stride must be from 1 to context - 1 = {context - 1}; got {stride}")
    out = []
    scored = 1  # the first target is token 1
    start = 0
    while scored < length:
        end = min(start + context, length)
        if end > scored:
            out.append((start, end, scored))
            scored = end
        start += stride
    return out


def load_model(model: Any, device: Any = None) -> Any:
    """A transformers causal LM: loaded from a local directory (never downloaded), in eval mode."""
    if isinstance(model, str | os.PathLike):
        from transformers import AutoModelForCausalLM

        path = Path(model)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{str(path)!r} is not a model directory (no config.json)")
        model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True)
    if device is not None:
        model = model.to(device)
    return model.eval()


def _load_tokenizer(tokenizer: Any, model: Any) -> Any:
    if tokenizer is None:
        if not isinstance(model, str | os.PathLike):
            raise ValueError("tokenizer is required when model is a loaded model")
        tokenizer = model
    if isinstance(tokenizer, str | os.PathLike):
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(tokenizer), local_files_only=True)
    return tokenizer


class LogitStream:
    """Logit chunks and targets of a causal LM over a text; iterate to run the model.

    Each item is a :class:`~kullback.lm._sources.Chunk` (``logits``: a (n, V) torch tensor in
    the model's dtype, on the CPU; ``targets``: int64). ``tokens`` is the number of scored
    tokens, ``ids`` the tokenized text, ``tokenizer`` the tokenizer, ``windowing`` the context
    and stride (recorded by :func:`save_logits`, so that a candidate runs the same way).
    """

    def __init__(self, model: Any, tokenizer: Any, ids: np.ndarray, context: int, stride: int,
                 batch_size: int, device: Any) -> None:
        self.model, self.tokenizer, self.ids = model, tokenizer, ids
        self.device = device
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch_size}")
        self.windows = windows(len(ids), int(context), int(stride))
        self.windowing = {"context": int(context), "stride": int(stride)}
        self.tokens = max(0, len(ids) - 1)

    def _batches(self) -> Iterator[list[tuple[int, int, int]]]:
        batch: list[tuple[int, int, int]] = []
        for w in self.windows:
            full = len(batch) == self.batch_size
            if batch and (full or w[1] - w[0] != batch[0][1] - batch[0][0]):
                yield batch
                batch = []
            batch.append(w)
        if batch:
            yield batch

    def __iter__(self) -> Iterator[Chunk]:
        import torch

        model = load_model(self.model, self.device)
        device = next(model.parameters()).device
        for batch in self._batches():
            # inference mode is thread-local state: it must not stay on while this generator is
            # suspended at a yield (the caller's autograd would silently stop recording)
            with torch.inference_mode():
                ids = torch.as_tensor(np.stack([self.ids[s:e] for s, e, _ in batch]), device=device)
                out = model(input_ids=ids).logits
                # logits at window position k predict token s + k + 1
                chunks = [Chunk(out[row, first - s - 1 : e - s - 1].cpu(), self.ids[first:e])
                          for row, (s, e, first) in enumerate(batch)]
            yield from chunks

    def __repr__(self) -> str:
        return f"LogitStream({self.tokens} tokens in {len(self.windows)} windows)"


def logits(
    model: Any,
    tokenizer: Any = None,
    text: str = "",
    *,
    context: int = 512,
    stride: int | None = None,
    batch_size: int = 1,
    device: Any = None,
) -> LogitStream:
    """Next-token logits of a transformers causal LM over a text, as a stream of chunks.

    Parameters
    ----------
    model : str, path or transformers model
        A local model directory (loaded with ``local_files_only=True``) or a loaded model.
    tokenizer : str, path or tokenizer, optional
        Defaults to the model directory's tokenizer.
    text : str
        The corpus.
    context : int
        Tokens per window (at most the model's context length).
    stride : int, optional
        Tokens between window starts; default ``context - 1`` (no token scored twice, none
        skipped). Smaller strides give scored tokens more context and cost more.
    batch_size : int
        Windows per forward pass.
    device : str or torch.device, optional
        Where to run the model.

    Returns
    -------
    LogitStream
        Iterable of chunks (logits in the model's dtype, and targets), with ``tokens`` and
        ``tokenizer``; pass it to :func:`compare` or :func:`save_logits`. The model runs when
        the stream is iterated.
    """
    tok = _load_tokenizer(tokenizer, model)
    ids = np.asarray(tok(text, add_special_tokens=False)["input_ids"], dtype=np.int64)
    if ids.size < 2:
        raise ValueError(f"text: {ids.size} token(s); at least 2 are needed to predict one")
    stride = context - 1 if stride is None else stride
    return LogitStream(model, tok, ids, context, stride, batch_size, device)
