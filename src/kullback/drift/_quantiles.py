r"""Exact quantiles of a column that is never held in memory: radix selection over passes.

The bin edges of a numeric column are order statistics of the reference: for ``B`` equal-mass
bins and ``n`` non-missing values, edge ``k`` (``k = 1 .. B-1``) is the value of rank
:math:`\lceil k n / B \rceil` in sorted order (the smallest ``x`` with
:math:`\#\{v \le x\} \ge k n / B`; NumPy's ``method="inverted_cdf"``).

Every float64 maps to a 64-bit key with the same order (:func:`~._counting.float_keys`). The
first pass histograms the top 20 bits of every key (16 on Dask, where every partition's
histogram travels between processes); the bucket holding each wanted rank is then refined, one
pass at a time, by histogramming its next 16 bits — or, once it holds at most
``2**18`` values, by collecting them and selecting directly. Memory is bounded by the buckets
(about ``2**20`` counters per column), never by the number of rows, and the answer is exact:
the same edges as sorting the whole column. Typical data need two or three passes over the
reference's numeric columns; at most five (64 bits).

Examples
--------
>>> import numpy as np
>>> from kullback.drift._counting import ColumnPlan, merge_all, scan_batch
>>> import pyarrow as pa
>>> x = np.random.default_rng(0).normal(size=10_001)
>>> batches = [pa.record_batch({"x": x[i:i + 1000]}) for i in range(0, len(x), 1000)]
>>> sel = RadixSelect(target_ranks(len(x), 4))
>>> while (step := sel.step()) is not None:
...     plans = {"x": ColumnPlan(numeric=True, radix=step)}
...     sel.update(merge_all((scan_batch(b, plans) for b in batches), plans)["x"].radix)
>>> got = sel.values()
>>> want = np.quantile(x, [0.25, 0.5, 0.75], method="inverted_cdf")
>>> bool((got == want).all())
True
>>> sel.at_or_below().tolist() == [int((x <= v).sum()) for v in got]
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kullback.drift._counting import RadixStep, keys_to_floats

__all__ = ["RadixSelect", "sort_select", "target_ranks"]

_DIGIT = 16  # bits resolved by every pass after the first
_COLLECT = 1 << 18  # a bucket this small is collected and selected directly


def target_ranks(n: int, bins: int) -> list[int]:
    """0-based ranks of the ``bins - 1`` inner edges of ``bins`` equal-mass bins of ``n`` values.

    >>> target_ranks(10, 4)   # ceil(2.5) - 1, ceil(5) - 1, ceil(7.5) - 1
    [2, 4, 7]
    """
    return [-(-k * n // bins) - 1 for k in range(1, bins)] if n else []


def sort_select(x: np.ndarray, ranks: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The order statistics ``ranks`` of an in-memory column, and the count ``<=`` each.

    The same numbers :class:`RadixSelect` finds in passes, by one sort (NumPy's vectorised
    sort beats both a multi-``kth`` ``partition`` and the radix passes on in-memory data).

    >>> sort_select(np.array([3.0, 1.0, 2.0, 2.0, 5.0]), [1, 3])
    (array([2., 3.]), array([3, 4]))
    """
    if not ranks:
        return np.empty(0), np.empty(0, dtype=np.int64)
    s = np.sort(np.asarray(x, dtype=np.float64))
    values = s[ranks] + 0.0  # -0.0 -> 0.0, as the sort keys do
    return values, np.searchsorted(s, values, side="right").astype(np.int64)


@dataclass
class _Target:
    rank: int  # rank within the group (level, prefix)
    level: int = 0  # how many top bits of the key are fixed
    prefix: int = 0  # their value
    count: int = -1  # values in the group; -1 before the first pass
    below: int = 0  # values whose keys sort before the group
    key: int | None = None  # the answer, once known
    at_or_below: int = 0  # then: how many values are <= it (ties included)

    def group(self) -> tuple[int, int]:
        return self.level, self.prefix


class RadixSelect:
    """The exact order statistics ``ranks`` of one column, one pass at a time.

    Call :meth:`step` for the plan of the next pass (``None`` when done), feed the merged
    ``ColumnState.radix`` of that pass to :meth:`update`, and read :meth:`values`.
    """

    def __init__(self, ranks: list[int], *, first_width: int = 20) -> None:
        self.targets = [_Target(rank=r) for r in ranks]
        self.first_width = first_width

    def _width(self, level: int) -> int:
        """Bits the pass at ``level`` resolves (the first pass may take more, or fewer)."""
        return self.first_width if level == 0 else min(_DIGIT, 64 - level)

    def step(self) -> RadixStep | None:
        """The radix groups the next pass must count, or ``None`` when every rank is known."""
        groups = {t.group(): t.count for t in self.targets if t.key is None}
        if not groups:
            return None
        return RadixStep(tuple(
            (level, prefix, self._width(level), 0 <= count <= _COLLECT)
            for (level, prefix), count in sorted(groups.items())
        ))

    def update(self, radix: dict[tuple[int, int], np.ndarray]) -> None:
        """Narrow every pending rank with one pass's histograms or collected keys."""
        collected: dict[tuple[int, int], np.ndarray] = {}
        cumulative: dict[tuple[int, int], np.ndarray] = {}
        for t in self.targets:
            if t.key is not None:
                continue
            counted = radix.get(t.group())
            if counted is None:  # pragma: no cover - a pass that skipped a group
                raise RuntimeError(f"radix pass lost group {t.group()}")
            if counted.dtype == np.uint64:
                keys = collected.setdefault(t.group(), np.sort(counted))
                t.key = int(keys[t.rank])
                t.at_or_below = t.below + int(np.searchsorted(keys, keys[t.rank], "right"))
            else:
                group = t.group()
                if group not in cumulative:
                    cumulative[group] = np.cumsum(counted)
                self._descend(t, counted, cumulative[group])

    def _descend(self, t: _Target, hist: np.ndarray, cum: np.ndarray) -> None:
        width = self._width(t.level)
        digit = int(np.searchsorted(cum, t.rank, side="right"))
        skipped = int(cum[digit - 1]) if digit else 0
        t.rank -= skipped
        t.below += skipped
        t.count = int(hist[digit])
        t.level += width
        t.prefix = (t.prefix << width) | digit
        if t.level == 64:  # every value in the bucket equals the key
            t.key = t.prefix
            t.at_or_below = t.below + t.count

    def values(self) -> np.ndarray:
        """The selected order statistics as float64, in the order of ``ranks``."""
        keys = np.array([t.key for t in self.targets], dtype=np.uint64)
        return keys_to_floats(keys)

    def at_or_below(self) -> np.ndarray:
        """For each selected value, how many values of the column are ``<=`` it.

        These are the reference's counts at the bin edges, so binning the reference needs no
        further pass.
        """
        return np.array([t.at_or_below for t in self.targets], dtype=np.int64)
