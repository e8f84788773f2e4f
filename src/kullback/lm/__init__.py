"""Compare two language models' next-token distributions over a corpus.

The job: a model has been quantised, pruned, distilled or fine-tuned, and you must know how far
its predictions drift from the reference model's, token by token. :func:`compare` takes both
models' next-token logits (arrays of any library and dtype, streams of chunks, saved stores,
Dask arrays) and returns a :class:`Comparison`: per-token KL both ways, JS, top-token
agreement and, with the actual next tokens, perplexities and Δp, with a summary and a report in
llama.cpp's layout. Every divergence term comes from the core log-space kernels: never
negative, exactly 0 for identical rows, accurate for nearly identical ones.

* :func:`compare` -- the comparison (streamed; memory O(chunk)).
* :class:`Comparison` -- per-token values, ``summary()``, ``worst(n)``, ``merge(other)``.
* :func:`save_logits`, :func:`open_logits` -- a reference store, sharded safetensors, exact
  in the model's dtype (or top-k log-probabilities and the tail mass: KL lower bounds).
* :func:`logits` -- logit chunks and targets from a transformers causal LM over a text.

See ``docs/lm.md`` for a worked example, the command line (``kullback lm``) and Dask.

Examples
--------
>>> import numpy as np
>>> from kullback import lm
>>> ref = np.array([[2.0, 1.0, -np.inf], [0.0, 0.0, 0.0]])
>>> round(float(lm.compare(ref, ref[:, ::-1]).kl_reverse[1]), 12)
0.0
"""

from __future__ import annotations

from kullback.lm._compare import compare
from kullback.lm._comparison import Comparison
from kullback.lm._models import LogitStream, logits
from kullback.lm._store import LogitStore, open_logits, save_logits

__all__ = [
    "Comparison",
    "LogitStore",
    "LogitStream",
    "compare",
    "logits",
    "open_logits",
    "save_logits",
]
