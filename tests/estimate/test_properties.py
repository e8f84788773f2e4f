"""Property tests: random counts (up to the float64 limit) and random label samples.

"The oracle's value or a clear error — never NaN, never a negative plug-in KL or MI, never an
inverted interval." Oracle: ``helpers.oracle`` (mpmath, 50 digits) on the exact counts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import assert_close, oracle
from hypothesis import given, settings
from hypothesis import strategies as st

from kullback import estimate

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)
METHODS = ["plugin", "miller_madow", "grassberger", "chao_shen", "james_stein"]

# whole-number counts from 0 to ~1e308: an integer mantissa times a power of ten
count = st.builds(lambda m, e: float(m) * 10.0**e, st.integers(0, 10**6), st.integers(0, 302))
counts = st.lists(count, min_size=1, max_size=12).filter(lambda c: any(v > 0 for v in c))
labels = st.lists(st.integers(0, 5), min_size=1, max_size=40)


def _ordered(e):
    assert e.stderr >= 0 and e.low <= e.value <= e.high, e
    assert not math.isnan(e.value)


@SETTINGS
@given(counts, st.sampled_from(METHODS))
def test_entropy_of_any_counts(c, method):
    got = estimate.entropy(counts=c, method=method)
    assert math.isfinite(got)
    if method == "plugin":
        assert_close(got, oracle("entropy", c), rtol=1e-12, atol=1e-15)
    _ordered(estimate.entropy(counts=c, method="plugin", ci=0.9))


@SETTINGS
@given(labels, labels)
def test_plugin_kl_and_cross_entropy_of_any_labels(x, y):
    values = sorted(set(x) | set(y))
    cx = [x.count(v) for v in values]
    cy = [y.count(v) for v in values]
    kl = estimate.kl_divergence(x, y)
    assert kl >= 0
    assert_close(kl, oracle("kl_divergence", cx, cy), rtol=1e-12, atol=1e-15)
    assert_close(estimate.cross_entropy(x, y), oracle("cross_entropy", cx, cy), rtol=1e-12,
                 atol=1e-15)
    for method in ("plugin", "miller_madow"):
        for fn in (estimate.kl_divergence, estimate.cross_entropy):
            e = fn(x, y, method=method, ci=0.95)
            _ordered(e)
            assert (e.value == math.inf) == (kl == math.inf)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=1, max_size=50))
def test_mutual_information_of_any_pairs(pairs):
    x = [a for a, _ in pairs]
    y = [b for _, b in pairs]
    got = estimate.mutual_information(x, y)
    xs, ys = sorted(set(x)), sorted(set(y))
    joint = [pairs.count((a, b)) for a in xs for b in ys]
    prod = [x.count(a) * y.count(b) for a in xs for b in ys]
    assert got >= 0
    assert_close(got, oracle("kl_divergence", joint, prod), rtol=1e-11, atol=1e-15)
    for method in ("plugin", "miller_madow", "grassberger", "james_stein"):
        _ordered(estimate.mutual_information(x, y, method=method, ci=0.9, n_resamples=20,
                                             random_state=0))


@pytest.mark.parametrize("method", METHODS)
def test_extreme_two_cell_counts(method):
    for c in ([1e308, 1.0], [1.0, 1e308], [1e308, 1e308, 1e308]):
        got = estimate.entropy(counts=c, method=method)
        assert math.isfinite(got) and got >= -1e-12
    assert np.isclose(estimate.entropy(counts=[1e308] * 3, method=method), math.log(3))
