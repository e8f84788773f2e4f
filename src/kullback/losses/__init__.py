"""Training losses with the semantics of :mod:`torch.nn.functional`, on every array library.

One implementation, written against the array API (through ``array_api_compat``), serves NumPy
arrays (values), PyTorch tensors (autograd) and JAX arrays (``jax.grad`` and ``jax.jit``); on
PyTorch, torch's own kernels run wherever they give exactly the same value and gradient:

- :func:`cross_entropy`, :func:`nll_loss`: class dimension 1 (0 for an unbatched ``(C,)``
  input), K-dimensional inputs ``(N, C, d1, ..., dK)``, integer or class-probability targets,
  class ``weight``, ``ignore_index`` and ``label_smoothing`` combined exactly as torch does.
- :func:`binary_cross_entropy`, :func:`binary_cross_entropy_with_logits` (with ``pos_weight``).
- :func:`kl_div` (``log_target``, ``reduction="batchmean"``).
- :func:`distillation`: the temperature-scaled knowledge-distillation loss (forward KL, reverse
  KL or Jensen-Shannon), scaled by ``T**2``.
- :func:`linear_cross_entropy`: ``cross_entropy(input @ linear_weight.T + linear_bias, target)``
  for large vocabularies without ever holding the ``(N, V)`` logits (PyTorch, chunked; other
  libraries compute it densely).

Where torch's numerics are sloppy these functions are not (each difference is documented):

- ``0 * log 0 = 0``: a zero-probability target never meets a ``-inf`` log-probability as NaN
  (``kl_div`` with ``log_target=True`` and a ``-inf`` target, probability targets next to masked
  logits). A masked (``-inf``) logit gives NaN nowhere; if the *target* class is masked the loss
  is ``+inf`` (also when every logit of a row is masked, where torch returns NaN).
- float16 / bfloat16 inputs are computed in float32 and the result cast back.

Layout: one module per loss family (``_cross_entropy``, ``_binary``, ``_kl_div``,
``_linear_ce``), what they share in ``_common`` (options, dtypes, reductions, checks and their
messages), and the native PyTorch paths in ``_torch`` (declared in ``_common.NATIVE``), with
front doors that send plain float32/float64 CPU tensors to them before any generic preparation.

Examples
--------
>>> import numpy as np
>>> from kullback import losses
>>> logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
>>> round(float(losses.cross_entropy(logits, np.array([0, 2]))), 6)
0.175456
"""

from __future__ import annotations

from kullback.losses._binary import binary_cross_entropy, binary_cross_entropy_with_logits
from kullback.losses._cross_entropy import cross_entropy, nll_loss
from kullback.losses._kl_div import distillation, kl_div
from kullback.losses._linear_ce import linear_cross_entropy

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "distillation",
    "kl_div",
    "linear_cross_entropy",
    "nll_loss",
]
