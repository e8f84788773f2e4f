"""Exact quantile edges by radix selection equal order statistics of the sorted column."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from kullback.drift import _quantiles
from kullback.drift._counting import ColumnPlan, merge_all, scan_batch
from kullback.drift._quantiles import RadixSelect, sort_select, target_ranks


def _select(x, bins, batch=997, first_width=20):
    batches = [pa.record_batch({"x": x[i:i + batch]}) for i in range(0, len(x), batch)]
    sel = RadixSelect(target_ranks(int(np.isfinite(x).sum() + np.isinf(x).sum()), bins),
                      first_width=first_width)
    passes = 0
    while (step := sel.step()) is not None:
        plans = {"x": ColumnPlan(numeric=True, radix=step)}
        sel.update(merge_all((scan_batch(b, plans) for b in batches), plans)["x"].radix)
        passes += 1
    values = sel.values()
    # the counts at or below each edge (the reference's bin counts) come with the selection
    assert sel.at_or_below().tolist() == [int((x <= v).sum()) for v in values]
    # and the in-memory path (one sort) finds the same numbers
    ranks = [t.rank + t.below for t in sel.targets]
    in_memory, le = sort_select(x[~np.isnan(x)], ranks)
    assert in_memory.tolist() == values.tolist() and le.tolist() == sel.at_or_below().tolist()
    return values, passes


def _order_statistics(x, bins):
    """Edge k: the ceil(k n / B)-th smallest value (1-based), straight from the definition."""
    v = sorted(float(a) for a in x if not math.isnan(a))
    n = len(v)
    return [v[math.ceil(k * n / bins) - 1] for k in range(1, bins)]


RNG = np.random.default_rng(5)
DATA = {
    "normal": RNG.normal(size=20_000),
    "ties": RNG.integers(0, 4, size=5_000).astype(float),
    "signed zeros and infinities": np.array([-0.0, 0.0, -np.inf, np.inf, 1.0, -1.0] * 50),
    "narrow": 1.0 + RNG.random(30_000) * 1e-12,   # keys share their top 40 bits
    "with nan": np.where(RNG.random(3_000) < 0.2, np.nan, RNG.exponential(size=3_000)),
    "tiny": np.array([3.0, 1.0, 2.0]),
}


@pytest.mark.parametrize("name", list(DATA))
@pytest.mark.parametrize(("bins", "first_width"), [(2, 20), (10, 20), (10, 16)])
def test_edges_are_the_exact_order_statistics(name, bins, first_width):
    x = DATA[name]
    got, _ = _select(x, bins, first_width=first_width)
    assert got.tolist() == _order_statistics(x, bins)


def test_deep_refinement_when_buckets_are_never_small(monkeypatch):
    monkeypatch.setattr(_quantiles, "_COLLECT", 0)  # never collect: resolve all 64 bits
    x = DATA["narrow"]
    got, passes = _select(x, 4)
    assert got.tolist() == _order_statistics(x, 4)
    assert passes == 4


def test_target_ranks_by_the_definition():
    assert target_ranks(1000, 10) == [99 + 100 * k for k in range(9)]
    assert target_ranks(7, 3) == [2, 4]          # ceil(7/3) - 1, ceil(14/3) - 1
    assert target_ranks(0, 10) == []
