"""Users' KL formulas: :func:`register_kl` and the dispatch by class (torch's idiom).

A formula is registered for a pair of classes and found for a pair of objects by the most
specific match: among the registered pairs whose classes the objects' classes derive from,
the one nearest in P's method resolution order, then in Q's. Lookups are memoised per pair
of classes (the memo is cleared by every registration).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["dispatch_class", "is_registered", "lookup_kl", "register_kl"]

_KL: dict[tuple[type, type], Callable[[Any, Any], Any]] = {}
_MEMO: dict[tuple[type, type], Callable[[Any, Any], Any] | None] = {}


def dispatch_class(obj: Any) -> type:
    """The class a distribution object is dispatched on: a scipy frozen univariate
    distribution by its generator's class (``type(stats.norm)``), anything else by its own."""
    dist = getattr(obj, "dist", None)
    if dist is not None and type(obj).__module__.startswith("scipy.stats"):
        return type(dist)
    return type(obj)


def register_kl(type_p: type, type_q: type) -> Callable:
    """Decorator registering ``fn(P, Q) -> KL(P || Q)`` in nats for a pair of classes.

    See :func:`kullback.distributions.register_kl` for the public documentation.
    """
    for name, t in (("type_p", type_p), ("type_q", type_q)):
        if not isinstance(t, type):
            raise TypeError(f"register_kl: {name} must be a class; got {t!r}. For a scipy "
                            "distribution pass its generator's class, e.g. type(stats.norm)")

    def decorator(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        if not callable(fn):
            raise TypeError(f"register_kl: expected a function; got {fn!r}")
        _KL[(type_p, type_q)] = fn
        _MEMO.clear()
        return fn

    return decorator


def is_registered(obj: Any) -> bool:
    """Whether ``obj``'s class (or a base) appears in a registered pair."""
    cls = dispatch_class(obj)
    return any(issubclass(cls, t) for pair in _KL for t in pair)


def lookup_kl(P: Any, Q: Any) -> Callable[[Any, Any], Any] | None:
    """The most specific registered formula for ``(P, Q)``, or None."""
    key = (dispatch_class(P), dispatch_class(Q))
    if key not in _MEMO:
        _MEMO[key] = _most_specific(*key)
    return _MEMO[key]


def _most_specific(cp: type, cq: type) -> Callable[[Any, Any], Any] | None:
    matches = [(cp.__mro__.index(tp), cq.__mro__.index(tq), tp, tq)
               for tp, tq in _KL if issubclass(cp, tp) and issubclass(cq, tq)]
    if not matches:
        return None
    by_p = min(matches, key=lambda m: (m[0], m[1]))
    by_q = min(matches, key=lambda m: (m[1], m[0]))
    if by_p[2:] != by_q[2:]:
        warnings.warn(
            f"ambiguous KL formulas for ({cp.__name__}, {cq.__name__}): "
            f"({by_p[2].__name__}, {by_p[3].__name__}) and ({by_q[2].__name__}, "
            f"{by_q[3].__name__}); using the first (register the exact pair to decide)",
            RuntimeWarning, stacklevel=4,
        )
    return _KL[by_p[2:]]
