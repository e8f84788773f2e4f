"""kNN estimators with samples that share points (issue 14: kl_divergence(x, x) was -0.51).

A point of x with an exact copy in y is the same observation: it is excluded from its own
neighbours in y as it is in x, and sees m - 1 points of y. Oracles: brute-force distance
matrices with that exclusion written out here, and the identities KL(x, x) = 0,
H(x, x) = H(x).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special

from kullback import estimate


def test_kl_of_a_sample_with_itself_is_exactly_zero():
    x = np.random.default_rng(0).normal(size=(400, 2))
    assert estimate.kl_divergence(x, x) == 0.0
    assert estimate.kl_divergence(x, x, metric="chebyshev", k=1) == 0.0
    assert estimate.cross_entropy(x, x) == pytest.approx(estimate.entropy(x), abs=1e-12)
    # linked jitter: a shared point gets the same noise in both samples, so it stays shared
    assert estimate.kl_divergence(x, x, jitter=True, random_state=1) == 0.0


def test_sample_contained_in_the_other():
    # y = x plus fresh points of the same distribution: the truth is KL = 0; without the
    # exclusion every nu_k would be a (k-1)-th neighbour and the estimate far below 0
    rng = np.random.default_rng(4)
    x = rng.normal(size=3000)
    y = np.concatenate([x, rng.normal(size=3000)])
    assert abs(estimate.kl_divergence(x, y)) < 0.05
    e = estimate.kl_divergence(x, y, ci=0.95, random_state=0)
    assert e.low <= e.value <= e.high


def test_partial_overlap_matches_brute_force():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(50, 2))
    y = np.concatenate([x[:20], rng.normal(0.3, 1.2, size=(30, 2))])
    k, n, m, d = 3, 50, 50, 2
    dxx = np.linalg.norm(x[:, None] - x[None], axis=-1)
    np.fill_diagonal(dxx, np.inf)
    rho = np.sort(dxx, axis=1)[:, k - 1]
    dxy = np.linalg.norm(x[:, None] - y[None], axis=-1)
    shared = np.arange(n) < 20
    dxy[np.arange(20), np.arange(20)] = np.inf  # x_i is y_i for the first 20
    nu = np.sort(dxy, axis=1)[:, k - 1]
    m_i = np.where(shared, m - 1, m)
    want = np.mean(d * np.log(nu / rho) + np.log(m_i / (n - 1)))
    assert estimate.kl_divergence(x, y, k=k) == pytest.approx(want, abs=1e-12)
    logv = math.log(math.pi)  # unit disc
    psi = scipy.special.digamma
    want_h = np.mean(psi(m_i + 1) - psi(k) + logv + d * np.log(nu))
    assert estimate.cross_entropy(x, y, k=k) == pytest.approx(want_h, abs=1e-12)


def test_a_point_repeated_in_y_still_raises():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 1.0, 5.0, 6.0, 7.0])
    with pytest.raises(ValueError, match=r"x, y: 1 point\(s\) of x coincide with two or more"):
        estimate.kl_divergence(x, y, k=2)


def test_shared_points_need_k_plus_one_points_in_y():
    with pytest.raises(ValueError, match=r"x, y: 1 point.*also occur in y.*k \+ 1 = 3"):
        estimate.kl_divergence(np.arange(6.0), np.array([2.0, 9.5]), k=2)


def test_deprecated_method_name_kl_still_works():
    x = np.random.default_rng(2).normal(size=300)
    with pytest.warns(DeprecationWarning, match="method='kl' is deprecated; use method='knn'"):
        e = estimate.entropy(x, method="kl", ci=0.9, random_state=0)
    assert e.method == "knn"
    assert e == estimate.entropy(x, method="knn", ci=0.9, random_state=0)
    # the warning points at the caller's line, whichever function was called
    with pytest.warns(DeprecationWarning) as record:
        estimate.kl_divergence(x, x + 1.0, method="kl")
    assert record[0].filename == __file__
