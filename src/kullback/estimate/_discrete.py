"""Estimators for discrete samples, on tallies of counts (private).

A :class:`Tally` holds count vectors of shape ``(..., K_obs)`` (one row per sample, so a whole
batch of bootstrap replicates is evaluated at once), the number of further outcomes of the
alphabet that were never seen (``unseen``, any size: they share ONE closed-form cell, so an
alphabet of 1e10 outcomes costs nothing), and an optional pseudocount added to every outcome.

Every entropy, cross-entropy and KL sum is taken with the core's kernels
(:mod:`kullback.measures._kernels`): Bregman KL terms that are never negative and keep relative
accuracy for nearly identical distributions, ``0 log 0 = 0``, no epsilon. Probabilities are
formed after scaling the counts by their maximum, so counts up to 1.8e308 do not overflow.
The other logarithms in this module are not entropy sums: Grassberger's correction
``log n - G(n)`` and the delta-method variances ``Var[log ...]``.
Bias corrections are written as additive corrections to a core-computed plug-in value
(N = sample size, n_i = count of outcome i, p_i = n_i / N, K_obs = outcomes seen):

- plugin        H(p), H(p, q), KL(p || q), I = KL(p(x, y) || p(x) p(y))
- miller_madow  H + (K_obs - 1)/(2N);  H(p, q) - sum p (1 - q)/(2 m q);
                KL - sum p (1 - q)/(2 m q) - (K_obs - 1)/(2n);
                I + (K_x + K_y - K_xy - 1)/(2N)
- grassberger   H + sum p_i (log n_i - G(n_i)),
                ``G(n) = psi(n) + (-1)^n / 2 (psi((n+1)/2) - psi(n/2))`` (Grassberger 2003),
                which is ``log N - (1/N) sum n_i G(n_i)`` rearranged; for I the corrections of
                H(X) + H(Y) - H(X, Y)
- chao_shen     coverage ``C = 1 - f1/N`` (``f1`` singletons, ``N - 1`` if all are), ``pa = C p``,
                ``-sum pa log pa / (1 - (1 - pa)^N)`` (Chao & Shen 2003)
- james_stein   the entropy (or the MI) of ``lam / K + (1 - lam) p`` with
                ``lam = (1 - sum p^2) / ((N - 1) sum (1/K - p)^2)`` clipped to [0, 1]
                (Hausser & Strimmer 2009); K counts every cell, seen or not
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from kullback.measures import _kernels

__all__ = [
    "Tally",
    "chao_shen",
    "cross_entropy_sum",
    "entropy_sum",
    "grassberger",
    "grassberger_correction",
    "grassberger_mi",
    "james_stein",
    "james_stein_lambda",
    "james_stein_mi",
    "kl_sum",
    "miller_madow",
    "miller_madow_cross_entropy",
    "miller_madow_kl",
    "miller_madow_mi",
    "normalise",
    "plugin",
    "plugin_cross_entropy",
    "plugin_entropy_stderr",
    "plugin_kl",
    "plugin_mi",
    "plugin_mi_stderr",
    "total",
    "two_sample_stderr",
]


# ------------------------------------------------------------------------------- tallies
@dataclass(frozen=True)
class Tally:
    """Counts ``(..., K_obs)`` plus ``unseen`` outcomes of count 0 and a ``pseudocount``."""

    counts: np.ndarray
    unseen: float = 0.0
    pseudocount: float = 0.0

    @property
    def alphabet(self) -> float:
        return self.counts.shape[-1] + self.unseen

    def with_counts(self, counts: np.ndarray) -> Tally:
        return replace(self, counts=counts)

    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """Smoothed counts with one shared cell for the unseen outcomes, and each cell's weight."""
        c = self.counts + self.pseudocount
        shared = np.full((*c.shape[:-1], 1), self.pseudocount)
        weights = np.ones(c.shape[-1] + 1)
        weights[-1] = self.unseen
        return np.concatenate([c, shared], axis=-1), weights

    def probs(self) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities of the cells (weighted cells sum to 1) and the cells' weights."""
        c, w = self.cells()
        return normalise(c, w), w

    def size(self) -> np.ndarray:
        """The smoothed total count N (may be inf for counts near the float64 limit)."""
        c, w = self.cells()
        with np.errstate(over="ignore"):
            return (w * c).sum(axis=-1)


def normalise(c: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """``c / sum(w c)`` along the last axis, scaled by the maximum first (no overflow)."""
    top = c.max(axis=-1, keepdims=True)
    s = c / np.where(top > 0, top, 1.0)
    total = (s if w is None else w * s).sum(axis=-1, keepdims=True)
    return s / total


def total(c: np.ndarray, axis: int | tuple[int, ...] = -1, keepdims: bool = False) -> np.ndarray:
    """The sample size: the sum of counts, inf (no warning) beyond the float64 range."""
    with np.errstate(over="ignore"):
        return c.sum(axis=axis, keepdims=keepdims)


def _observed(c: np.ndarray) -> np.ndarray:
    return np.count_nonzero(c, axis=-1)


# ------------------------------------------------------------------ sums through the core
def _xp(a: np.ndarray):
    """The array namespace the core hands its kernels for NumPy arrays."""
    import array_api_compat

    return array_api_compat.array_namespace(a)


def entropy_sum(P: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """H = -sum w P log P with the core's entropy terms."""
    t = -_kernels.entropy_terms(_xp(P), P)
    return (t if w is None else w * t).sum(axis=-1) + 0.0  # + 0.0: no -0.0


def cross_entropy_sum(P: np.ndarray, Q: np.ndarray, w: np.ndarray) -> np.ndarray:
    """H(P, Q) = -sum w P log Q with the core's terms (+inf where P > 0 = Q)."""
    with np.errstate(divide="ignore"):
        t = -_kernels.cross_entropy_terms(_xp(P), P, Q)
    return (w * np.where(w > 0, t, 0.0)).sum(axis=-1)


def kl_sum(P: np.ndarray, Q: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """KL = sum w x (Bregman KL terms of the core, each >= 0; +inf where P > 0 = Q)."""
    with np.errstate(divide="ignore"):
        t = _kernels.kl_terms(_xp(P), P, Q)
    if w is None:
        return t.sum(axis=-1)
    return (w * np.where(w > 0, t, 0.0)).sum(axis=-1)


# ----------------------------------------------------------------------- entropy methods
def plugin(t: Tally) -> np.ndarray:
    """Entropy of the (smoothed) empirical distribution."""
    P, w = t.probs()
    return entropy_sum(P, w)


def miller_madow(t: Tally) -> np.ndarray:
    n = t.size()
    return plugin(t) + (_observed(t.counts) - 1) / n / 2.0  # / n first: n may be near inf


def _grassberger_g(c: np.ndarray) -> np.ndarray:
    from scipy.special import digamma

    safe = np.where(c > 0, c, 1.0)  # G is only evaluated where n_i > 0 (weighted by p_i)
    sign = np.where(np.mod(safe, 2.0) == 0, 1.0, -1.0)
    return digamma(safe) + 0.5 * sign * (digamma((safe + 1.0) / 2.0) - digamma(safe / 2.0))


def grassberger_correction(c: np.ndarray) -> np.ndarray:
    """``sum p_i (log n_i - G(n_i))``: Grassberger's estimate minus the plug-in."""
    p = normalise(c)
    gap = np.log(np.where(c > 0, c, 1.0)) - _grassberger_g(c)
    return (p * gap).sum(axis=-1)


def grassberger(t: Tally) -> np.ndarray:
    return plugin(t) + grassberger_correction(t.counts)


def chao_shen(t: Tally) -> np.ndarray:
    c = t.counts
    n = total(c, keepdims=True)
    f1 = (c == 1).sum(axis=-1, keepdims=True).astype(np.float64)
    f1 = np.where(f1 == n, n - 1.0, f1)
    pa = (1.0 - f1 / n) * normalise(c)
    # 1 - (1 - pa)^N without cancellation (pa = 1 gives log1p(-1) = -inf -> 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inclusion = -np.expm1(n * np.log1p(-pa))
    terms = -_kernels.entropy_terms(_xp(pa), pa) / np.where(pa > 0, inclusion, 1.0)
    return terms.sum(axis=-1) + 0.0


def james_stein_lambda(c: np.ndarray, k: float) -> np.ndarray:
    """Shrinkage intensity toward 1/k; cells beyond ``c.shape[-1]`` (unseen) have p = 0."""
    n = total(c, keepdims=True)
    p = normalise(c)
    target = 1.0 / k
    extra = k - c.shape[-1]
    spread = ((target - p) ** 2).sum(axis=-1, keepdims=True) + extra * target**2
    num = 1.0 - (p**2).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where((n > 1) & (spread > 0), num / ((n - 1.0) * spread), 1.0)
    return np.clip(lam, 0.0, 1.0)


def _shrunk(c: np.ndarray, k: float) -> np.ndarray:
    """James-Stein frequencies of the listed cells (the unseen ones are ``lam / k`` each)."""
    lam = james_stein_lambda(c, k)
    return lam / k + (1.0 - lam) * normalise(c)


def james_stein(t: Tally) -> np.ndarray:
    k = t.alphabet
    lam = james_stein_lambda(t.counts, k)
    P = np.concatenate([_shrunk(t.counts, k), lam / k], axis=-1)
    w = np.ones(P.shape[-1])
    w[-1] = t.unseen
    return entropy_sum(P, w)


def plugin_entropy_stderr(t: Tally) -> np.ndarray:
    """Delta-method standard error of the plug-in entropy: sqrt(Var_p[log p] / N)."""
    p = normalise(t.counts)
    h = entropy_sum(p)
    lp = np.log(np.where(p > 0, p, 1.0))
    return np.sqrt((p * (lp + h[..., None]) ** 2).sum(axis=-1) / total(t.counts))


# -------------------------------------------------------------------- two-sample methods
def _pair(tx: Tally, ty: Tally) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    P, w = tx.probs()
    Q, _ = ty.probs()
    return P, Q, w


def plugin_cross_entropy(tx: Tally, ty: Tally) -> np.ndarray:
    P, Q, w = _pair(tx, ty)
    return cross_entropy_sum(P, Q, w)


def plugin_kl(tx: Tally, ty: Tally) -> np.ndarray:
    P, Q, w = _pair(tx, ty)
    return kl_sum(P, Q, w)


def _cross_bias(tx: Tally, ty: Tally) -> np.ndarray:
    """``sum p (1 - q) / (2 m q)``: first-order bias of the plug-in cross term (finite q > 0)."""
    P, Q, w = _pair(tx, ty)
    m = ty.size()[..., None]
    ok = (P > 0) & (Q > 0)
    Qs = np.where(ok, Q, 1.0)
    return (w * np.where(ok, P * (1.0 - Qs) / (2.0 * m * Qs), 0.0)).sum(axis=-1)


def miller_madow_cross_entropy(tx: Tally, ty: Tally) -> np.ndarray:
    return plugin_cross_entropy(tx, ty) - _cross_bias(tx, ty)


def miller_madow_kl(tx: Tally, ty: Tally) -> np.ndarray:
    """The core's plug-in KL plus the Miller-Madow corrections of its two terms."""
    c, w = tx.cells()
    k_obs = (w * (c > 0)).sum(axis=-1)
    correction = _cross_bias(tx, ty) + (k_obs - 1) / tx.size() / 2.0
    return plugin_kl(tx, ty) - correction


def two_sample_stderr(tx: Tally, ty: Tally, quantity: str) -> float:
    """Delta-method standard error of the plug-in cross-entropy or KL.

    ``Var_p[g] / n + (sum p^2/q - 1) / m`` with ``g = -log q`` (cross-entropy) or
    ``log(p/q)`` (KL); p, q the (possibly smoothed) frequencies, n, m the sample sizes
    (before smoothing).
    """
    n, m = float(total(tx.counts)), float(total(ty.counts))
    P, Q, w = _pair(tx, ty)
    s = (P > 0) & (w > 0)
    if np.any(Q[s] == 0):
        return math.inf
    ps, qs, ws = P[s], Q[s], w[s]
    from_y = max(float((ws * ps * ps / qs).sum()) - 1.0, 0.0)
    g = -np.log(qs) if quantity == "cross_entropy" else np.log(ps) - np.log(qs)
    mean_g = (ws * ps * g).sum()
    from_x = float((ws * ps * (g - mean_g) ** 2).sum())
    return math.sqrt(from_x / n + from_y / m)


# ---------------------------------------------------------------- mutual information
def _mi_of_table(P: np.ndarray) -> np.ndarray:
    """I = KL(p(x, y) || p(x) p(y)) of joint tables ``(..., K_x, K_y)``: the core's
    :func:`kullback.mutual_information` (Bregman terms, never negative)."""
    import kullback as kb

    return np.asarray(kb.mutual_information(P))


def _flat(t: Tally) -> np.ndarray:
    return t.counts.reshape(*t.counts.shape[:-2], -1)


def _joint(t: Tally) -> np.ndarray:
    return normalise(_flat(t)).reshape(t.counts.shape)


def plugin_mi(t: Tally) -> np.ndarray:
    """Plug-in MI of a contingency table ``t.counts`` of shape ``(..., K_x, K_y)``."""
    return _mi_of_table(_joint(t))


def _marginal_counts(t: Tally) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    c = t.counts
    return c.sum(axis=-1), c.sum(axis=-2), _flat(t)


def miller_madow_mi(t: Tally) -> np.ndarray:
    cx, cy, cxy = _marginal_counts(t)
    n = total(cxy)
    k = _observed(cx) + _observed(cy) - _observed(cxy) - 1
    return plugin_mi(t) + k / n / 2.0


def grassberger_mi(t: Tally) -> np.ndarray:
    cx, cy, cxy = _marginal_counts(t)
    gc = grassberger_correction
    return plugin_mi(t) + gc(cx) + gc(cy) - gc(cxy)


def james_stein_mi(t: Tally) -> np.ndarray:
    """MI of the joint table shrunk toward uniform over its K_x K_y cells (Hausser-Strimmer)."""
    cxy = _flat(t)
    shrunk = _shrunk(cxy, cxy.shape[-1]).reshape(t.counts.shape)
    return _mi_of_table(shrunk)


def plugin_mi_stderr(t: Tally) -> np.ndarray:
    """Delta-method standard error of the plug-in MI: sqrt(Var_p[log p(x,y)/(p(x)p(y))] / N)."""
    P = _joint(t)
    ratio = P / (P.sum(axis=-1, keepdims=True) * P.sum(axis=-2, keepdims=True))
    g = np.log(np.where(P > 0, ratio, 1.0))
    mi = _mi_of_table(P)
    dev = (P * (g - mi[..., None, None]) ** 2).sum(axis=(-2, -1))
    return np.sqrt(dev / total(t.counts, axis=(-2, -1)))
