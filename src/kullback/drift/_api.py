"""``kullback.drift.drift``: the passes over both tables, and the report they add up to.

1. The reference is counted once: every category of the categorical columns, and the top
   20 bits of the sort key of every number of the numeric ones (with the level count of
   integer columns, which decides "an integer column with few levels").
2. Exact quantile edges of the numeric columns: by sorting each column of an in-memory
   table, by radix selection for streamed ones (files, Dask): usually one or two more passes
   over the reference's numeric columns (:mod:`kullback.drift._quantiles`).
3. The selection also yields how many reference values lie at or below each edge: the
   reference's bin counts, without another pass. The current table is counted once,
   categories and bins.
4. Each column's two count vectors are scored through the core (:mod:`kullback.drift._scores`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kullback.drift._counting import ColumnPlan, ColumnState
from kullback.drift._quantiles import RadixSelect, sort_select, target_ranks
from kullback.drift._report import ColumnDrift, DriftReport
from kullback.drift._scores import bootstrap, permutation_p_value, scores
from kullback.drift._sources import DriftInputError, Source, open_source
from kullback.units import resolve_unit

__all__ = ["FEW_LEVELS", "MISSING", "drift"]

FEW_LEVELS = 20  # an integer column with at most this many distinct values is categorical
MISSING = "(missing)"

_CLASS_WORDS = {"text": "text", "bool": "boolean", "integer": "integer",
                "float": "floating-point", "null": "all-null"}


# --------------------------------------------------------------------------- column types


def _type_class(t: Any) -> str | None:
    """``text``, ``bool``, ``integer``, ``float`` or ``null`` for a pyarrow type (else None)."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        inner = _type_class(t.value_type)
        return "text" if inner in (None, "null") else inner
    checks = (("text", (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)),
              ("bool", (pa.types.is_boolean,)), ("integer", (pa.types.is_integer,)),
              ("float", (pa.types.is_floating, pa.types.is_decimal)), ("null", (pa.types.is_null,)))
    return next((cls for cls, tests in checks if any(test(t) for test in tests)), None)


def _column_class(name: str, ref: Source, cur: Source) -> str:
    classes = []
    for source in (ref, cur):
        t = source.schema.field(name).type
        cls = _type_class(t)
        if cls is None:
            raise DriftInputError(f"column {name!r} of {source.description} has type {t}, which "
                                  "drift cannot bin; cast it to numbers or text")
        classes.append(cls)
    a, b = classes
    if a == b or b == "null":
        return a
    if a == "null":
        return b
    if {a, b} == {"integer", "float"}:
        return "float"
    raise DriftInputError(f"column {name!r} mixes types: {_CLASS_WORDS[a]} in the reference "
                          f"table, {_CLASS_WORDS[b]} in the current one")


# --------------------------------------------------------------------------- options


def _check_edges(name: str, edges: Any) -> tuple[float, ...]:
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or not len(e) or not np.isfinite(e).all() or (np.diff(e) <= 0).any():
        raise DriftInputError(f"bins for {name!r}: explicit edges must be a non-empty list of "
                              "finite, strictly increasing numbers")
    return tuple(float(v) for v in e)


def _bins_spec(name: str, bins: Any) -> int | tuple[float, ...]:
    spec = bins.get(name, 10) if isinstance(bins, Mapping) else bins
    if isinstance(spec, int | np.integer) and not isinstance(spec, bool):
        if spec < 1:
            raise DriftInputError(f"bins for {name!r} must be at least 1, not {spec}")
        return int(spec)
    if isinstance(spec, Sequence | np.ndarray) and not isinstance(spec, str):
        return _check_edges(name, spec)
    raise DriftInputError(f"bins for {name!r} must be a number of bins or a list of edges, "
                          f"not {spec!r}")


def _check_options(pseudocount: Any, ci: Any) -> float | None:
    if pseudocount is not None and not (isinstance(pseudocount, int | float)
                                        and math.isfinite(pseudocount) and pseudocount >= 0):
        raise DriftInputError(f"pseudocount must be a finite number >= 0, not {pseudocount!r}")
    if ci is not None and not (isinstance(ci, int | float) and 0 < ci < 1):
        raise DriftInputError(f"ci must be a coverage between 0 and 1 (e.g. 0.95), not {ci!r}")
    return float(pseudocount) if pseudocount else None


def _select(ref: Source, cur: Source, columns: Any) -> tuple[list[str], list[str], list[str]]:
    """The columns to compare, and those found on one side only."""
    rn, cn = list(ref.schema.names), list(cur.schema.names)
    if columns is None:
        names = [n for n in rn if n in cn]
        if not names:
            raise DriftInputError(f"the reference and current tables have no column in common "
                                  f"(reference: {', '.join(rn) or 'none'}; current: "
                                  f"{', '.join(cn) or 'none'})")
        return names, [n for n in rn if n not in cn], [n for n in cn if n not in rn]
    names = [columns] if isinstance(columns, str) else [str(c) for c in columns]
    if not names:
        raise DriftInputError("columns is empty: name at least one column")
    for source, have in ((ref, rn), (cur, cn)):
        absent = [n for n in names if n not in have]
        if absent:
            raise DriftInputError(f"column {absent[0]!r} is not in {source.description} "
                                  f"(it has: {', '.join(have)})")
    return names, [], []


# --------------------------------------------------------------------------- the passes


@dataclass
class _Column:
    """What drift knows about one column between the passes."""

    name: str
    cls: str
    categorical: bool
    spec: int | tuple[float, ...]
    edges: tuple[float, ...] | None = None


def _first_plan(col: _Column, ref: Source) -> ColumnPlan:
    if col.categorical:
        return ColumnPlan(categories=True)
    quantiles = isinstance(col.spec, int)
    radix = quantiles and not ref.in_memory
    first = RadixSelect([0], first_width=ref.radix_width).step() if radix else None
    cap = FEW_LEVELS if col.cls == "integer" and quantiles else None
    return ColumnPlan(categories=cap is not None, category_cap=cap, numeric=True, radix=first,
                      edges=None if quantiles else col.spec)


def _decide_kinds(cols: list[_Column], first: dict[str, ColumnState]) -> None:
    for col in cols:
        if col.cls == "integer" and not col.categorical and not first[col.name].overflow:
            col.categorical = isinstance(col.spec, int)


def _exact_edges(ref: Source, cols: list[_Column], first: dict[str, ColumnState]) -> None:
    """Equal-mass edges at the reference's exact quantiles.

    In-memory tables sort each column (:func:`sort_select`); streamed ones run the
    radix selection in passes (:class:`RadixSelect`). Both also count the values at or below
    each edge, which are the reference's bin counts: ``first`` gets them, and the reference
    needs no binning pass. Columns with explicit edges were binned in the first pass already.
    """
    ranks = {}
    for col in cols:
        if isinstance(col.spec, tuple):
            col.edges = col.spec
        else:
            state = first[col.name]
            ranks[col.name] = target_ranks(state.rows - state.missing, col.spec)
    if ref.in_memory:
        selected = {n: sort_select(ref.numeric_values(n), r) for n, r in ranks.items()}
    else:
        selected = _radix_select(ref, ranks, first)
    for col in cols:
        if col.name in selected:
            state = first[col.name]
            col.edges, state.bins = _edges_and_counts(*selected[col.name],
                                                      state.rows - state.missing)


def _radix_select(ref: Source, ranks: dict[str, list[int]], first: dict[str, ColumnState]
                  ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Exact order statistics of streamed columns, one pass over the reference at a time."""
    selects = {}
    for name, r in ranks.items():
        selects[name] = RadixSelect(r, first_width=ref.radix_width)
        selects[name].update(first[name].radix)
    while steps := {n: s for n, s in ((n, s.step()) for n, s in selects.items()) if s}:
        plans = {n: ColumnPlan(numeric=True, radix=step) for n, step in steps.items()}
        counted = ref.count(plans, "quantiles")
        for n in steps:
            selects[n].update(counted[n].radix)
    return {n: (s.values(), s.at_or_below()) for n, s in selects.items()}


def _edges_and_counts(values: np.ndarray, le: np.ndarray,
                      n: int) -> tuple[tuple[float, ...], np.ndarray]:
    """Distinct edges (not +inf) and the counts of the bins between them."""
    keep = values < math.inf  # an edge at +inf would leave the last bin always empty
    edges, first = np.unique(values[keep], return_index=True)
    return tuple(float(e) for e in edges), np.diff(np.concatenate([[0], le[keep][first], [n]]))


def _final_plan(col: _Column) -> ColumnPlan:
    if col.categorical:
        return ColumnPlan(categories=True)
    return ColumnPlan(numeric=True, edges=col.edges)


def _rows(source: Source, state: dict[str, ColumnState]) -> int:
    rows = next(iter(state.values())).rows
    if rows == 0:
        raise DriftInputError(f"{source.description} has no rows")
    return rows


# --------------------------------------------------------------------------- assembling


def _sorted_categories(values: set[Any]) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def _interval_labels(edges: tuple[float, ...]) -> list[str]:
    """``(-inf, e0]``, ``(e0, e1]``, ..., ``(e_last, inf)``."""
    bounds = ["-inf", *(f"{e:.6g}" for e in edges), "inf"]
    return [f"({lo}, {hi}{')' if hi == 'inf' else ']'}"
            for lo, hi in itertools.pairwise(bounds)]


def _counts(col: _Column, ref: ColumnState, cur: ColumnState
            ) -> tuple[list[str], np.ndarray, np.ndarray]:
    if col.categorical:
        cats = _sorted_categories(set(ref.categories) | set(cur.categories))
        labels = [str(c) for c in cats]
        r = np.array([ref.categories.get(c, 0) for c in cats], dtype=np.int64)
        c = np.array([cur.categories.get(c, 0) for c in cats], dtype=np.int64)
    else:
        labels, r, c = _interval_labels(col.edges), ref.bins, cur.bins
    if ref.missing or cur.missing:
        labels = [*labels, MISSING]
        r, c = np.append(r, ref.missing), np.append(c, cur.missing)
    return labels, np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64)


def _notes(col: _Column, labels: list[str], r: np.ndarray, c: np.ndarray,
           pseudocount: float | None) -> list[str]:
    notes = []
    for role, counts, missing in (("reference", r, r[-1] if labels[-1] == MISSING else 0),
                                  ("current", c, c[-1] if labels[-1] == MISSING else 0)):
        if missing == counts.sum():
            notes.append(f"all {int(missing):,} {role} values are missing")
    if not col.categorical and isinstance(col.spec, int) and len(col.edges) + 1 < col.spec:
        notes.append(f"{len(col.edges) + 1} bins instead of {col.spec}: the reference has too "
                     "few distinct values (ties)")
    new = [labels[i] for i in np.flatnonzero((r == 0) & (c > 0))]
    gone = [labels[i] for i in np.flatnonzero((c == 0) & (r > 0))]
    for labels_, side, kl in ((new, "current", "KL(cur‖ref)"), (gone, "reference", "KL(ref‖cur)")):
        if labels_ and not pseudocount:
            what = "bin/category" if len(labels_) == 1 else "bins/categories"
            notes.append(f"{len(labels_)} {what} only in {side} ({', '.join(labels_[:5])}): "
                         f"{kl} and PSI are +inf (pseudocount= smooths)")
    return notes


def _column_drift(col: _Column, ref: ColumnState, cur: ColumnState, *, pseudocount, base,
                  unit, ci, rng) -> ColumnDrift:
    labels, r, c = _counts(col, ref, cur)
    if r.sum() != ref.rows or c.sum() != cur.rows:  # pragma: no cover - a counting bug
        raise RuntimeError(f"column {col.name!r}: counted {r.sum()}/{ref.rows} and "
                           f"{c.sum()}/{cur.rows} rows")
    s = scores(r, c, pseudocount=pseudocount, base=base)
    extra: dict[str, Any] = {}
    if ci is not None:
        js_ci, psi_ci = bootstrap(r, c, s, ci=ci, pseudocount=pseudocount, base=base,
                                  unit=unit.name, rng=rng)
        p = permutation_p_value(r, c, s.js, pseudocount=pseudocount, base=base, rng=rng)
        extra = {"js_ci": js_ci, "psi_ci": psi_ci, "p_value": p}
    return ColumnDrift(
        name=col.name, kind="categorical" if col.categorical else "numeric", labels=labels,
        edges=None if col.categorical else col.edges, reference=r, current=c,
        kl_ref_cur=s.kl_ref_cur, kl_cur_ref=s.kl_cur_ref, js=s.js, js_distance=s.js_distance,
        psi=s.psi, contributions=s.terms, missing_reference=ref.missing,
        missing_current=cur.missing, notes=_notes(col, labels, r, c, pseudocount), **extra,
    )


# --------------------------------------------------------------------------- the function


def drift(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[str] | str | None = None,
    bins: int | Sequence[float] | Mapping[str, Any] = 10,
    categorical: Sequence[str] | str | None = None,
    pseudocount: float | None = None,
    base: Any = None,
    ci: float | None = None,
    random_state: Any = None,
    progress: bool = False,
) -> DriftReport:
    """Compare every column's distribution between a reference and a current table.

    Parameters
    ----------
    reference, current : DataFrame, pyarrow.Table, str or path
        pandas, polars or Dask DataFrames, pyarrow Tables, or paths to ``.parquet``/``.pq``/
        ``.csv``/``.tsv`` files (streamed in batches: memory is bounded by the bins and
        categories, not by the rows).
    columns : list of str, optional
        The columns to compare; by default every column the two tables share (the others are
        listed in the report). A named column missing on either side is an error.
    bins : int, list of float or dict, optional
        Numeric columns: the number of equal-mass bins at the reference's exact quantiles
        (default 10; ties can merge bins), or explicit inner edges; a dict maps column names
        to either. Outer bins are open to -inf and +inf.
    categorical : list of str, optional
        Columns to treat as categories whatever their type. Text and boolean columns, and
        integer columns with at most 20 distinct values in the reference, are categorical
        anyway.
    pseudocount : float, optional
        Added to every bin and category on both sides before normalising (0.5: Jeffreys).
        Without it an outcome seen on one side only gives an infinite KL and PSI.
    base : None, float or str, optional
        Logarithm base or unit: nats (default), ``"bits"``, ``"bans"`` or a number.
    ci : float, optional
        E.g. 0.95: bootstrap intervals of JS and PSI and a permutation p-value per column.
    random_state : int or numpy.random.Generator, optional
        Seeds the resampling.
    progress : bool, optional
        Show a tqdm progress bar on stderr while reading files.

    Returns
    -------
    DriftReport
        One :class:`ColumnDrift` per column, most drifted (JS) first.

    Raises
    ------
    DriftInputError
        (a ``ValueError``) naming the table and column: unreadable file, missing or mixed-type
        column, empty table, bad option.

    Examples
    --------
    >>> import pandas as pd
    >>> from kullback.drift import drift
    >>> ref = pd.DataFrame({"plan": ["free"] * 6 + ["pro"] * 4})
    >>> cur = pd.DataFrame({"plan": ["free"] * 3 + ["pro"] * 5 + ["team"] * 2})
    >>> r = drift(ref, cur, base="bits")
    >>> c = r["plan"]
    >>> c.labels, c.reference.tolist(), c.current.tolist()
    (['free', 'pro', 'team'], [6, 4, 0], [3, 5, 2])
    >>> c.kl_cur_ref, c.psi              # "team" is new: no epsilon hides it
    (inf, inf)
    >>> round(c.js, 4), round(c.kl_ref_cur, 4)
    (0.1408, 0.4712)
    >>> round(drift(ref, cur, pseudocount=0.5)["plan"].psi, 4)
    0.4588
    """
    unit = resolve_unit(base)
    pseudocount = _check_options(pseudocount, ci)
    ref = open_source(reference, "reference", progress=progress)
    cur = open_source(current, "current", progress=progress)
    names, only_ref, only_cur = _select(ref, cur, columns)
    forced = {categorical} if isinstance(categorical, str) else set(categorical or ())
    unknown = sorted(forced - set(names))
    if unknown:
        raise DriftInputError(f"categorical names {unknown[0]!r}, which is not compared "
                              f"(compared: {', '.join(names)})")
    cols = [_Column(n, cls := _column_class(n, ref, cur),
                    categorical=n in forced or cls in ("text", "bool", "null"),
                    spec=_bins_spec(n, bins)) for n in names]
    first = ref.count({c.name: _first_plan(c, ref) for c in cols}, "counting")
    ref_rows = _rows(ref, first)
    _decide_kinds(cols, first)
    numeric = [c for c in cols if not c.categorical]
    _exact_edges(ref, numeric, first)
    counted = cur.count({c.name: _final_plan(c) for c in cols}, "counting")
    cur_rows = _rows(cur, counted)
    rngs = np.random.default_rng(random_state).spawn(len(cols))
    report = [
        _column_drift(c, first[c.name], counted[c.name],
                      pseudocount=pseudocount, base=base, unit=unit, ci=ci, rng=rng)
        for c, rng in zip(cols, rngs, strict=True)
    ]
    report.sort(key=lambda d: -d.js)
    return DriftReport(
        columns=report, unit=unit.name, rows={"reference": ref_rows, "current": cur_rows},
        unplaced={"reference": list(ref.skipped), "current": list(cur.skipped)},
        only_in_reference=only_ref, only_in_current=only_cur, pseudocount=pseudocount,
        confidence=ci,
    )
