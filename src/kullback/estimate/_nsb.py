"""The Nemenman-Shafee-Bialek (NSB) Bayesian entropy estimator (private).

A mixture of Dirichlet(beta) priors whose weights make the prior entropy uniform on
[0, log K]; the posterior mean and standard deviation of H are Wolpert & Wolf's (1995)
Dirichlet moments averaged over beta with the evidence. The alphabet size K may be huge: the
unseen outcomes enter as one count value (0) with multiplicity K - K_obs. These are posterior
moments of H (digamma sums), not entropy sums of a distribution, so they do not go through
the core's kernels.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = ["dirichlet_entropy_moments", "nsb", "nsb_entropy", "nsb_stderr"]


def _histogram_of_counts(c: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Distinct count values n_u and how many cells m_u have each (zeros padded up to k)."""
    values, mult = np.unique(c, return_counts=True)
    mult = mult.astype(np.float64)
    zeros = k - c.size
    if zeros:
        if values.size and values[0] == 0:
            mult[0] += zeros
        else:
            values = np.concatenate([[0.0], values])
            mult = np.concatenate([[float(zeros)], mult])
    return values.astype(np.float64), mult


def dirichlet_entropy_moments(
    values: np.ndarray, mult: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and second moment of H under Dirichlet(n + beta), for a grid of beta.

    Wolpert & Wolf (1995); ``values``/``mult`` describe the counts (value n_u on m_u cells).
    """
    from scipy.special import digamma, polygamma

    b = beta[:, None]
    a = values[None, :] + b  # (G, U)
    m = mult[None, :]
    big_a = (m * a).sum(axis=-1, keepdims=True)  # (G, 1)
    mean = digamma(big_a[:, 0] + 1.0) - (m * a * digamma(a + 1.0)).sum(axis=-1) / big_a[:, 0]

    psi_a2 = digamma(big_a + 2.0)
    tri_a2 = polygamma(1, big_a + 2.0)
    u = digamma(a + 1.0) - psi_a2  # (G, U)
    s1 = (m * a * u).sum(axis=-1)
    s2 = (m * a * a * u * u).sum(axis=-1)
    pair_weight = big_a[:, 0] ** 2 - (m * a * a).sum(axis=-1)  # sum_{i != j} a_i a_j
    cross = s1**2 - s2 - pair_weight * tri_a2[:, 0]
    v = digamma(a + 2.0) - psi_a2
    diag = (m * a * (a + 1.0) * (v * v + polygamma(1, a + 2.0) - tri_a2)).sum(axis=-1)
    second = (cross + diag) / (big_a[:, 0] * (big_a[:, 0] + 1.0))
    return mean, second


def _lgamma_diff(x: np.ndarray, n: np.ndarray | float) -> np.ndarray:
    """``log Gamma(x + n) - log Gamma(x)`` without cancellation for large x (Stirling)."""
    from scipy.special import gammaln

    big = x > 1e4
    xb = np.where(big, x, 1.0)
    xn = xb + n
    stirling = (
        n * np.log(xn)
        + (xb - 0.5) * np.log1p(n / xb)
        - n
        + (1.0 / xn - 1.0 / xb) / 12.0
        - (1.0 / xn**3 - 1.0 / xb**3) / 360.0
    )
    xs = np.where(big, 1.0, x)
    return np.where(big, stirling, gammaln(xs + n) - gammaln(xs))


def _nsb_log_weight(values: np.ndarray, mult: np.ndarray, k: float, t: np.ndarray) -> np.ndarray:
    """log of evidence(beta) * dxi/dbeta * beta at beta = exp(t) (integration variable t)."""
    beta = np.exp(t)
    n = float((values * mult).sum())
    nz = values > 0
    vals, ms = values[nz], mult[nz]
    log_ev = -_lgamma_diff(k * beta, n) + (
        ms[None, :] * _lgamma_diff(beta[:, None], vals[None, :])
    ).sum(axis=-1)
    return log_ev + _log_dxi_dbeta(beta, k) + t


def _log_dxi_dbeta(beta: np.ndarray, k: float) -> np.ndarray:
    """log d xi / d beta, xi(beta) = psi(K beta + 1) - psi(beta + 1) (the prior mean entropy).

    ``K psi1(K beta + 1) - psi1(beta + 1)`` cancels badly for large beta; there the asymptotic
    series ``psi1(x + 1) ~ 1/x - 1/(2x^2) + 1/(6x^3) - 1/(30x^5) + 1/(42x^7)`` is used with
    the 1/x terms cancelled analytically.
    """
    from scipy.special import polygamma

    big = beta > 1e3
    b = np.where(big, beta, 1.0)
    kinv = 1.0 / k
    series = (
        0.5 * (1.0 - kinv) / b**2
        - (1.0 - kinv**2) / (6.0 * b**3)
        + (1.0 - kinv**4) / (30.0 * b**5)
        - (1.0 - kinv**6) / (42.0 * b**7)
    )
    s = np.where(big, 1.0, beta)
    direct = k * polygamma(1, k * s + 1.0) - polygamma(1, s + 1.0)
    return np.log(np.where(big, series, direct))


def nsb_entropy(c: np.ndarray, k: float) -> tuple[float, float]:
    """NSB posterior mean and standard deviation of the entropy (nats) for one count vector."""
    c = np.asarray(c, dtype=np.float64).ravel()
    values, mult = _histogram_of_counts(c, k)
    if k == 1:
        return 0.0, 0.0
    # The integrand in t = log(beta) is smooth and unimodal-ish; locate its mass on a coarse
    # grid, then integrate on a fine grid spanning everything within e^-40 of the peak.
    lo, hi = -40.0, 40.0  # beta from 4e-18 to 2e17
    for points in (401, 801):
        t = np.linspace(lo, hi, points)
        lw = _nsb_log_weight(values, mult, k, t)
        keep = np.flatnonzero(lw > np.nanmax(lw) - 40.0)
        new_lo = t[max(keep[0] - 1, 0)]
        new_hi = t[min(keep[-1] + 1, points - 1)]
        lo, hi = new_lo, new_hi
    t = np.linspace(lo, hi, 2001)
    lw = _nsb_log_weight(values, mult, k, t)
    w = np.exp(lw - np.nanmax(lw))
    w = np.where(np.isfinite(w), w, 0.0)
    mean_b, second_b = dirichlet_entropy_moments(values, mult, np.exp(t))
    z = np.trapezoid(w, t)
    mean = float(np.trapezoid(w * mean_b, t) / z)
    second = float(np.trapezoid(w * second_b, t) / z)
    var = max(second - mean * mean, 0.0)
    return mean, math.sqrt(var)



@lru_cache(maxsize=16)
def _moments(counts: bytes, k: float) -> tuple[float, float]:
    """NSB mean and sd of one float64 count vector (its bytes): the value and the error bar
    of one call share the quadrature."""
    return nsb_entropy(np.frombuffer(counts), k)


def nsb(t) -> np.ndarray:
    """NSB posterior mean entropy (nats) of every count row of a tally."""
    flat = np.ascontiguousarray(t.counts, dtype=np.float64).reshape(-1, t.counts.shape[-1])
    out = np.array([_moments(row.tobytes(), t.alphabet)[0] for row in flat])
    return out.reshape(t.counts.shape[:-1])


def nsb_stderr(t) -> float:
    """NSB posterior standard deviation for a single count vector."""
    counts = np.ascontiguousarray(t.counts, dtype=np.float64)
    return _moments(counts.tobytes(), t.alphabet)[1]
