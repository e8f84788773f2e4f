"""kullback: entropy, cross-entropy, Kullback-Leibler and Jensen-Shannon divergence."""

from kullback.units import Unit, convert, resolve_unit

__all__ = ["Unit", "convert", "resolve_unit"]
__version__ = "0.1.0"
