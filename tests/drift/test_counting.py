"""Per-batch counts: bins, categories and missing values; merging equals counting at once."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from kullback.drift._counting import (
    ColumnPlan,
    float_keys,
    keys_to_floats,
    merge_all,
    scan_batch,
)


def test_bins_are_right_closed_and_open_at_both_ends():
    batch = pa.record_batch({"x": [-np.inf, -5.0, 1.0, 1.5, 2.0, 9.0, np.inf, np.nan, None]})
    state = scan_batch(batch, {"x": ColumnPlan(numeric=True, edges=(1.0, 2.0))})["x"]
    # (-inf, 1] holds -inf, -5, 1; (1, 2] holds 1.5, 2; (2, inf) holds 9, inf
    assert state.bins.tolist() == [3, 2, 2]
    assert state.missing == 2 and state.rows == 9


def test_categories_null_and_nan_are_missing():
    batch = pa.record_batch({"c": ["a", None, "b", "a"], "f": [1.5, np.nan, None, 1.5]})
    plans = {"c": ColumnPlan(categories=True), "f": ColumnPlan(categories=True)}
    state = scan_batch(batch, plans)
    assert dict(state["c"].categories) == {"a": 2, "b": 1} and state["c"].missing == 1
    assert dict(state["f"].categories) == {1.5: 2} and state["f"].missing == 2


def test_dictionary_arrays_count_like_plain_ones():
    plain = pa.array(["x", "y", None, "x", "z"])
    batch = pa.record_batch({"d": plain.dictionary_encode(), "p": plain})
    plans = {"d": ColumnPlan(categories=True), "p": ColumnPlan(categories=True)}
    state = scan_batch(batch, plans)
    assert state["d"].categories == state["p"].categories == {"x": 2, "y": 1, "z": 1}


def test_category_cap_marks_overflow_and_merging_keeps_it():
    plans = {"i": ColumnPlan(categories=True, category_cap=3)}
    few = scan_batch(pa.record_batch({"i": [1, 2, 3]}), plans)
    many = scan_batch(pa.record_batch({"i": [4, 5, 6, 7]}), plans)
    assert not few["i"].overflow and many["i"].overflow
    assert merge_all([few, many], plans)["i"].overflow


def test_merged_batches_equal_one_batch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000)
    plans = {"x": ColumnPlan(numeric=True, edges=(-1.0, 0.0, 1.0))}
    whole = scan_batch(pa.record_batch({"x": x}), plans)["x"]
    parts = merge_all((scan_batch(pa.record_batch({"x": x[i:i + 77]}), plans)
                       for i in range(0, 1000, 77)), plans)["x"]
    assert parts.bins.tolist() == whole.bins.tolist()
    assert whole.bins.tolist() == [int(((x > lo) & (x <= hi)).sum()) for lo, hi in
                                   [(-np.inf, -1), (-1, 0), (0, 1), (1, np.inf)]]


def test_sort_keys_round_trip_and_order():
    x = np.array([-np.inf, -1e300, -1.0, -5e-324, 0.0, 5e-324, 1.0, 1e300, np.inf])
    keys = float_keys(x)
    assert (np.diff(keys.astype(object)) > 0).all()
    assert keys_to_floats(keys).tolist() == x.tolist()
