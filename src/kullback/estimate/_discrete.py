"""Entropy, cross-entropy and KL estimators for discrete samples (private).

All functions take count arrays of shape ``(..., K)`` (float64, non-negative, integral) and
return values in nats with shape ``(...)``, so one call evaluates a whole batch of bootstrap
replicates. The public entry point is :mod:`kullback.estimate`.

Definitions (N = total count, K_obs = number of non-zero cells, p_i = n_i / N):

- plugin         ``log N - (1/N) sum n_i log n_i``
- miller_madow   plugin + ``(K_obs - 1) / (2N)``
- grassberger    ``log N - (1/N) sum n_i G(n_i)``,
                 ``G(n) = psi(n) + (-1)^n / 2 * (psi((n+1)/2) - psi(n/2))`` (Grassberger 2003)
- chao_shen      coverage ``C = 1 - f1/N`` (``f1`` singletons, ``f1 = N - 1`` if all are
                 singletons), ``pa = C p``, ``-sum pa log pa / (1 - (1 - pa)^N)``
- james_stein    ``p* = lam / K + (1 - lam) p`` with
                 ``lam = (1 - sum p^2) / ((N - 1) sum (1/K - p)^2)`` clipped to [0, 1]
                 (Hausser & Strimmer 2009); K counts every cell, seen or not
- nsb            Nemenman-Shafee-Bialek: Dirichlet(beta) posterior mean entropy averaged over
                 beta with the prior that makes the prior entropy uniform on [0, log K].
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "ENTROPY_METHODS",
    "entropy_counts",
    "nsb_entropy",
    "plugin_entropy_variance",
    "two_sample",
    "two_sample_variance",
]

ENTROPY_METHODS = ("plugin", "miller_madow", "grassberger", "chao_shen", "james_stein", "nsb")


def _xlogx(c: np.ndarray) -> np.ndarray:
    from scipy.special import xlogy

    return xlogy(c, c)


def plugin(c: np.ndarray) -> np.ndarray:
    n = c.sum(axis=-1)
    return np.log(n) - _xlogx(c).sum(axis=-1) / n


def miller_madow(c: np.ndarray) -> np.ndarray:
    n = c.sum(axis=-1)
    k_obs = np.count_nonzero(c, axis=-1)
    return plugin(c) + (k_obs - 1) / (2.0 * n)


def _grassberger_g(c: np.ndarray) -> np.ndarray:
    from scipy.special import digamma

    safe = np.where(c > 0, c, 1.0)  # G is only evaluated where n_i > 0 (weighted by n_i)
    sign = np.where(np.mod(safe, 2.0) == 0, 1.0, -1.0)
    return digamma(safe) + 0.5 * sign * (digamma((safe + 1.0) / 2.0) - digamma(safe / 2.0))


def grassberger(c: np.ndarray) -> np.ndarray:
    n = c.sum(axis=-1)
    return np.log(n) - (c * _grassberger_g(c)).sum(axis=-1) / n


def chao_shen(c: np.ndarray) -> np.ndarray:
    n = c.sum(axis=-1, keepdims=True)
    f1 = (c == 1).sum(axis=-1, keepdims=True).astype(np.float64)
    f1 = np.where(f1 == n, n - 1.0, f1)
    coverage = 1.0 - f1 / n
    pa = coverage * c / n
    # 1 - (1 - pa)^N, computed without cancellation (pa = 1 gives log1p(-1) = -inf -> 1)
    with np.errstate(divide="ignore"):
        denom = -np.expm1(n * np.log1p(-pa))
    safe = np.where(pa > 0, denom, 1.0)
    terms = np.where(pa > 0, -_xlogx(pa) / safe, 0.0)
    return terms.sum(axis=-1)


def james_stein_lambda(c: np.ndarray, k: int) -> np.ndarray:
    n = c.sum(axis=-1, keepdims=True)
    p = c / n
    target = 1.0 / k
    # cells beyond c.shape[-1] (unseen, not listed) have p = 0
    extra = k - c.shape[-1]
    spread = ((target - p) ** 2).sum(axis=-1, keepdims=True) + extra * target**2
    num = 1.0 - (p**2).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where((n > 1) & (spread > 0), num / ((n - 1.0) * spread), 1.0)
    return np.clip(lam, 0.0, 1.0)


def james_stein(c: np.ndarray, k: int) -> np.ndarray:
    n = c.sum(axis=-1, keepdims=True)
    lam = james_stein_lambda(c, k)
    target = 1.0 / k
    p = lam * target + (1.0 - lam) * c / n
    extra = k - c.shape[-1]
    out = -_xlogx(p).sum(axis=-1)
    if extra:
        q = (lam * target)[..., 0]
        out = out - extra * _xlogx(q)
    return out


# --------------------------------------------------------------------------------------- NSB
def _histogram_of_counts(c: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
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


def _nsb_log_weight(values: np.ndarray, mult: np.ndarray, k: int, t: np.ndarray) -> np.ndarray:
    """log of evidence(beta) * dxi/dbeta * beta at beta = exp(t) (integration variable t)."""
    beta = np.exp(t)
    n = float((values * mult).sum())
    nz = values > 0
    vals, ms = values[nz], mult[nz]
    log_ev = -_lgamma_diff(k * beta, n) + (
        ms[None, :] * _lgamma_diff(beta[:, None], vals[None, :])
    ).sum(axis=-1)
    return log_ev + _log_dxi_dbeta(beta, k) + t


def _log_dxi_dbeta(beta: np.ndarray, k: int) -> np.ndarray:
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


def nsb_entropy(c: np.ndarray, k: int) -> tuple[float, float]:
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


# --------------------------------------------------------------------------- dispatch
def entropy_counts(c: np.ndarray, method: str, k: int) -> np.ndarray:
    """Entropy (nats) of count vectors ``c`` of shape (..., K') with alphabet size ``k >= K'``."""
    if method == "plugin":
        return plugin(c) + 0.0  # + 0.0 turns -0.0 into 0.0
    if method == "miller_madow":
        return miller_madow(c) + 0.0
    if method == "grassberger":
        return grassberger(c) + 0.0
    if method == "chao_shen":
        return chao_shen(c) + 0.0
    if method == "james_stein":
        return james_stein(c, k) + 0.0
    if method == "nsb":
        flat = c.reshape(-1, c.shape[-1])
        out = np.array([nsb_entropy(row, k)[0] for row in flat])
        return out.reshape(c.shape[:-1])
    raise AssertionError(method)  # pragma: no cover - validated by the caller


def plugin_entropy_variance(c: np.ndarray) -> float:
    """Delta-method variance of the plug-in entropy: (sum p log^2 p - H^2) / N."""
    n = c.sum()
    p = c[c > 0] / n
    lp = np.log(p)
    h = -(p * lp).sum()
    return float(max((p * lp * lp).sum() - h * h, 0.0) / n)


def two_sample(cx: np.ndarray, cy: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Cross-entropy and entropy (nats) from aligned counts; cross-entropy is +inf where x
    has mass that y lacks. ``method`` is "plugin" or "miller_madow" (first-order bias
    correction of both terms: ``E log q_hat ~ log q - (1 - q) / (2 m q)``)."""
    n = cx.sum(axis=-1, keepdims=True)
    m = cy.sum(axis=-1, keepdims=True)
    p = cx / n
    q = cy / m
    with np.errstate(divide="ignore"):
        logq = np.log(q)
    bad = (p > 0) & (q == 0)
    terms = np.where(p > 0, -p * np.where(bad, 0.0, logq), 0.0)
    cross = np.where(bad.any(axis=-1), np.inf, terms.sum(axis=-1))
    ent = plugin(cx)
    if method == "miller_madow":
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = np.where(p > 0, p * (1.0 - q) / (2.0 * m * q), 0.0).sum(axis=-1)
        cross = np.where(np.isfinite(cross), cross - corr, cross)
        ent = miller_madow(cx)
    return cross, ent


def two_sample_variance(cx: np.ndarray, cy: np.ndarray, kind: str, n: int, m: int) -> float:
    """Delta-method variance of the plug-in cross-entropy ("cross") or KL ("kl").

    ``(Var_p[g])/n + (sum p^2/q - 1)/m`` with ``g = -log q`` (cross) or ``log(p/q)`` (KL);
    p, q are the (possibly smoothed) frequencies and n, m the sample sizes.
    """
    p, q = cx / cx.sum(), cy / cy.sum()
    s = p > 0
    if np.any(q[s] == 0):
        return math.inf
    ps, qs = p[s], q[s]
    ratio2 = (ps * ps / qs).sum() - 1.0  # variance from y
    g = -np.log(qs) if kind == "cross" else np.log(ps / qs)
    mean_g = (ps * g).sum()
    var_x = max((ps * g * g).sum() - mean_g**2, 0.0)
    return float(var_x / n + max(ratio2, 0.0) / m)
