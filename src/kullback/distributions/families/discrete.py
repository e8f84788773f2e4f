"""Discrete families: log pmf at integer points (float arrays), supports, entropies."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from kullback.distributions._family import (
    Family,
    check,
    family,
    finite,
    positive,
    probability,
    show,
    success_probability,
    unchecked,
)
from kullback.measures import _kernels

__all__ = ["Bernoulli", "Binomial", "Categorical", "Geometric", "NegBinomial", "Poisson",
           "two_point"]


def two_point(ops, probs):
    """The pmf ``(1 - probs, probs)`` of a Bernoulli along a new last axis."""
    return ops.stack([1 - probs, probs], -1)


def _rounded(ops, x):
    return ops.torch.round(x) if ops.name == "torch" else ops.np.round(x)


def _non_negative_integer(ops, n, name, label):
    check(ops, (n >= 0) & (n == _rounded(ops, n)),
          f"parameter {name!r} must be a non-negative integer; got {show(ops, n)}", label)


def _non_negative(ops, r, name, label):
    check(ops, r >= 0, f"parameter {name!r} must be non-negative; got {show(ops, r)}", label)
    finite(ops, r, name, label)


def _half_line(p, name):
    return (0 * p[name], math.inf)


class _Discrete(Family):
    """Shared declarations of the integer-valued families: scipy's loc is a shift, and the log
    pmf is the family's ``log_mass`` inside the support, -inf outside."""

    kind = "discrete"
    scipy_shift = True

    def log_mass(self, ops, p, k):
        """The log pmf at integer points ``k`` inside the support."""
        raise NotImplementedError

    def logpmf(self, ops, p, k):
        lo, hi = self.support(ops, p)
        ok = (k >= lo) & (k <= hi)
        return ops.where(ok, self.log_mass(ops, p, ops.where(ok, k, lo)), -ops.inf)


@family
class Bernoulli(_Discrete):
    """bernoulli(probs): probs = P(X = 1)."""

    key, torch, scipy = "bernoulli", ("Bernoulli",), ("bernoulli",)
    params, example, scipy_shapes = {"probs": probability}, {"probs": 0.3}, ("probs",)

    def entropy(self, ops, p):
        P = two_point(ops, p["probs"])
        return -ops.sum(_kernels.entropy_terms(ops.xp(P), P), -1)

    def support(self, ops, p):
        z = 0 * p["probs"]
        return (z, z + 1)

    def log_mass(self, ops, p, k):
        q = p["probs"]
        return ops.where(k == 1, ops.log(q), ops.log1p(-q))


@family
class Binomial(_Discrete):
    """binomial(total_count, probs)."""

    key, torch, scipy = "binomial", ("Binomial",), ("binom",)
    params: ClassVar[dict[str, Any]] = {"total_count": _non_negative_integer, "probs": probability}
    example, scipy_shapes = {"total_count": 7.0, "probs": 0.3}, ("total_count", "probs")

    def support(self, ops, p):
        return (0 * p["total_count"], p["total_count"])

    def log_mass(self, ops, p, k):
        n, q = p["total_count"], p["probs"]
        return (ops.lgamma(n + 1) - ops.lgamma(k + 1) - ops.lgamma(n - k + 1)
                + ops.xlogy(k, q) + ops.xlog1py(n - k, -q))


@family
class Poisson(_Discrete):
    """poisson(rate): rate = mean."""

    key, torch, scipy = "poisson", ("Poisson",), ("poisson",)
    params, example, scipy_shapes = {"rate": _non_negative}, {"rate": 3.0}, ("rate",)

    def support(self, ops, p):
        return _half_line(p, "rate")

    def log_mass(self, ops, p, k):
        r = p["rate"]
        return ops.xlogy(k, r) - r - ops.lgamma(k + 1)


@family
class Geometric(_Discrete):
    """geometric(probs): failures before the first success, support {0, 1, ...} (scipy's geom
    counts trials, support {1, 2, ...}: a shift of 1)."""

    key, torch, scipy = "geometric", ("Geometric",), ("geom",)
    params, example = {"probs": success_probability}, {"probs": 0.3}
    scipy_shapes, scipy_offset = ("probs",), 1.0

    def entropy(self, ops, p):
        q = p["probs"]
        return (-ops.xlog1py(1 - q, -q) - ops.xlogy(q, q)) / q

    def support(self, ops, p):
        return _half_line(p, "probs")

    def log_mass(self, ops, p, k):
        q = p["probs"]
        return ops.xlog1py(k, -q) + ops.log(q)


@family
class NegBinomial(_Discrete):
    """negbinomial(total_count, probs): pmf C(k+r-1, k) probs^r (1-probs)^k (scipy nbinom(n=r,
    p=probs); torch NegativeBinomial(r, probs=t) has probs = 1 - t)."""

    key, torch, scipy = "negbinomial", ("NegativeBinomial",), ("nbinom",)
    params: ClassVar[dict[str, Any]] = {"total_count": positive, "probs": success_probability}
    example, scipy_shapes = {"total_count": 2.5, "probs": 0.4}, ("total_count", "probs")

    def from_torch(self, obj, ops):
        return {"total_count": obj.total_count, "probs": 1 - obj.probs}

    def support(self, ops, p):
        return _half_line(p, "probs")

    def log_mass(self, ops, p, k):
        r, q = p["total_count"], p["probs"]
        return (ops.lgamma(k + r) - ops.lgamma(r) - ops.lgamma(k + 1) + ops.xlogy(r, q)
                + ops.xlog1py(k, -q))


@family
class Categorical(_Discrete):
    """categorical(probs, logits): the event axis is the last one; logits are normalised
    log-probabilities. Entropy and KL terms are the core's kernels."""

    key, torch = "categorical", ("Categorical", "OneHotCategorical")
    params: ClassVar[dict[str, Any]] = {"probs": probability, "logits": unchecked}
    example, event_dims = {"probs": [0.2, 0.3, 0.5]}, 1

    def from_torch(self, obj, ops):
        c = getattr(obj, "_categorical", obj)  # OneHotCategorical wraps a Categorical
        return {"probs": c.probs, "logits": c.logits}

    def support(self, ops, p):
        n = ops.shape(p["probs"])[-1] if ops.shape(p["probs"]) else 1
        return (0.0, n - 1.0)

    def entropy(self, ops, p):
        P = p["probs"]
        return -ops.sum(_kernels.entropy_terms(ops.xp(P), P), -1)
