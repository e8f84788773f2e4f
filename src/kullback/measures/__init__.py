"""Arrays in, measures out: the core every other layer calls.

- :mod:`~kullback.measures.discrete`: the public functions (entropy, cross-entropy, KL, JS,
  decompose) and the preparation of their operands.
- :mod:`~kullback.measures._kernels`: the element-wise terms whose sums are the measures.
- :mod:`~kullback.measures._blocked`: the tiled multi-core driver for large NumPy inputs.
"""

from kullback.measures._contributions import contributions
from kullback.measures.discrete import (
    Decomposition,
    cross_entropy,
    decompose,
    entropy,
    js_distance,
    js_divergence,
    kl_divergence,
)

__all__ = [
    "Decomposition",
    "contributions",
    "cross_entropy",
    "decompose",
    "entropy",
    "js_distance",
    "js_divergence",
    "kl_divergence",
]
