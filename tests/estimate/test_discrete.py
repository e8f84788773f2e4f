"""Discrete estimators on counts: plug-in terms through the core, bias corrections as additive
terms, mutual information of contingency tables, huge counts and huge alphabets.

Oracles: ``helpers.oracle`` (mpmath, 50 digits) on exact integer inputs, closed forms written
out with mpmath for pseudocounts over huge alphabets, and hand formulas with scipy's digamma.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import scipy.special
from helpers import assert_close, oracle

from kullback import estimate


def labels_from_counts(counts):
    return np.repeat(np.arange(len(counts)), counts)


def pairs_from_table(table):
    """Paired labels (x_i, y_i) whose contingency table is ``table``."""
    t = np.asarray(table)
    i, j = np.nonzero(t)
    reps = t[i, j]
    return np.repeat(i, reps), np.repeat(j, reps)


TABLE = np.array([[10, 3, 0], [2, 7, 5]])


def _mi_oracle(table):
    """I = KL(p(x, y) || p(x) p(y)) at 50 digits; q from exact integer products."""
    t = np.asarray(table, dtype=np.int64)
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    return oracle("kl_divergence", t.ravel(), np.outer(rows, cols).ravel())


# ------------------------------------------------------------------------ mutual information
def test_plugin_mi_matches_the_oracle():
    x, y = pairs_from_table(TABLE)
    assert_close(estimate.mutual_information(x, y), _mi_oracle(TABLE), rtol=1e-13)
    # label types are independent of each other; base converts
    xs = np.array(["a", "b"])[x]
    assert_close(estimate.mutual_information(xs, y, base=2), _mi_oracle(TABLE) / math.log(2))


def test_plugin_mi_of_a_product_table_is_zero_and_never_negative():
    x, y = pairs_from_table(np.outer([2, 3, 5], [1, 4]))
    got = estimate.mutual_information(x, y)
    assert 0.0 <= got <= 1e-15


def test_plugin_mi_keeps_relative_accuracy_near_independence():
    # MI ~ 8e-11: a difference of entropies (H ~ 1.4) would keep no digit of it
    table = np.array([[20000, 20000], [20000, 20001]])
    x, y = pairs_from_table(table)
    want = _mi_oracle(table)
    assert 1e-11 < want < 1e-10
    assert_close(estimate.mutual_information(x, y), want, rtol=1e-9)


def _grassberger_h(counts):
    c = np.asarray([v for v in np.ravel(counts) if v > 0], dtype=float)
    n = c.sum()
    psi = scipy.special.digamma
    sign = np.where(c % 2 == 0, 1.0, -1.0)
    g = psi(c) + 0.5 * sign * (psi((c + 1) / 2) - psi(c / 2))
    return math.log(n) - (c * g).sum() / n


def test_bias_corrected_mi_hand_formulas():
    x, y = pairs_from_table(TABLE)
    n = TABLE.sum()
    kx, ky, kxy = 2, 3, 5
    want_mm = _mi_oracle(TABLE) + (kx + ky - kxy - 1) / (2 * n)
    got_mm = estimate.mutual_information(x, y, method="miller_madow")
    assert got_mm == pytest.approx(want_mm, abs=1e-14)
    want_g = (_grassberger_h(TABLE.sum(axis=1)) + _grassberger_h(TABLE.sum(axis=0))
              - _grassberger_h(TABLE))
    got_g = estimate.mutual_information(x, y, method="grassberger")
    assert got_g == pytest.approx(want_g, abs=1e-13)


def test_james_stein_mi_is_the_mi_of_the_shrunk_table():
    x, y = pairs_from_table(TABLE)
    n, cells = TABLE.sum(), TABLE.size
    p = TABLE.ravel() / n
    lam = (1 - (p**2).sum()) / ((n - 1) * ((1 / cells - p) ** 2).sum())
    assert 0 < lam < 1
    shrunk = (lam / cells + (1 - lam) * p).reshape(TABLE.shape)
    with mp.workdps(40):
        s = [[mp.mpf(v) for v in row] for row in shrunk]
        rows = [mp.fsum(r) for r in s]
        cols = [mp.fsum(s[i][j] for i in range(2)) for j in range(3)]
        want = float(mp.fsum(s[i][j] * mp.log(s[i][j] / (rows[i] * cols[j]))
                             for i in range(2) for j in range(3)))
    got = estimate.mutual_information(x, y, method="james_stein")
    assert got == pytest.approx(want, rel=1e-12)


def test_mi_delta_interval():
    x, y = pairs_from_table(TABLE)
    t = TABLE / TABLE.sum()
    pxy = np.outer(t.sum(axis=1), t.sum(axis=0))
    nz = t > 0
    g = np.log(t[nz] / pxy[nz])
    mi = (t[nz] * g).sum()
    want = math.sqrt((t[nz] * (g - mi) ** 2).sum() / TABLE.sum())
    e = estimate.mutual_information(x, y, ci=0.95)
    assert e.interval == "delta" and e.method == "plugin"
    assert e.stderr == pytest.approx(want, rel=1e-12)
    assert 0 <= e.low <= e.value <= e.high


@pytest.mark.parametrize("method", ["grassberger", "james_stein"])
def test_mi_bootstrap_interval(method):
    x, y = pairs_from_table(TABLE)
    e = estimate.mutual_information(x, y, method=method, ci=0.9, random_state=1,
                                    n_resamples=200)
    assert e.interval == "bootstrap" and e.low <= e.value <= e.high and e.stderr > 0


def test_mi_discrete_bad_input():
    with pytest.raises(ValueError, match="method: unknown method 'chao_shen' for discrete mutual"):
        estimate.mutual_information([1, 2], [1, 2], method="chao_shen")
    with pytest.raises(ValueError, match="jitter: only applies to continuous"):
        estimate.mutual_information([1, 2], [1, 2], jitter=True)


# ------------------------------------------------------------------------- two samples
def test_plugin_kl_keeps_relative_accuracy_for_near_identical_samples():
    cx, cy = [10000, 10001, 9999], [10001, 10000, 9999]
    x, y = labels_from_counts(cx), labels_from_counts(cy)
    want = oracle("kl_divergence", cx, cy)
    assert 1e-10 < want < 1e-8
    assert_close(estimate.kl_divergence(x, y), want, rtol=1e-9)
    assert estimate.kl_divergence(x, x) == 0.0


def test_miller_madow_kl_is_the_plugin_plus_the_corrections():
    cx, cy = np.array([30, 12, 5, 3]), np.array([20, 25, 10, 5])
    n, m = cx.sum(), cy.sum()
    p, q = cx / n, cy / m
    correction = (p * (1 - q) / (2 * m * q)).sum() + (4 - 1) / (2 * n)
    want = oracle("kl_divergence", cx, cy) - correction
    got = estimate.kl_divergence(labels_from_counts(cx), labels_from_counts(cy),
                                 method="miller_madow")
    assert got == pytest.approx(want, abs=1e-15)
    want_cross = oracle("cross_entropy", cx, cy) - (p * (1 - q) / (2 * m * q)).sum()
    got_cross = estimate.cross_entropy(labels_from_counts(cx), labels_from_counts(cy),
                                       method="miller_madow")
    assert got_cross == pytest.approx(want_cross, abs=1e-15)


# -------------------------------------------------------------------- huge counts (issue 14)
@pytest.mark.parametrize(
    "method", ["plugin", "miller_madow", "grassberger", "chao_shen", "james_stein"]
)
def test_counts_near_the_float64_limit(method):
    assert estimate.entropy(counts=[1e308, 1e308], method=method) == pytest.approx(
        math.log(2), rel=1e-15
    )
    want = oracle("entropy", [1e308, 5e307, 1e307])
    assert estimate.entropy(counts=[1e308, 5e307, 1e307], method=method) == pytest.approx(
        want, rel=1e-14
    )


def test_huge_counts_delta_interval_is_finite():
    e = estimate.entropy(counts=[1e308, 1e308], method="plugin", ci=0.95)
    assert e.value == pytest.approx(math.log(2)) and e.low <= e.value <= e.high
    with pytest.raises(ValueError, match="ci: a bootstrap needs a sample size"):
        estimate.entropy(counts=[1e308, 1e308], method="grassberger", ci=0.95)


# ---------------------------------------------------------------- huge alphabets (issue 14)
K_HUGE = 10**10


def _smoothed_entropy(counts, a, k):
    """Closed form at 40 digits: H of (c + a)/N' on the seen cells and a/N' on k - K_obs."""
    with mp.workdps(40):
        c = [mp.mpf(v) + a for v in counts]
        total = mp.fsum(c) + (k - len(counts)) * mp.mpf(a)
        h = -mp.fsum(v / total * mp.log(v / total) for v in c)
        u = mp.mpf(a) / total
        return float(h - (k - len(counts)) * u * mp.log(u))


def test_pseudocount_over_a_huge_alphabet_is_closed_form():
    got = estimate.entropy(counts=[5, 3, 2], method="plugin", pseudocount=1,
                           alphabet_size=K_HUGE)
    assert got == pytest.approx(_smoothed_entropy([5, 3, 2], 1, K_HUGE), rel=1e-13)
    assert estimate.entropy(counts=[5, 3, 2], method="plugin", pseudocount=1,
                            alphabet_size=1e10) == got  # a whole float is an integer
    with pytest.raises(ValueError, match=r"alphabet_size: expected a positive integer; got 1\.5"):
        estimate.entropy(counts=[5, 3, 2], alphabet_size=1.5)
    # and the bootstrap interval resamples the observed counts only
    e = estimate.entropy(counts=[5, 3, 2], method="plugin", pseudocount=1,
                         alphabet_size=K_HUGE, ci=0.9, random_state=0, n_resamples=50)
    assert e.interval == "bootstrap" and e.low <= e.value <= e.high


def test_two_sample_pseudocount_over_a_huge_alphabet():
    x, y = [0, 1, 1, 2], [0, 0, 1, 3, 3]
    a = 0.5
    with mp.workdps(40):
        cx = [mp.mpf(v) + a for v in (1, 2, 1, 0)]
        cy = [mp.mpf(v) + a for v in (2, 1, 0, 2)]
        extra = K_HUGE - 4
        nx, ny = mp.fsum(cx) + extra * a, mp.fsum(cy) + extra * a
        kl = mp.fsum(u / nx * mp.log((u / nx) / (v / ny)) for u, v in zip(cx, cy, strict=True))
        kl += extra * (a / nx) * mp.log(ny / nx)
        want = float(kl)
    got = estimate.kl_divergence(x, y, pseudocount=a, alphabet_size=K_HUGE)
    assert got == pytest.approx(want, rel=1e-10)
    assert got >= 0


def test_james_stein_over_a_huge_alphabet():
    c, k = np.array([5.0, 3.0, 2.0]), K_HUGE
    n = c.sum()
    p = c / n
    lam = (1 - (p**2).sum()) / ((n - 1) * (((1 / k - p) ** 2).sum() + (k - 3) / k**2))
    with mp.workdps(40):
        shr = [mp.mpf(lam) / k + (1 - mp.mpf(lam)) * mp.mpf(v) for v in p]
        u = mp.mpf(lam) / k
        want = float(-mp.fsum(v * mp.log(v) for v in shr) - (k - 3) * u * mp.log(u))
    got = estimate.entropy(counts=c, method="james_stein", alphabet_size=k)
    assert got == pytest.approx(want, rel=1e-12)


def test_mi_delta_interval_coverage():
    # 300 repeats: if coverage were 0.95 the observed rate has sd 0.013; [0.90, 0.99] is > 3 sd
    # either side and leaves room for the plug-in's bias (K_x - 1)(K_y - 1)/(2N) = 0.001 here
    pxy = np.array([[0.20, 0.05, 0.05], [0.05, 0.20, 0.05], [0.10, 0.10, 0.20]])
    truth = _mi_oracle((pxy * 10**6).round().astype(np.int64))
    rng = np.random.default_rng(31)
    reps, hits = 300, {"plugin": 0, "miller_madow": 0}
    for _ in range(reps):
        cells = rng.choice(9, size=2000, p=pxy.ravel())
        for method in hits:
            e = estimate.mutual_information(cells // 3, cells % 3, method=method, ci=0.95)
            hits[method] += e.low < truth < e.high
    for method, h in hits.items():
        assert 0.90 <= h / reps <= 0.99, (method, h / reps)
