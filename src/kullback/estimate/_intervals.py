"""Error bars for the sample estimators: standard errors and the intervals built from them.

Every estimator's ``ci=`` goes through :func:`finish`, which builds the one result type
(:class:`kullback._result.Estimate`) with ``low <= value <= high`` and ``stderr >= 0`` always,
whatever the method, the sample or the unit. The interval is ``value -+ z stderr`` (z the
normal quantile of the confidence), widened to contain the value and, for quantities that
cannot be negative, with ``low`` raised to 0 (never above the value itself: a bias-corrected
estimate may be slightly negative).

Standard errors come from the method (delta method, NSB posterior), from a multinomial
bootstrap of the counts (:func:`bootstrap_stderr`), or, for continuous data, from disjoint
random groups (:func:`grouped_stderr`): resampling with replacement would create duplicate
points, so the sample is split into g = 10 groups, the estimator is evaluated on each, and
``var(groups)/g`` estimates its variance (kNN estimators' variance scales as 1/n), averaged
over random partitions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from kullback._result import Estimate
from kullback.estimate._discrete import Tally, total
from kullback.units import Unit

__all__ = ["bootstrap_stderr", "finish", "grouped_stderr", "interval"]

_GROUPS = 10
_MAX_BOOTSTRAP_SIZE = 2**62  # numpy's multinomial draws int64 counts


def interval(value: float, stderr: float, z: float, nonnegative: bool) -> tuple[float, float]:
    """``(low, high)`` around ``value`` in nats, ordered and containing it.

    >>> interval(-1.7e-5, 0.0, 1.96, nonnegative=True)   # a degenerate bootstrap
    (-1.7e-05, -1.7e-05)
    >>> interval(0.1, 0.1, 1.96, nonnegative=True)
    (0.0, 0.29600000000000004)
    """
    if math.isnan(value):
        return math.nan, math.nan
    if math.isinf(value) or not math.isfinite(stderr):
        low, high = -math.inf, math.inf
    else:
        low, high = value - z * stderr, value + z * stderr
    if nonnegative:
        low = max(low, 0.0)
    return min(low, value), max(high, value)


def finish(
    value: float,
    stderr: float | None,
    ci: float | None,
    *,
    method: str,
    unit: Unit,
    interval_kind: str,
    nonnegative: bool,
    pseudocount: float | None = None,
) -> float | Estimate:
    """A float in ``unit`` (``ci=None``), or an :class:`Estimate` with its interval."""
    value = float(value)
    if ci is None:
        return float(unit.from_nats(value))
    from scipy.special import ndtri

    se = math.inf if stderr is None or math.isnan(stderr) else abs(float(stderr))
    if math.isinf(value) and value > 0:
        se = math.inf
    low, high = interval(value, se, float(ndtri(0.5 + ci / 2.0)), nonnegative)
    return Estimate(
        value=float(unit.from_nats(value)),
        method=method,
        unit=unit.name,
        stderr=float(unit.from_nats(se)),
        low=float(unit.from_nats(low)),
        high=float(unit.from_nats(high)),
        confidence=ci,
        interval=interval_kind,
        pseudocount=pseudocount,
    )


def bootstrap_stderr(
    fn: Callable[..., np.ndarray], tally: Tally, rng: np.random.Generator, n_resamples: int
) -> float:
    """Standard deviation of ``fn`` over multinomial resamples of the tally's observed counts.

    The unseen outcomes and the pseudocount of the tally are kept; a contingency table is
    resampled cell by cell.
    """
    c = tally.counts
    n = float(total(c, axis=None))
    if n > _MAX_BOOTSTRAP_SIZE:
        raise ValueError(
            f"ci: a bootstrap needs a sample size of at most 2**62; got {n:.3g} counts "
            "(use method='plugin', whose delta-method interval has no such limit)"
        )
    flat = c.ravel()
    boot = rng.multinomial(int(n), flat / n, size=n_resamples).astype(np.float64)
    values = fn(tally.with_counts(boot.reshape(n_resamples, *c.shape)))
    return float(np.std(values, ddof=1))


def grouped_stderr(
    fn: Callable[..., float],
    samples: list[np.ndarray],
    min_sizes: tuple[int, ...],
    rng: np.random.Generator,
    n_partitions: int,
    *,
    paired: bool = False,
) -> float:
    """sqrt of var(group estimates)/g averaged over random partitions into g disjoint groups.

    ``paired`` samples (x and y of a mutual information) are split by the same permutation.
    """
    pairs = list(zip(samples, min_sizes, strict=True))
    g = min(_GROUPS, *(s.shape[0] // (2 * need) for s, need in pairs))
    if g < 2:
        sizes = " and ".join(f"{4 * need}" for _, need in pairs)
        raise ValueError(
            "ci: too few samples for a grouped standard error (2 groups of at least twice the "
            f"estimator's minimum): need at least {sizes} points"
        )
    variances = []
    for _ in range(n_partitions):
        if paired:
            perm = np.array_split(rng.permutation(samples[0].shape[0]), g)
            parts = [perm] * len(samples)
        else:
            parts = [np.array_split(rng.permutation(s.shape[0]), g) for s in samples]
        vals = [fn(*(s[p[j]] for s, p in zip(samples, parts, strict=True))) for j in range(g)]
        variances.append(np.var(vals, ddof=1) / g)
    return math.sqrt(float(np.mean(variances)))
