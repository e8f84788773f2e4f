"""Kraskov-Stögbauer-Grassberger mutual information of continuous samples (private).

Algorithm 1 of Kraskov, Stögbauer & Grassberger (2004), with the max-norm in every space:
for each joint point z_i = (x_i, y_i), eps_i is the distance to its k-th nearest neighbour in
the joint space (itself excluded), n_x(i) the number of other points with
``||x_j - x_i|| < eps_i`` (strictly) and likewise n_y(i); then

    I = psi(k) + psi(N) - mean_i [psi(n_x(i) + 1) + psi(n_y(i) + 1)]

in nats, for any N > k, d_x and d_y. The joint max-norm is the larger of the marginal
max-norms, so the counts are ball queries of radius just below eps_i (the next float down)
on :class:`scipy.spatial.cKDTree` trees of x and y (all cores); a 1-D marginal is counted by
bisection on its sorted values instead (the same comparisons, several times faster).

The estimator is not a sum of probability terms, so it does not go through the core's
kernels. Like every bias-corrected estimator it can come out slightly negative when X and Y
are independent; the value is returned as the formula gives it. Duplicate joint points make
eps_i = 0 and the estimator undefined: they raise, naming how many (``jitter=`` opts in to
tie breaking); duplicates in one marginal only (x_i = x_j, y_i != y_j) are fine.
"""

from __future__ import annotations

import numpy as np

from kullback.estimate._inputs import SampleOptions, check_size

__all__ = ["ksg_mutual_information", "ksg_terms"]


def _counts_within(a: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """For each point, the number of OTHER points of ``a`` strictly within max-norm ``eps``."""
    if a.shape[1] == 1:
        return _counts_within_1d(a[:, 0], eps)
    from scipy.spatial import cKDTree

    radius = np.nextafter(eps, 0.0)  # the tree counts distances <= radius, i.e. < eps
    found = cKDTree(a).query_ball_point(a, radius, p=np.inf, return_length=True, workers=-1)
    return np.asarray(found) - 1


def _counts_within_1d(v: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """``#{j != i : fl(|v_j - v_i|) < eps_i}`` by bisection on the sorted values.

    ``fl(s_j - v_i)`` is monotone in ``s_j`` (rounding is monotone), so on the sorted values
    "left of the upper edge" and "beyond the lower edge" are prefixes; bisecting with the very
    comparison the tree makes gives its counts exactly (ties included), in O(n log n).
    """
    s = np.sort(v)

    def below_upper(j: np.ndarray) -> np.ndarray:
        return (s[j] <= v) | (s[j] - v < eps)

    def beyond_lower(j: np.ndarray) -> np.ndarray:
        return (s[j] < v) & (v - s[j] >= eps)

    return _prefix_length(below_upper, s.size) - _prefix_length(beyond_lower, s.size) - 1


def _prefix_length(pred, n: int) -> np.ndarray:
    """Per point, the length of the prefix of indices 0..n-1 on which ``pred`` holds."""
    lo = np.zeros(n, dtype=np.intp)
    hi = np.full(n, n, dtype=np.intp)
    while True:
        open_ = lo < hi
        if not open_.any():
            return lo
        mid = np.where(open_, (lo + hi) // 2, 0)
        ok = pred(mid)
        lo = np.where(open_ & ok, mid + 1, lo)
        hi = np.where(open_ & ~ok, mid, hi)


def ksg_terms(x: np.ndarray, y: np.ndarray, k: int) -> tuple[float, np.ndarray]:
    """(constant, per-point terms): I = constant + mean(terms), in nats."""
    from scipy.spatial import cKDTree
    from scipy.special import digamma

    n = x.shape[0]
    z = np.hstack([x, y])
    dist, _ = cKDTree(z).query(z, k=k + 1, p=np.inf, workers=-1)
    n_dup = int(np.count_nonzero(dist[:, 1] == 0))
    if n_dup:
        raise ValueError(
            f"x, y: {n_dup} joint point(s) (x_i, y_i) coincide with another, so the KSG "
            "neighbour distance can be 0 and the estimator is undefined. Duplicates usually "
            "mean rounded or discrete data: treat the data as discrete (kind='discrete'), or "
            "opt in to jitter=True (Gaussian noise of 1e-10 x each column's standard "
            "deviation, seeded by random_state) or jitter=<relative scale>."
        )
    eps = dist[:, k]
    nx = _counts_within(x, eps)
    ny = _counts_within(y, eps)
    return float(digamma(k) + digamma(n)), -(digamma(nx + 1.0) + digamma(ny + 1.0))


def ksg_mutual_information(samples: list[np.ndarray], opts: SampleOptions) -> float:
    """KSG estimate of I(X; Y) from paired samples ``[x, y]`` (n, d_x) and (n, d_y)."""
    x, y = samples
    check_size(x, opts.k + 1, "x", f"k + 1 = {opts.k + 1}")
    const, terms = ksg_terms(x, y, opts.k)
    return const + float(terms.mean())
