"""Re-export of :mod:`kullback.measures` under its first-round import path."""

from kullback.measures import (
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
    "cross_entropy",
    "decompose",
    "entropy",
    "js_distance",
    "js_divergence",
    "kl_divergence",
]
