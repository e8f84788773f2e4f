"""The one result type for values that come with an uncertainty.

Distributions computed numerically (quadrature, sums, Monte Carlo) carry an absolute error
estimate; sample estimators carry a standard error and an interval. Both are an
:class:`Estimate`; the fields that do not apply are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Estimate"]


@dataclass(frozen=True)
class Estimate:
    """A value with how it was obtained and how uncertain it is.

    Unpacks as ``value, error = estimate`` (``error`` falls back to ``stderr``).

    Attributes
    ----------
    value : float, numpy.ndarray or torch.Tensor
        The measure, in ``unit``.
    method : str
        What produced it: ``"closed"``, ``"quad"``, ``"sum"``, ``"mc"`` for distributions; the
        estimator's name (``"plugin"``, ``"miller_madow"``, ``"knn"``, ``"ksg"``, ...) for samples.
    unit : str
        ``"nats"``, ``"bits"``, ``"bans"`` or ``"log base b"``.
    error : same type as value or None
        Absolute numerical error estimate (0 for closed forms), for distributions.
    stderr : float or None
        Estimated standard error, for sample estimators.
    low, high : float or None
        The confidence interval (always ``low <= value <= high``), for sample estimators.
    confidence : float or None
        The interval's requested coverage, e.g. 0.95.
    interval : str or None
        How ``stderr`` was obtained: ``"delta"``, ``"posterior"``, ``"bootstrap"``,
        ``"grouped"``.
    pseudocount : float or None
        The pseudocount added to every count, if any.

    Examples
    --------
    >>> from kullback import Estimate
    >>> e = Estimate(value=1.5, method="closed", error=0.0)
    >>> value, error = e
    >>> float(e), value, error
    (1.5, 1.5, 0.0)
    """

    value: Any
    method: str
    unit: str = "nats"
    error: Any = None
    stderr: Any = None
    low: Any = None
    high: Any = None
    confidence: float | None = None
    interval: str | None = None
    pseudocount: float | None = None

    def __iter__(self):
        yield self.value
        yield self.error if self.error is not None else self.stderr

    def __float__(self) -> float:
        return float(self.value)
