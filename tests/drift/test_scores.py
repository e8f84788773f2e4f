"""Scores of one column against values computed independently from the counts (mpmath)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from helpers import assert_close, oracle

from kullback.drift._scores import RESAMPLES, bootstrap, permutation_p_value, scores

CASES = [
    ([30, 50, 20], [25, 45, 30]),
    ([1, 1, 998], [5, 990, 5]),
    ([7, 0, 3], [2, 5, 3]),          # a bin new in current
    ([4, 6, 0], [4, 6, 0]),          # identical, with an empty bin
    ([10**9, 3, 1], [10**9 - 5, 5, 4]),  # huge and nearly identical
]


def _terms(r, c, base=None):
    """Per-bin KL, reverse KL, PSI and JS terms in mpmath at 50 digits."""
    with mpmath.workdps(50):
        P = [mpmath.mpf(v) / sum(map(mpmath.mpf, r)) for v in r]
        Q = [mpmath.mpf(v) / sum(map(mpmath.mpf, c)) for v in c]
        ln = mpmath.log(base) if base else 1

        def plogpq(a, b):
            if a == 0:
                return mpmath.mpf(0)
            return mpmath.inf if b == 0 else a * mpmath.log(a / b)

        out = {"kl": [], "kl_reverse": [], "psi": [], "js": []}
        for a, b in zip(P, Q, strict=True):
            m = (a + b) / 2
            out["kl"].append(float(plogpq(a, b) / ln))
            out["kl_reverse"].append(float(plogpq(b, a) / ln))
            psi = 0 if a == b else (mpmath.inf if 0 in (a, b) else (a - b) * mpmath.log(a / b))
            out["psi"].append(float(psi / ln))
            out["js"].append(float((plogpq(a, m) + plogpq(b, m)) / 2 / ln))
        return out


@pytest.mark.parametrize(("r", "c"), CASES)
@pytest.mark.parametrize("base", [None, 2])
def test_scores_equal_the_mpmath_values_from_the_counts(r, c, base):
    s = scores(np.array(r), np.array(c), pseudocount=None, base=base)
    assert_close(s.kl_ref_cur, oracle("kl_divergence", r, c, base), rtol=1e-12)
    assert_close(s.kl_cur_ref, oracle("kl_divergence", c, r, base), rtol=1e-12)
    assert_close(s.js, oracle("js_divergence", r, c, base), rtol=1e-12)
    assert_close(s.js_distance, oracle("js_distance", r, c, base), rtol=1e-12)
    want = _terms(r, c, base)
    # per-bin terms come from p and q rounded to float64 (relative error 1e-16 each): a term of
    # two nearly equal shares is accurate to ~1e-16 absolutely, not relatively
    for key, values in want.items():
        for got, exp in zip(s.terms[key], values, strict=True):
            assert_close(got, exp, rtol=1e-11, atol=1e-15)
    # PSI is the symmetrised KL: the two sums agree with the per-bin (p - q) log(p/q) terms
    assert_close(s.psi, math.fsum(want["psi"]) if all(map(math.isfinite, want["psi"]))
                 else math.inf, rtol=1e-11)


def test_new_category_gives_infinite_kl_and_psi_but_finite_js():
    s = scores(np.array([5, 5, 0]), np.array([4, 4, 2]), pseudocount=None, base=None)
    assert s.kl_cur_ref == math.inf and s.psi == math.inf
    assert math.isfinite(s.kl_ref_cur)
    assert 0 < s.js < math.log(2)
    assert_close(s.js, oracle("js_divergence", [5, 5, 0], [4, 4, 2]))


def test_pseudocount_is_added_to_every_bin_of_both_sides():
    s = scores(np.array([5, 5, 0]), np.array([4, 4, 2]), pseudocount=0.5, base=None)
    r, c = [5.5, 5.5, 0.5], [4.5, 4.5, 2.5]
    assert_close(s.psi, oracle("kl_divergence", r, c) + oracle("kl_divergence", c, r),
                 rtol=1e-12)
    assert_close(s.kl_cur_ref, oracle("kl_divergence", c, r), rtol=1e-12)


def test_permutation_p_value_extremes():
    rng = np.random.default_rng(1)
    same = np.array([40, 30, 30])
    assert permutation_p_value(same, same, 0.0, pseudocount=None, base=None, rng=rng) == 1.0
    r, c = np.array([900, 100]), np.array([100, 900])
    s = scores(r, c, pseudocount=None, base=None)
    p = permutation_p_value(r, c, s.js, pseudocount=None, base=None, rng=rng)
    assert p == 1 / (1 + RESAMPLES)


def test_permutation_p_value_is_uniform_under_the_null():
    # Under H0 the p-value is (super-)uniform: P(p <= 0.2) ~ 0.2 over 120 tables (sd 0.037).
    rng = np.random.default_rng(7)
    ps = []
    for _ in range(120):
        r = rng.multinomial(200, [0.5, 0.3, 0.2])
        c = rng.multinomial(150, [0.5, 0.3, 0.2])
        s = scores(r, c, pseudocount=None, base=None)
        ps.append(permutation_p_value(r, c, s.js, pseudocount=None, base=None, rng=rng))
    assert 0.09 <= np.mean(np.array(ps) <= 0.2) <= 0.31


def test_bootstrap_interval_is_seeded_and_contains_the_estimate():
    r, c = np.array([300, 500, 200]), np.array([250, 450, 300])
    s = scores(r, c, pseudocount=None, base=None)
    a = bootstrap(r, c, s, ci=0.9, pseudocount=None, base=None, unit="nats",
                  rng=np.random.default_rng(3))
    b = bootstrap(r, c, s, ci=0.9, pseudocount=None, base=None, unit="nats",
                  rng=np.random.default_rng(3))
    assert a == b
    js, psi = a
    assert js.low <= s.js <= js.high and psi.low <= s.psi <= psi.high
    assert js.interval == "bootstrap" and js.confidence == 0.9
    # the delta-method standard error of the plug-in JS (first order, p != q) for comparison
    p, q = r / r.sum(), c / c.sum()
    m = (p + q) / 2
    gp, gq = 0.5 * np.log(p / m), 0.5 * np.log(q / m)
    var = (p @ gp**2 - (p @ gp) ** 2) / r.sum() + (q @ gq**2 - (q @ gq) ** 2) / c.sum()
    assert js.stderr == pytest.approx(math.sqrt(var), rel=0.2)
