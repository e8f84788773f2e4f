"""The table of measures: one entry per measure, read by every evaluation path.

The generic path (whole arrays, any library), the log-space path (logits and
log-probabilities) and the blocked driver (large NumPy inputs) all look a measure up here;
none of them lists measures of its own, and an unknown name raises. Adding a measure means
writing its kernels, one :class:`Measure` entry and its public function.

The sign convention is stated once, here: a measure is ``sign * scale * sum(terms)`` along the
outcome axis, followed by ``finish``. Every kernel returns terms of one sign (entropy and
cross-entropy terms are ``<= 0``, so their ``sign`` is -1; KL and JS terms are ``>= 0``), so
partial sums of blocks merge by addition without cancellation.

Examples
--------
>>> import kullback  # registers every measure (some entries live beside their functions)
>>> from kullback.measures._table import MEASURES, lookup
>>> sorted(MEASURES)  # doctest: +NORMALIZE_WHITESPACE
['cross_entropy', 'entropy', 'js_divergence', 'kl_divergence', 'renyi_divergence',
 'renyi_entropy']
>>> lookup("kl_divergence").arity
2
>>> lookup("kl")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
KeyError: "unknown measure 'kl'; the table has cross_entropy, entropy, js_divergence, ..."
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kullback.measures import _fast_jax, _fast_numpy, _fast_torch, _kernels, _tiles

__all__ = ["MEASURES", "Measure", "lookup", "register"]

_LN2 = math.log(2.0)


def _identity(xp: Any, value: Any) -> Any:
    return value


def _js_bounds(xp: Any, value: Any) -> Any:
    """JS lies in [0, ln 2] (both bounds mathematical; rounding may step past them)."""
    return xp.clip(value, 0.0, _LN2)


def _js_total_correction(xp: Any, delta: Any) -> Any:
    """Four times the JS gained from a total of ``B`` off by ``1 + delta``: ``delta**2/2``
    (the second derivative in the scale is ``sum PQ/(P+Q)/2 <= 1/4``, equal for P ~ Q, where
    the correction matters; elsewhere it is below the rounding of the value)."""
    return 0.5 * delta * delta


@dataclass(frozen=True)
class Measure:
    """One measure: its kernels, how their sum becomes the value, and its blocked kernel.

    Attributes
    ----------
    name : str
        The public name (also the name of the public function).
    arity : int
        1 for a measure of ``p``, 2 for a measure of ``(p, q)``.
    terms : callable
        Probability-space kernel ``terms(xp, P[, Q])`` on normalised operands.
    log_terms : callable
        Log-space kernel ``log_terms(xp, lp[, lq])`` on normalised log-probabilities.
    sign : float
        ``+1`` for terms ``>= 0``, ``-1`` for terms ``<= 0``.
    scale : float
        Factor applied to the sum (JS kernels return four times the terms).
    finish : callable
        ``finish(xp, value)`` after sign and scale, in nats (e.g. JS's bounds).
    homogeneous : bool
        The terms are homogeneous of degree one in ``(P, Q)``, so they may run on the pair
        scaled to a common total (no positive mass underflows in normalisation) and be divided
        by that total once (:func:`kullback.measures._kernels.scaled_pair`).
    raw_sum : callable or None
        ``raw_sum(xp, p, s)``: the row sums of the normalised terms from the unnormalised
        operand and its totals, used by the generic path instead of ``terms`` (entropy
        compensates its largest term, which normalisation would round away). The blocked
        driver leaves rows that would need it to the generic path.
    takes_difference : bool
        ``terms`` accepts ``diff=B - A``, the accurate difference of the homogeneous pair
        (:func:`kullback.measures._kernels.pair_with_difference`): nearly identical inputs
        then keep their relative accuracy through normalisation.
    total_correction : callable or None
        ``total_correction(xp, delta)``: what the terms' sum (divided by the total) gains when
        ``B`` sums to ``(1 + delta)`` times ``A``'s total (rounded normalisers); subtracted.
        KL gains ``delta - log1p(delta)`` exactly; JS ``delta**2 / 8`` to second order.
    tile : callable or None
        The blocked driver's tile kernel ``tile(ns, A[, B], has_zero) -> row sums`` of the same
        terms. ``None`` opts out explicitly: the measure is then always evaluated by the
        generic path, whatever the input size.
    raw_tile : callable or None
        The tile kernel of the single pass (on unnormalised operands) when it differs from
        ``tile``: ``raw_tile(ns, A[, B], careful)``, with ``careful`` set on a tile holding a
        zero or ratios near the float range. KL's single pass sums ``p log(q/p)`` (three
        operations a tile) and is finished from the totals; ``tile`` keeps the Bregman terms.
    raw_finish : callable or None
        The blocked driver's single-pass shortcut: the tile kernel runs on the *unnormalised*
        operands together with the totals, and ``raw_finish(raw, totals)`` (a
        :class:`~kullback.measures._tiles.RawTotals`: the row totals and largest entries) turns
        that raw sum into the sum of the normalised terms, NaN on the rows where that would
        cancel (a second pass with the exact normalisers follows there; for a measure
        ``composed_of`` others, the sum of those instead).
    fast : mapping of str to callable
        The native fast paths, by backend (``"numpy"``, ``"torch"``, ``"jax"``; see
        :mod:`kullback.measures._fast`): ``fast[backend](entry, p, q, axis)`` is the measure in
        nats from the raw operands, or None where it does not serve them (the general path
        then computes and validates). Each is tested against the general path.
    params : tuple of str
        Names of the measure's parameters (Rényi's ``alpha``), passed by keyword to
        ``terms``, ``log_terms`` and ``finish``.
    composed_of : tuple of str or None
        In probability space, the measure is the sum of these measures instead of a sum of its
        own terms (cross-entropy is ``H(p) + KL(p||q)``: two non-negative numbers, so the
        decomposition identity holds by construction), except on the rows that the blocked
        driver's single pass (``tile`` and ``raw_finish``) accepts, where the measure's own
        terms are of one sign and far above their rounding.
    """

    name: str
    arity: int
    terms: Callable[..., Any]
    log_terms: Callable[..., Any]
    sign: float = 1.0
    scale: float = 1.0
    finish: Callable[[Any, Any], Any] = _identity
    homogeneous: bool = False
    raw_sum: Callable[..., Any] | None = None
    takes_difference: bool = False
    total_correction: Callable[[Any, Any], Any] | None = None
    tile: Callable[..., Any] | None = None
    raw_tile: Callable[..., Any] | None = None
    raw_finish: Callable[..., Any] | None = None
    fast: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    params: tuple[str, ...] = ()
    composed_of: tuple[str, ...] | None = None

    def value(self, xp: Any, summed: Any, own: bool = False, **params: Any) -> Any:
        """The measure in nats from the sum of its terms (and its parameters, if any);
        ``own``: ``summed`` is a NumPy array of the caller's that may be overwritten (no two
        output-sized temporaries)."""
        c = self.sign * self.scale
        if own and type(summed) is np.ndarray and summed.ndim:
            summed *= c
            summed += 0.0  # never -0.0
            return self.finish(xp, summed, **params)
        return self.finish(xp, c * summed + 0.0, **params)


MEASURES: dict[str, Measure] = {}


def register(measure: Measure) -> Measure:
    """Add ``measure`` to the table (a name is registered once).

    The same definition seen again (its module imported a second time, as doctest collection
    may do) replaces the entry; a different definition under a taken name raises.
    """
    old = MEASURES.get(measure.name)
    if old is not None and _origin(old) != _origin(measure):
        raise ValueError(f"measure {measure.name!r} is already in the table")
    MEASURES[measure.name] = measure
    return measure


def _origin(measure: Measure) -> tuple[str, str]:
    return measure.terms.__module__, measure.terms.__qualname__


def lookup(name: str) -> Measure:
    """The entry of ``name``; an unknown name raises (no fallback computes something else)."""
    try:
        return MEASURES[name]
    except KeyError:
        raise KeyError(
            f"unknown measure {name!r}; the table has {', '.join(sorted(MEASURES))}"
        ) from None


def _fast_paths(name: str) -> dict[str, Callable[..., Any]]:
    """The fast paths of measure ``name`` on every backend that has one."""
    return {module.Ops.name: module.FAST[name] for module in (_fast_numpy, _fast_torch, _fast_jax)
            if name in module.FAST}


register(Measure(
    name="entropy",
    fast=_fast_paths("entropy"),
    arity=1,
    terms=_kernels.entropy_terms,
    log_terms=_kernels.log_entropy_terms,
    sign=-1.0,
    raw_sum=_kernels.entropy_sum,
    tile=_tiles.tile_entropy,
    raw_finish=_tiles.finish_raw_entropy,
))
register(Measure(
    name="kl_divergence",
    fast=_fast_paths("kl_divergence"),
    arity=2,
    terms=_kernels.kl_terms,
    log_terms=_kernels.log_kl_terms,
    homogeneous=True,
    takes_difference=True,
    total_correction=_kernels.log1pmx,
    tile=_tiles.tile_kl,
    raw_tile=_tiles.tile_log_ratio,
    raw_finish=_tiles.finish_raw_kl,
))
register(Measure(
    name="cross_entropy",
    fast=_fast_paths("cross_entropy"),
    arity=2,
    terms=_kernels.cross_entropy_terms,
    log_terms=_kernels.log_cross_entropy_terms,
    sign=-1.0,
    tile=_tiles.tile_cross_entropy,
    raw_finish=_tiles.finish_raw_cross_entropy,
    composed_of=("entropy", "kl_divergence"),
))
register(Measure(
    name="js_divergence",
    fast=_fast_paths("js_divergence"),
    arity=2,
    terms=_kernels.js_terms,
    log_terms=_kernels.log_js_terms,
    scale=0.25,
    finish=_js_bounds,
    homogeneous=True,
    takes_difference=True,
    total_correction=_js_total_correction,
    tile=_tiles.tile_js,
))
