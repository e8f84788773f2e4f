"""Many outcomes, few bars: the outcomes that contribute most, and the rest summed.

A figure or a table with a million outcomes shows nothing; the ``k`` outcomes with the largest
``|term|`` (infinite ones first) tell where a divergence comes from, and one "the other N"
entry keeps the sums right. The selection is ``O(n)`` (a partition, not a sort), so it is
instant at 1e6 outcomes.

Examples
--------
>>> import numpy as np
>>> from kullback.plotting._aggregate import aggregate, top_outcomes
>>> terms = np.array([0.01, -0.3, np.inf, 0.2, 0.0])
>>> top_outcomes(terms, 3).tolist()
[2, 1, 3]
>>> view = aggregate(["a", "b", "c", "d", "e"], {"t": terms, "p": np.full(5, 0.2)}, "t", 2)
>>> view.labels, view.columns["p"].tolist(), view.others
(['c', 'b', 'the other 3'], [0.2, 0.2, 0.6000000000000001], 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Aggregated", "aggregate", "top_outcomes"]


def top_outcomes(terms: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``|terms|``, largest first (ties in input order)."""
    size = np.abs(np.asarray(terms, dtype=np.float64))
    if k >= size.size:
        return np.argsort(-size, kind="stable")
    cut = np.argpartition(-size, k - 1)[:k]
    cut.sort()  # input order, so that the stable sort below breaks ties by position
    return cut[np.argsort(-size[cut], kind="stable")]


@dataclass(frozen=True)
class Aggregated:
    """Outcomes to draw: ``labels`` and ``columns`` (each the shown entries, then the sum of
    the others when ``others > 0``)."""

    labels: list[str]
    columns: dict[str, np.ndarray]
    others: int


def aggregate(labels: Sequence[str], columns: Mapping[str, np.ndarray], by: str,
              k: int) -> Aggregated:
    """All outcomes when there are at most ``k + 1``, else the top ``k`` by ``|columns[by]|``
    and one entry "the other N" holding the sums of every column over the rest."""
    n = len(labels)
    cols = {key: np.asarray(v, dtype=np.float64) for key, v in columns.items()}
    if n <= k + 1:
        return Aggregated([str(lab) for lab in labels], cols, 0)
    shown = top_outcomes(cols[by], k)
    rest = np.ones(n, dtype=bool)
    rest[shown] = False
    others = n - k
    out = {key: np.append(v[shown], np.sum(v[rest])) for key, v in cols.items()}
    return Aggregated([str(labels[i]) for i in shown] + [f"the other {others:,}"], out, others)
