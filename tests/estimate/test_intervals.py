"""Intervals are never inverted (issue 14): low <= value <= high and stderr >= 0, always."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kullback import estimate
from kullback.estimate._intervals import interval

DISCRETE = ["plugin", "miller_madow", "grassberger", "chao_shen", "james_stein"]


@pytest.mark.parametrize("method", [*DISCRETE, "auto"])
def test_degenerate_sample(method):
    # one outcome seen: Grassberger's value is -1.7e-5, and every resample is the same sample
    e = estimate.entropy(["a"] * 100, method=method, ci=0.95, random_state=0)
    assert e.low <= e.value <= e.high and e.stderr >= 0, e
    assert e.low >= min(e.value, 0.0)  # clipped at 0, never above the value


def test_grassberger_degenerate_value_is_the_formula_inside_its_interval():
    e = estimate.entropy(["a"] * 100, ci=0.95)
    assert e.method == "grassberger" and -2e-5 < e.value < 0
    assert e.low == e.value == e.high  # zero width: the sample shows no variability


def test_nsb_single_outcome():
    e = estimate.entropy(["a"] * 10, method="nsb", alphabet_size=4, ci=0.9)
    assert e.low <= e.value <= e.high and e.stderr > 0


def test_negative_miller_madow_kl_interval_contains_it():
    # P ~ Q: the bias-corrected KL is negative; low is clipped at 0 only below the value
    x = [0, 1, 2, 0, 1, 2, 0, 1, 2, 3]
    e = estimate.kl_divergence(x, x, method="miller_madow", ci=0.95)
    assert e.value < 0
    assert e.low <= e.value <= e.high and e.stderr >= 0


@pytest.mark.parametrize("base", [2, "bans", 1.5])
def test_units_keep_the_order(base):
    x = np.random.default_rng(3).normal(size=400)
    for e in (
        estimate.entropy(x, ci=0.9, random_state=0, base=base),
        estimate.entropy(["a", "b", "b"], ci=0.9, base=base),
        estimate.mutual_information(x, x**3 + x, ci=0.9, random_state=0, base=base),
    ):
        assert e.low <= e.value <= e.high and e.stderr >= 0, e


@pytest.mark.parametrize("base", [0.5, 1, 1e-320, -2])
def test_base_at_most_one_is_refused_naming_it(base):
    calls = [
        lambda: estimate.entropy(["a", "b"], base=base),
        lambda: estimate.entropy(np.arange(9.0), base=base),
        lambda: estimate.kl_divergence([1, 2], [1, 2], base=base),
        lambda: estimate.cross_entropy(np.arange(9.0), np.arange(9.0) + 0.5, base=base),
        lambda: estimate.mutual_information([1, 2], [1, 2], base=base),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=f"base.*got {base!r}"):
            call()


def test_interval_function():
    assert interval(1.0, 0.5, 2.0, nonnegative=True) == (0.0, 2.0)
    assert interval(1.0, 0.5, 2.0, nonnegative=False) == (0.0, 2.0)
    assert interval(-1.0, 0.5, 2.0, nonnegative=False) == (-2.0, 0.0)
    assert interval(-1e-5, 0.0, 2.0, nonnegative=True) == (-1e-5, -1e-5)
    assert interval(math.inf, math.inf, 2.0, nonnegative=True) == (0.0, math.inf)
    assert interval(0.3, math.inf, 2.0, nonnegative=False) == (-math.inf, math.inf)
