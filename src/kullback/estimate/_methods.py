"""The one table of estimator methods: name -> implementations and what each supports.

Adding a method is one entry here (and its implementation in its module). ``method="auto"``
picks the entry whose ``auto_for`` lists the quantity for that kind of data; a name that is
not in the table, or that does not estimate the quantity for that kind of data, raises.

Discrete implementations take :class:`~kullback.estimate._discrete.Tally` objects (one for
entropy and mutual information, whose tally is the contingency table; two, aligned, for
cross-entropy and KL) and return values in nats, batched over leading axes. Continuous ones
are :class:`SampleEstimator` entries: ``value(samples, options)`` in nats, and the fewest
points each sample needs for neighbour order k.

``interval`` says how ``ci=`` obtains the standard error: ``"delta"`` and ``"posterior"``
from ``stderr[quantity]``; ``"bootstrap"`` by multinomial resampling of the counts;
``"grouped"`` from disjoint random groups of the sample (see :mod:`._intervals`).
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

from kullback.estimate import _discrete as de
from kullback.estimate import _knn, _ksg, _nsb

__all__ = [
    "DEPRECATED",
    "METHODS",
    "QUANTITIES",
    "Method",
    "SampleEstimator",
    "resolve_method",
]

QUANTITIES = ("entropy", "cross_entropy", "kl_divergence", "mutual_information")
_LABELS = {
    "entropy": "entropy",
    "cross_entropy": "cross-entropy",
    "kl_divergence": "KL divergence",
    "mutual_information": "mutual information",
}


@dataclass(frozen=True)
class SampleEstimator:
    """A continuous estimator: its value and the fewest points per sample for order k."""

    value: Callable
    min_points: Callable[[int], tuple[int, ...]]


@dataclass(frozen=True)
class Method:
    """One estimator method: the kind of data, what it estimates, and how its error bar arises.

    ``smoothing`` lists the quantities that accept ``pseudocount=``; ``needs_alphabet`` says
    that ``alphabet_size=`` is required.
    """

    kind: str
    estimators: Mapping[str, Callable | SampleEstimator]
    interval: str
    stderr: Mapping[str, Callable] = field(default_factory=dict)
    auto_for: frozenset[str] = frozenset()
    smoothing: frozenset[str] = frozenset()
    needs_alphabet: bool = False


_DELTA = {
    "entropy": de.plugin_entropy_stderr,
    "cross_entropy": partial(de.two_sample_stderr, quantity="cross_entropy"),
    "kl_divergence": partial(de.two_sample_stderr, quantity="kl_divergence"),
    "mutual_information": de.plugin_mi_stderr,
}

METHODS: dict[str, Method] = {
    "plugin": Method(
        kind="discrete",
        estimators={
            "entropy": de.plugin,
            "cross_entropy": de.plugin_cross_entropy,
            "kl_divergence": de.plugin_kl,
            "mutual_information": de.plugin_mi,
        },
        interval="delta",
        stderr=_DELTA,
        auto_for=frozenset({"cross_entropy", "kl_divergence", "mutual_information"}),
        smoothing=frozenset({"entropy", "cross_entropy", "kl_divergence"}),
    ),
    "miller_madow": Method(
        kind="discrete",
        estimators={
            "entropy": de.miller_madow,
            "cross_entropy": de.miller_madow_cross_entropy,
            "kl_divergence": de.miller_madow_kl,
            "mutual_information": de.miller_madow_mi,
        },
        interval="delta",
        stderr=_DELTA,
        smoothing=frozenset({"cross_entropy", "kl_divergence"}),
    ),
    "grassberger": Method(
        kind="discrete",
        estimators={"entropy": de.grassberger, "mutual_information": de.grassberger_mi},
        interval="bootstrap",
        auto_for=frozenset({"entropy"}),
    ),
    "chao_shen": Method(
        kind="discrete", estimators={"entropy": de.chao_shen}, interval="bootstrap"
    ),
    "james_stein": Method(
        kind="discrete",
        estimators={"entropy": de.james_stein, "mutual_information": de.james_stein_mi},
        interval="bootstrap",
    ),
    "nsb": Method(
        kind="discrete",
        estimators={"entropy": _nsb.nsb},
        interval="posterior",
        stderr={"entropy": _nsb.nsb_stderr},
        needs_alphabet=True,
    ),
    "knn": Method(
        kind="continuous",
        estimators={
            "entropy": SampleEstimator(_knn.knn_entropy, lambda k: (k + 1,)),
            "cross_entropy": SampleEstimator(_knn.knn_cross_entropy, lambda k: (1, k)),
            "kl_divergence": SampleEstimator(_knn.knn_kl, lambda k: (k + 1, k)),
        },
        interval="grouped",
        auto_for=frozenset({"entropy", "cross_entropy", "kl_divergence"}),
    ),
    "spacing": Method(
        kind="continuous",
        estimators={"entropy": SampleEstimator(_knn.spacing, lambda k: (4,))},
        interval="grouped",
    ),
    "ksg": Method(
        kind="continuous",
        estimators={
            "mutual_information": SampleEstimator(
                _ksg.ksg_mutual_information, lambda k: (k + 1, k + 1)
            )
        },
        interval="grouped",
        auto_for=frozenset({"mutual_information"}),
    ),
}

#: Old names still accepted, with a DeprecationWarning: old name -> current name.
DEPRECATED: dict[str, str] = {"kl": "knn"}


def _outside_kullback() -> int:
    """The ``stacklevel`` of the first caller outside the kullback package (the user's line)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(2), 2  # 1 is resolve_method, the caller of warnings.warn
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def resolve_method(method: object, kind: str, quantity: str) -> tuple[str, Method]:
    """The table entry for ``method`` (or ``"auto"``) estimating ``quantity`` from ``kind`` data.

    Raises
    ------
    ValueError
        Naming the method and the choices for this kind of data and quantity.
    """
    if isinstance(method, str) and method in DEPRECATED:
        warnings.warn(
            f"method={method!r} is deprecated; use method={DEPRECATED[method]!r}",
            DeprecationWarning,
            stacklevel=_outside_kullback(),
        )
        method = DEPRECATED[method]
    fits = {
        name: m for name, m in METHODS.items() if m.kind == kind and quantity in m.estimators
    }
    if method == "auto":
        return next((name, m) for name, m in fits.items() if quantity in m.auto_for)
    if not isinstance(method, str) or method not in fits:
        choices = ", ".join(repr(m) for m in ("auto", *fits))
        raise ValueError(
            f"method: unknown method {method!r} for {kind} {_LABELS[quantity]}; choose one of "
            + choices
        )
    return method, fits[method]
