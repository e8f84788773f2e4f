"""The top outcomes by |term| and the rest summed, in O(n)."""

from __future__ import annotations

import numpy as np
import pytest

from kullback.plotting._aggregate import aggregate, top_outcomes


def test_top_outcomes_are_the_largest_magnitudes_largest_first():
    terms = np.array([0.1, -5.0, 3.0, np.inf, -0.2, 3.0])
    assert top_outcomes(terms, 4).tolist() == [3, 1, 2, 5]  # ties in input order
    assert top_outcomes(terms, 10).tolist() == [3, 1, 2, 5, 4, 0]


def test_top_outcomes_agree_with_a_full_sort():
    x = np.random.default_rng(3).normal(size=50_000)
    assert top_outcomes(x, 25).tolist() == np.argsort(-np.abs(x), kind="stable")[:25].tolist()


def test_aggregate_keeps_the_sums():
    rng = np.random.default_rng(4)
    t, p = rng.normal(size=1000), rng.random(1000)
    view = aggregate([str(i) for i in range(1000)], {"t": t, "p": p}, "t", 20)
    assert view.others == 980 and len(view.labels) == 21
    assert view.labels[-1] == "the other 980"
    assert view.columns["t"].sum() == pytest.approx(t.sum(), rel=1e-12)
    assert view.columns["p"].sum() == pytest.approx(p.sum(), rel=1e-12)


def test_few_outcomes_are_all_drawn_in_order():
    view = aggregate(["a", "b", "c"], {"t": np.array([1.0, 3.0, 2.0])}, "t", 2)
    assert view.labels == ["a", "b", "c"] and view.others == 0
