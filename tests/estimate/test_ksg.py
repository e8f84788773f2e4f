"""KSG mutual information: brute-force algorithm 1, Gaussian closed forms, independence.

Closed forms: a bivariate normal with correlation rho has I = -1/2 log(1 - rho^2); a joint
normal with covariance S split into blocks Sx, Sy has I = 1/2 log(det Sx det Sy / det S).
Tolerances are stated with the estimator's spread at the sample size used.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special

from kullback import estimate


def brute_ksg(x, y, k):
    """Algorithm 1 of Kraskov et al. (2004) with distance matrices (max-norm, strict counts)."""
    dx = np.abs(x[:, None, :] - x[None, :, :]).max(axis=-1)
    dy = np.abs(y[:, None, :] - y[None, :, :]).max(axis=-1)
    dz = np.maximum(dx, dy)
    np.fill_diagonal(dz, np.inf)
    eps = np.sort(dz, axis=1)[:, k - 1]
    np.fill_diagonal(dx, np.inf)
    np.fill_diagonal(dy, np.inf)
    nx = (dx < eps[:, None]).sum(axis=1)
    ny = (dy < eps[:, None]).sum(axis=1)
    psi = scipy.special.digamma
    n = x.shape[0]
    return psi(k) + psi(n) - np.mean(psi(nx + 1) + psi(ny + 1))


@pytest.mark.parametrize(("dx", "dy", "k"), [(1, 1, 1), (2, 3, 3), (3, 1, 5)])
def test_matches_brute_force(dx, dy, k):
    rng = np.random.default_rng(dx * 10 + dy)
    x = rng.normal(size=(80, dx))
    y = x[:, :1] + rng.normal(size=(80, dy))
    got = estimate.mutual_information(x, y, k=k)
    assert got == pytest.approx(brute_ksg(x, y, k), abs=1e-12)


def test_marginal_ties_are_counted_strictly():
    # x takes 4 values (ties in the marginal), the joint points are distinct: KSG is defined,
    # and the strict inequality of the counts matters (ties sit exactly at eps)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=(60, 1)).astype(float)
    y = x + rng.normal(size=(60, 1))
    got = estimate.mutual_information(x, y, kind="continuous", k=3)
    assert got == pytest.approx(brute_ksg(x, y, 3), abs=1e-12)


@pytest.mark.parametrize("kind", ["continuous", "ties"])
def test_one_dimensional_counts_are_the_trees_comparisons(kind):
    # the 1-D marginal is counted by bisection; it must make exactly the comparison
    # fl(|v_j - v_i|) < eps_i, including radii that equal an actual difference
    from kullback.estimate._ksg import _counts_within_1d

    rng = np.random.default_rng(17)
    n = 300
    v = rng.normal(size=n) if kind == "continuous" else rng.integers(0, 7, size=n) * 0.1
    eps = np.abs(rng.normal(size=n)) * 0.2
    partner = rng.integers(0, n, size=n)
    eps[::2] = np.abs(v[::2] - v[partner[::2]])
    eps[eps == 0] = 0.3
    brute = (np.abs(v[:, None] - v[None, :]) < eps[:, None]).sum(axis=1) - 1
    assert np.array_equal(_counts_within_1d(v, eps), brute)


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_bivariate_gaussian(rho):
    rng = np.random.default_rng(int(rho * 100))
    n = 4000
    x = rng.normal(size=n)
    y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=n)
    truth = -0.5 * math.log(1 - rho**2)
    # KSG at n = 4000: sd ~ 0.01, bias < 0.01 for a Gaussian pair
    assert estimate.mutual_information(x, y) == pytest.approx(truth, abs=0.04)
    assert estimate.mutual_information(x, y, base="bits") == pytest.approx(
        truth / math.log(2), abs=0.06
    )


def test_gaussian_dx2_dy1():
    cov = np.array([[1.0, 0.5, 0.6], [0.5, 2.0, 0.3], [0.6, 0.3, 1.5]])
    truth = 0.5 * math.log(np.linalg.det(cov[:2, :2]) * cov[2, 2] / np.linalg.det(cov))
    rng = np.random.default_rng(12)
    z = rng.multivariate_normal(np.zeros(3), cov, size=4000)
    got = estimate.mutual_information(z[:, :2], z[:, 2])
    assert got == pytest.approx(truth, abs=0.04), truth


def test_independence_is_near_zero():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3000, 2))
    y = rng.exponential(size=3000)
    # KSG is nearly unbiased at independence; sd ~ 0.008 at n = 3000
    assert abs(estimate.mutual_information(x, y)) < 0.03


def test_invariant_to_a_common_affine_map():
    # scaling both variables by one factor (and shifting each) scales every max-norm distance
    # by that factor: the neighbour counts, hence the estimate, are unchanged exactly
    rng = np.random.default_rng(8)
    x = rng.normal(size=500)
    y = x + rng.normal(size=500)
    a = estimate.mutual_information(x, y)
    b = estimate.mutual_information(3.0 * x + 1.0, 3.0 * y - 2.0)
    assert a == pytest.approx(b, abs=1e-12)


def test_interval_is_paired_and_covers():
    # The grouped standard error must split (x_i, y_i) pairs together (splitting x and y apart
    # would estimate the spread of MI near 0 instead). Compare with the spread over repeats.
    rng = np.random.default_rng(21)
    rho, n = 0.8, 600
    truth = -0.5 * math.log(1 - rho**2)
    vals, errs, hits = [], [], 0
    for r in range(30):
        x = rng.normal(size=n)
        y = rho * x + math.sqrt(1 - rho**2) * rng.normal(size=n)
        e = estimate.mutual_information(x, y, ci=0.95, random_state=r)
        assert e.low <= e.value <= e.high and e.stderr >= 0
        assert e.method == "ksg" and e.interval == "grouped"
        vals.append(e.value)
        errs.append(e.stderr)
        hits += e.low < truth < e.high
    # the grouped stderr estimates the sd over repeats within a factor 2 (30 repeats: the
    # sample sd itself is uncertain by ~13 %)
    assert 0.5 < np.mean(errs) / np.std(vals, ddof=1) < 2.0
    assert hits >= 24  # coverage 0.95 would give 28.5 +- 1.2


def test_duplicates_raise_and_jitter_opts_in():
    x = np.array([0.0, 1.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    y = np.array([0.5, 2.0, 2.0, 1.0, 3.0, 7.0, 4.0, 5.0])
    with pytest.raises(ValueError, match=r"x, y: 2 joint point\(s\).*jitter=True"):
        estimate.mutual_information(x, y, k=2)
    a = estimate.mutual_information(x, y, k=2, jitter=True, random_state=0)
    assert math.isfinite(a)
    assert a == estimate.mutual_information(x, y, k=2, jitter=True, random_state=0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: estimate.mutual_information(np.arange(5.0), np.arange(4.0)),
         "x, y: paired samples need the same number of points; x has 5, y has 4"),
        (lambda: estimate.mutual_information(np.arange(3.0), np.arange(3.0) ** 2),
         "x: 3 point.*k \\+ 1 = 4"),
        (lambda: estimate.mutual_information(np.arange(9.0), np.arange(9)),
         "kind: x looks continuous"),
        (lambda: estimate.mutual_information(np.arange(9.0), np.arange(9.0), method="knn"),
         "method: unknown method 'knn' for continuous mutual information; choose one of "
         "'auto', 'ksg'"),
        (lambda: estimate.mutual_information(np.arange(9.0), np.arange(9.0), ci=0.9),
         "ci: too few samples"),
        (lambda: estimate.mutual_information(np.arange(9.0), [0.0, 1, 2, 3, np.nan, 5, 6, 7, 8]),
         "y: 1 NaN/inf"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
