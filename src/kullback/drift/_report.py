"""The result of :func:`kullback.drift`: one :class:`ColumnDrift` per column, in a report.

``print(report)`` shows one line per column, most drifted first (by JS divergence, which is
always finite), then what could not be compared or placed. ``to_pandas()`` gives the same table
as a DataFrame, ``to_dict()`` everything (bins, counts, per-bin terms) as JSON-ready Python
objects, ``plot(path)`` one figure of small multiples.

In ``to_dict()`` an infinite divergence is written as the string ``"inf"`` (JSON has no
infinity; ``null`` would read as "not computed").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kullback._result import Estimate

__all__ = ["ColumnDrift", "DriftReport"]

_TOP = 3  # contributors shown per column
_MEASURES = ("psi", "kl_ref_cur", "kl_cur_ref", "js", "js_distance")


def _json_number(x: Any) -> Any:
    x = float(x)
    return "inf" if math.isinf(x) else x


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    if x != 0 and abs(x) < 5e-5:
        return f"{x:.1e}"
    return f"{x:.4f}"


@dataclass(frozen=True)
class ColumnDrift:
    """How one column moved between the reference and the current table.

    Attributes
    ----------
    name, kind : str
        The column and ``"numeric"`` (binned at reference quantiles) or ``"categorical"``.
    labels : list of str
        One per bin or category; ``"(missing)"`` for null/NaN when either side has some.
    edges : tuple of float or None
        The inner bin edges of a numeric column: bins ``(-inf, e0], (e0, e1], ..., (e_last,
        +inf)``.
    reference, current : numpy.ndarray
        The counts per bin (integers; the pseudocount is not included).
    kl_ref_cur, kl_cur_ref, js, js_distance, psi : float
        KL(reference‖current), KL(current‖reference), Jensen-Shannon divergence and distance,
        PSI = KL(r‖c) + KL(c‖r); in ``unit``.
    contributions : dict of str to numpy.ndarray
        Per-bin terms ``kl``, ``kl_reverse``, ``psi``, ``js``, summing to the scores.
    missing_reference, missing_current : int
        Null/NaN values on each side (counted in the ``"(missing)"`` bin).
    js_ci, psi_ci : Estimate or None
        Bootstrap intervals (with ``ci=``).
    p_value : float or None
        Permutation p-value of "one distribution" (with ``ci=``).
    notes : list of str
        Anything unusual (a column entirely missing on one side, ...).
    """

    name: str
    kind: str
    labels: list[str]
    edges: tuple[float, ...] | None
    reference: np.ndarray
    current: np.ndarray
    kl_ref_cur: float
    kl_cur_ref: float
    js: float
    js_distance: float
    psi: float
    contributions: dict[str, np.ndarray]
    missing_reference: int = 0
    missing_current: int = 0
    js_ci: Estimate | None = None
    psi_ci: Estimate | None = None
    p_value: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def n_reference(self) -> int:
        """Values in the reference column (missing ones included)."""
        return int(self.reference.sum())

    @property
    def n_current(self) -> int:
        """Values in the current column (missing ones included)."""
        return int(self.current.sum())

    def top(self, k: int = _TOP) -> list[tuple[str, float]]:
        """The ``k`` bins contributing most to PSI, as ``(label, psi term)``."""
        order = np.argsort(-self.contributions["psi"], kind="stable")[:k]
        return [(self.labels[i], float(self.contributions["psi"][i])) for i in order
                if self.contributions["psi"][i] > 0]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: scores, bins with counts and terms, intervals (``inf`` as ``"inf"``)."""
        out: dict[str, Any] = {"column": self.name, "kind": self.kind,
                               "n_reference": self.n_reference, "n_current": self.n_current,
                               "missing_reference": self.missing_reference,
                               "missing_current": self.missing_current}
        out.update({m: _json_number(getattr(self, m)) for m in _MEASURES})
        out["edges"] = None if self.edges is None else [_json_number(e) for e in self.edges]
        out["bins"] = [
            {"label": label, "reference": int(r), "current": int(c),
             **{k: _json_number(v[i]) for k, v in self.contributions.items()}}
            for i, (label, r, c) in enumerate(zip(self.labels, self.reference, self.current,
                                                  strict=True))
        ]
        out["top"] = [label for label, _ in self.top()]
        if self.p_value is not None:
            out["p_value"] = self.p_value
            for name, est in (("js_ci", self.js_ci), ("psi_ci", self.psi_ci)):
                out[name] = {"low": _json_number(est.low), "high": _json_number(est.high),
                             "stderr": _json_number(est.stderr),
                             "confidence": est.confidence}
        out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True)
class DriftReport:
    """Every compared column, most drifted first, and what could not be compared or placed.

    Attributes
    ----------
    columns : list of ColumnDrift
        Sorted by JS divergence, largest first.
    unit : str
        The unit of every score.
    rows : dict
        Rows read from each table: ``{"reference": n, "current": m}``.
    unplaced : dict
        Rows that could not be read, per table, as ``(row number, text)`` (malformed CSV
        lines); every other row is counted in every column.
    only_in_reference, only_in_current : list of str
        Columns present on one side only (not compared).
    pseudocount, confidence : float or None
        The smoothing and the interval coverage used, if any.
    """

    columns: list[ColumnDrift]
    unit: str
    rows: dict[str, int]
    unplaced: dict[str, list[tuple[int | None, str]]]
    only_in_reference: list[str] = field(default_factory=list)
    only_in_current: list[str] = field(default_factory=list)
    pseudocount: float | None = None
    confidence: float | None = None

    def __getitem__(self, name: str) -> ColumnDrift:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"no column {name!r} in this report")

    # ------------------------------------------------------------------ the table

    def _headers(self) -> list[str]:
        head = ["column", "kind", "PSI", "KL(ref‖cur)", "KL(cur‖ref)", "JS", "JS dist"]
        if self.confidence is not None:
            pct = f"{100 * self.confidence:g}%"
            head += [f"JS {pct} CI", f"PSI {pct} CI", "p"]
        return [*head, "top bins (PSI terms)"]

    def _row(self, c: ColumnDrift) -> list[str]:
        row = [c.name, c.kind, *(_fmt(getattr(c, m)) for m in _MEASURES)]
        if self.confidence is not None:
            row += [f"[{_fmt(e.low)}, {_fmt(e.high)}]" for e in (c.js_ci, c.psi_ci)]
            row.append(f"{c.p_value:.3g}")
        row.append(", ".join(f"{label} {_fmt(v)}" for label, v in c.top()) or "-")
        return row

    def _footer(self) -> list[str]:
        lines = [f"unit: {self.unit}; rows: reference {self.rows['reference']:,}, "
                 f"current {self.rows['current']:,}"
                 + (f"; pseudocount {self.pseudocount:g}" if self.pseudocount else "")]
        for role, rows in self.unplaced.items():
            if rows:
                shown = "; ".join(f"row {n}: {t[:40]!r}" for n, t in rows[:3])
                lines.append(f"{len(rows)} {role} rows could not be read and are not "
                             f"counted ({shown})")
        for role, names in (("reference", self.only_in_reference),
                            ("current", self.only_in_current)):
            if names:
                lines.append(f"only in the {role} table (not compared): {', '.join(names)}")
        lines += [f"{c.name}: {note}" for c in self.columns for note in c.notes]
        return lines

    def __str__(self) -> str:
        table = [self._headers(), *(self._row(c) for c in self.columns)]
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        right = {i for i, h in enumerate(table[0]) if i >= 2 and "top" not in h}
        lines = ["  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                           for i, (cell, w) in enumerate(zip(r, widths, strict=True))).rstrip()
                 for r in table]
        return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:], "", *self._footer()])

    def __repr__(self) -> str:
        return str(self)

    # ------------------------------------------------------------------ exports

    def to_pandas(self) -> Any:
        """One row per column (index: column name) with the scores and counts."""
        import pandas as pd

        records = []
        for c in self.columns:
            rec = {"column": c.name, "kind": c.kind, "n_reference": c.n_reference,
                   "n_current": c.n_current, **{m: getattr(c, m) for m in _MEASURES}}
            if c.p_value is not None:
                rec.update(js_low=c.js_ci.low, js_high=c.js_ci.high, psi_low=c.psi_ci.low,
                           psi_high=c.psi_ci.high, p_value=c.p_value)
            rec["top"] = ", ".join(label for label, _ in c.top())
            records.append(rec)
        return pd.DataFrame.from_records(records).set_index("column")

    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as JSON-ready objects (``inf`` written as ``"inf"``)."""
        return {
            "unit": self.unit,
            "pseudocount": self.pseudocount,
            "confidence": self.confidence,
            "rows": dict(self.rows),
            "unplaced": {role: [{"row": n, "text": t} for n, t in rows]
                         for role, rows in self.unplaced.items()},
            "only_in_reference": list(self.only_in_reference),
            "only_in_current": list(self.only_in_current),
            "columns": [c.to_dict() for c in self.columns],
        }

    def plot(self, path: str | Path, *, max_bins: int = 25) -> Path:
        """Save one figure of small multiples (format from the extension); returns the path."""
        from kullback.drift._plot import save_figure

        return save_figure(self, Path(path), max_bins=max_bins)
