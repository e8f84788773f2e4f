"""kullback: entropy, cross-entropy, Kullback-Leibler and Jensen-Shannon divergence.

Exact at every edge (0 log 0 = 0, +inf where q rules out an outcome p allows, no epsilon,
never a negative divergence), on NumPy, PyTorch, JAX, Dask, CuPy and any array-API library.

>>> import kullback as kb
>>> round(float(kb.kl_divergence([0.42, 0.31, 0.27], [0.25, 0.5, 0.25])), 4)
0.0905
"""

from kullback import distributions, estimate, losses, plotting
from kullback.measures import (
    Decomposition,
    cross_entropy,
    decompose,
    entropy,
    js_distance,
    js_divergence,
    kl_divergence,
)
from kullback.units import Unit, convert, resolve_unit

__all__ = [
    "Decomposition",
    "Unit",
    "convert",
    "cross_entropy",
    "decompose",
    "distributions",
    "entropy",
    "estimate",
    "js_distance",
    "js_divergence",
    "kl_divergence",
    "losses",
    "plotting",
    "resolve_unit",
]
__version__ = "0.1.0"
