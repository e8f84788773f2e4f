"""Counting one batch of a table: the mergeable state of every pass over the data.

A pass over a table applies one :class:`ColumnPlan` per column to every batch (a pyarrow
``RecordBatch``: a slice of a file, a partition of a Dask DataFrame) and adds up the per-batch
:class:`ColumnState` objects with :func:`merge`. Every state is a sum of counts, so batches can
be counted in any order, on any worker, and merged in any tree: streaming equals one-shot.

A plan may ask for, per column:

* the count of every category (``categories``; ``category_cap`` stops collecting once a column
  shows more distinct values than that, which is how "an integer column with few levels" is
  recognised without holding the column);
* one step of the exact radix selection of quantiles (``radix``, see
  :mod:`kullback.drift._quantiles`);
* the counts in fixed bins (``edges``: right-closed bins ``(e[i-1], e[i]]``, outer bins open
  to -inf and +inf, so every number lands in one).

Rows and missing values (null, and NaN in floating columns) are counted on every pass.

Examples
--------
>>> import pyarrow as pa
>>> batch = pa.record_batch({"x": [0.5, None, 2.0, 7.0], "c": ["a", "b", None, "a"]})
>>> plans = {"x": ColumnPlan(numeric=True, edges=(1.0, 5.0)), "c": ColumnPlan(categories=True)}
>>> state = scan_batch(batch, plans)
>>> state["x"].bins.tolist(), state["x"].missing
([1, 1, 1], 1)
>>> sorted(state["c"].categories.items()), state["c"].missing
([('a', 2), ('b', 1)], 1)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ColumnPlan",
    "ColumnState",
    "RadixStep",
    "empty_state",
    "float_keys",
    "float_values",
    "keys_to_floats",
    "merge",
    "merge_all",
    "scan_batch",
]

_SIGN = np.uint64(1 << 63)


@dataclass(frozen=True)
class RadixStep:
    """One pass of the radix selection for one column.

    ``groups`` maps ``(level, prefix)`` (the top ``level`` bits of a sort key fixed so far) to
    ``(width, collect)``: either histogram the next ``width`` bits of the keys in that group, or
    (``collect``) keep the keys themselves (the group is then small).
    """

    groups: tuple[tuple[int, int, int, bool], ...]  # (level, prefix, width, collect)


@dataclass(frozen=True)
class ColumnPlan:
    """What to count in one column on one pass."""

    categories: bool = False
    category_cap: int | None = None
    numeric: bool = False  # count NaN as missing, and feed radix/edges with float64 values
    radix: RadixStep | None = None
    edges: tuple[float, ...] | None = None


@dataclass
class ColumnState:
    """The counts of one column over some batches; :func:`merge` adds two of them."""

    rows: int = 0
    missing: int = 0
    categories: Counter | None = None  # None: not asked for, or more levels than the cap
    overflow: bool = False
    radix: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    bins: np.ndarray | None = None


# --------------------------------------------------------------------------- sort keys


def float_keys(x: np.ndarray) -> np.ndarray:
    """Unsigned 64-bit keys whose order is the order of the (non-NaN) float64 values ``x``.

    ``-0.0`` is mapped to ``0.0`` first, so equal numbers have equal keys.

    >>> float_keys(np.array([-1.0, -0.0, 0.0, 2.5])).argsort().tolist()
    [0, 1, 2, 3]
    """
    bits = (np.asarray(x, dtype=np.float64) + 0.0).view(np.uint64)
    flip = (bits >> np.uint64(63)) * np.uint64(0xFFFFFFFFFFFFFFFF)  # all ones if negative
    return bits ^ (flip | _SIGN)


def keys_to_floats(keys: np.ndarray) -> np.ndarray:
    """The inverse of :func:`float_keys`.

    >>> keys_to_floats(float_keys(np.array([-3.5, 0.0, np.inf]))).tolist()
    [-3.5, 0.0, inf]
    """
    keys = np.asarray(keys, dtype=np.uint64)
    positive = (keys & _SIGN) != 0
    return np.where(positive, keys & ~_SIGN, ~keys).view(np.float64)


# --------------------------------------------------------------------------- one batch


def _plain(arr: Any) -> Any:
    """Chunked to contiguous, string views to strings (pyarrow kernels accept those)."""
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_string_view(arr.type):
        arr = arr.cast(pa.large_string())
    return arr


def float_values(arr: Any) -> np.ndarray:
    """The column as float64 with NaN for null (decimals and integers are converted)."""
    import pyarrow as pa

    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not pa.types.is_float64(arr.type):
        arr = arr.cast(pa.float64())
    return arr.to_numpy(zero_copy_only=False)


def _value_counts(arr: Any) -> tuple[list[Any], np.ndarray]:
    """Distinct non-null values and their counts (dictionary arrays count their indices)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(arr.type):
        idx = pc.fill_null(arr.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False)
        counts = np.bincount(idx + 1, minlength=len(arr.dictionary) + 1)[1:]
        return arr.dictionary.to_pylist(), counts
    vc = pc.value_counts(arr)
    return vc.field("values").to_pylist(), vc.field("counts").to_numpy(zero_copy_only=False)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _count_categories(arr: Any, cap: int | None) -> tuple[Counter | None, bool]:
    values, counts = _value_counts(arr)
    out = Counter({v: int(c) for v, c in zip(values, counts, strict=True)
                   if c and not _is_missing(v)})
    if cap is not None and len(out) > cap:
        return None, True
    return out, False


_LOOKUP_LEVEL = 20  # up to this many fixed bits, find groups with a lookup table


def _group_positions(keys: np.ndarray, level: int, prefixes: np.ndarray
                     ) -> tuple[np.ndarray | None, np.ndarray]:
    """For each key, the index of its group among ``prefixes`` (or None: all in group 0)."""
    if level == 0:
        return None, np.ones(len(keys), dtype=bool)
    top = keys >> np.uint64(64 - level)
    if len(prefixes) == 1:
        return None, top == prefixes[0]
    if level <= _LOOKUP_LEVEL:
        table = np.full(1 << level, -1, dtype=np.int16)
        table[prefixes.astype(np.intp)] = np.arange(len(prefixes), dtype=np.int16)
        pos = table[top.astype(np.intp)]
        return pos, pos >= 0
    pos = np.minimum(np.searchsorted(prefixes, top), len(prefixes) - 1)
    return pos, prefixes[pos] == top


def _radix_scan(step: RadixStep, keys: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    out: dict[tuple[int, int], np.ndarray] = {}
    for level in sorted({g[0] for g in step.groups}):
        groups = sorted((g for g in step.groups if g[0] == level), key=lambda g: g[1])
        prefixes = np.array([g[1] for g in groups], dtype=np.uint64)
        pos, hit = _group_positions(keys, level, prefixes)
        sub = keys if level == 0 else keys[hit]
        pos = None if pos is None else pos[hit]
        for i, (_, prefix, width, collect) in enumerate(groups):
            mine = sub if pos is None else sub[pos == i]
            if collect:
                out[(level, prefix)] = mine
            else:
                shift = np.uint64(64 - level - width)
                digit = (mine >> shift) & np.uint64((1 << width) - 1)
                out[(level, prefix)] = np.bincount(digit.astype(np.intp), minlength=1 << width)
    return out


_FEW_EDGES = 32  # up to this many edges, comparisons beat a binary search per value


def _bin_counts(x: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    """Counts in ``(-inf, e0], (e0, e1], ..., (e_last, +inf)`` of the non-NaN values ``x``."""
    if len(edges) <= _FEW_EDGES:
        idx = np.zeros(len(x), dtype=np.uint8)
        for e in edges:
            idx += x > e
    else:
        idx = np.searchsorted(np.asarray(edges, dtype=np.float64), x, side="left")
    return np.bincount(idx, minlength=len(edges) + 1)


def _scan_column(arr: Any, plan: ColumnPlan) -> ColumnState:
    arr = _plain(arr)
    state = ColumnState(rows=len(arr), missing=arr.null_count)
    if plan.categories:
        state.categories, state.overflow = _count_categories(arr, plan.category_cap)
    if plan.numeric:
        x = float_values(arr)
        nan = np.isnan(x)
        state.missing = int(nan.sum())
        x = x[~nan] if state.missing else x
        if plan.radix is not None:
            state.radix = _radix_scan(plan.radix, float_keys(x))
        if plan.edges is not None:
            state.bins = _bin_counts(x, plan.edges)
    elif plan.categories and _is_floating(arr):
        state.missing = int(np.isnan(float_values(arr)).sum())  # null and NaN
    return state


def _is_floating(arr: Any) -> bool:
    import pyarrow as pa

    return pa.types.is_floating(arr.type)


def scan_batch(batch: Any, plans: Mapping[str, ColumnPlan]) -> dict[str, ColumnState]:
    """Count the columns of one pyarrow batch (or table) as ``plans`` ask."""
    return {name: _scan_column(batch.column(name), plan) for name, plan in plans.items()}


# --------------------------------------------------------------------------- merging


def _merge_radix(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif value.dtype == np.uint64:  # collected keys
            out[key] = np.concatenate([out[key], value])
        else:
            out[key] = out[key] + value
    return out


def _merge_column(a: ColumnState, b: ColumnState) -> ColumnState:
    overflow = a.overflow or b.overflow
    categories = None
    if not overflow and a.categories is not None and b.categories is not None:
        categories = a.categories + b.categories
    return ColumnState(
        rows=a.rows + b.rows,
        missing=a.missing + b.missing,
        categories=categories,
        overflow=overflow,
        radix=_merge_radix(a.radix, b.radix),
        bins=b.bins if a.bins is None else (a.bins if b.bins is None else a.bins + b.bins),
    )


def merge(a: dict[str, ColumnState], b: dict[str, ColumnState]) -> dict[str, ColumnState]:
    """Add two batches' counts, column by column."""
    return {name: _merge_column(a[name], b[name]) for name in a}


def empty_state(plans: Mapping[str, ColumnPlan]) -> dict[str, ColumnState]:
    """The counts of no rows at all: the identity of :func:`merge`."""
    return {name: ColumnState(categories=Counter() if plan.categories else None)
            for name, plan in plans.items()}


def merge_all(states: Iterable[dict[str, ColumnState]],
              plans: Mapping[str, ColumnPlan]) -> dict[str, ColumnState]:
    """The sum of any number of batch counts (the empty state when there are none)."""
    total = empty_state(plans)
    for state in states:
        total = merge(total, state)
    return total
