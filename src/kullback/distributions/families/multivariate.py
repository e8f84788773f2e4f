"""Vector-valued families (the event axis is the last one) and torch's Independent."""

from __future__ import annotations

from typing import Any, ClassVar

from kullback.distributions._dist_ops import LOG_2PI
from kullback.distributions._family import (
    FAMILIES,
    Family,
    family,
    positive,
    sum_last,
    unchecked,
)

__all__ = ["MVN", "Dirichlet", "Independent"]


def _concentration(ops, a, name, label):
    if len(ops.shape(a)) < 1 or ops.shape(a)[-1] < 2:
        raise ValueError(f"{label}: concentration needs at least 2 components along its "
                         f"last axis; got shape {ops.shape(a)}")
    positive(ops, a, name, label)


def _positive_definite(ops, tril, name, label):
    positive(ops, ops.diagonal(tril), f"{name} diagonal (covariance must be positive definite)",
             label)


@family
class Dirichlet(Family):
    """dirichlet(concentration)."""

    key, kind, event_dims = "dirichlet", "multivariate", 1
    torch, scipy = ("Dirichlet",), ("dirichlet",)
    params, example = {"concentration": _concentration}, {"concentration": [0.5, 2.0, 3.5]}

    def from_scipy_frozen(self, obj, label: str) -> dict[str, Any]:
        import numpy as np

        return {"concentration": np.asarray(obj.alpha, dtype=np.float64)}

    def entropy(self, ops, p):
        a = p["concentration"]
        k = ops.shape(a)[-1]
        a0 = ops.sum(a, -1)
        lnb = ops.sum(ops.lgamma(a), -1) - ops.lgamma(a0)
        return lnb + (a0 - k) * ops.digamma(a0) - ops.sum((a - 1) * ops.digamma(a), -1)


@family
class MVN(Family):
    """mvn(loc, scale_tril): covariance = scale_tril @ scale_tril.T; full, diagonal and low-rank
    torch covariances and scipy's multivariate_normal land here."""

    key, kind, event_dims = "mvn", "multivariate", 1
    torch = ("MultivariateNormal", "LowRankMultivariateNormal")
    scipy = ("multivariate_normal",)
    params: ClassVar[dict[str, Any]] = {"loc": unchecked, "scale_tril": _positive_definite}
    example: ClassVar[dict[str, Any]] = {"loc": [0.0, 1.0], "scale_tril": [[1.0, 0.0], [0.5, 2.0]]}

    def from_scipy_frozen(self, obj, label: str) -> dict[str, Any]:
        import numpy as np

        mean = np.asarray(obj.mean, dtype=np.float64)
        try:
            tril = np.linalg.cholesky(np.asarray(obj.cov, dtype=np.float64))
        except np.linalg.LinAlgError:
            raise ValueError(
                f"{label}: covariance matrix is not positive definite (singular or indefinite); "
                "a degenerate normal has no density, so its measures are undefined"
            ) from None
        return {"loc": mean, "scale_tril": tril}

    def entropy(self, ops, p):
        tril = p["scale_tril"]
        d = ops.shape(tril)[-1]
        return d / 2 * (1 + LOG_2PI) + ops.sum(ops.log(ops.diagonal(tril)), -1)


@family
class Independent(Family):
    """independent(base, ndims): torch Independent; sums over the last ``ndims`` batch axes."""

    key, kind, torch = "independent", "multivariate", ("Independent",)
    # the base distribution was checked when it was read
    params: ClassVar[dict[str, Any]] = {"base": unchecked, "ndims": unchecked}

    def entropy(self, ops, p):
        base = p["base"]
        spec = FAMILIES.get(base.family)
        h = spec.entropy(base.ops, base.params) if spec else None
        if h is None:
            return None
        return sum_last(ops, h, p["ndims"])
