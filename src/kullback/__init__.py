"""kullback: entropy, cross-entropy, Kullback-Leibler and Jensen-Shannon divergence.

Exact at every edge (0 log 0 = 0, +inf where q rules out an outcome p allows, no epsilon,
never a negative divergence), on NumPy, PyTorch, JAX, Dask, CuPy and any array-API library.

>>> import kullback as kb
>>> round(float(kb.kl_divergence([0.42, 0.31, 0.27], [0.25, 0.5, 0.25])), 4)
0.0905
"""

from kullback import distributions, drift, estimate, losses, plotting
from kullback._result import Estimate
from kullback.measures import (
    Decomposition,
    conditional_entropy,
    cross_entropy,
    decompose,
    entropy,
    joint_entropy,
    js_distance,
    js_divergence,
    kl_divergence,
    mutual_information,
    renyi_divergence,
    renyi_entropy,
)
from kullback.units import Unit, convert, resolve_unit

__all__ = [
    "Decomposition",
    "Estimate",
    "Unit",
    "conditional_entropy",
    "convert",
    "cross_entropy",
    "decompose",
    "distributions",
    "drift",
    "entropy",
    "estimate",
    "joint_entropy",
    "js_distance",
    "js_divergence",
    "kl_divergence",
    "losses",
    "mutual_information",
    "plotting",
    "renyi_divergence",
    "renyi_entropy",
    "resolve_unit",
]
__version__ = "0.1.0"
