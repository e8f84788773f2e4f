"""Arrays in, measures out: the core every other layer calls.

- :mod:`~kullback.measures.discrete`: the public functions (entropy, cross-entropy, KL, JS,
  decompose) and their evaluation over the table of measures.
- :mod:`~kullback.measures.joint`: joint and conditional entropy, mutual information of a
  joint table.
- :mod:`~kullback.measures.renyi`: Rényi entropy and divergence of any order.
- :func:`contributions`: per-outcome terms, for tables, reports and figures.
- Internals: :mod:`~kullback.measures._table` (the table of measures: one entry each),
  :mod:`~kullback.measures._kernels` (element-wise terms, any array library),
  :mod:`~kullback.measures._prepare` (operands: library, dtype, axis, validation),
  :mod:`~kullback.measures._blocked` and :mod:`~kullback.measures._tiles` (the tiled
  multi-core driver for large NumPy inputs).
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
from kullback.measures.joint import conditional_entropy, joint_entropy, mutual_information
from kullback.measures.renyi import renyi_divergence, renyi_entropy

__all__ = [
    "Decomposition",
    "conditional_entropy",
    "contributions",
    "cross_entropy",
    "decompose",
    "entropy",
    "joint_entropy",
    "js_distance",
    "js_divergence",
    "kl_divergence",
    "mutual_information",
    "renyi_divergence",
    "renyi_entropy",
]
