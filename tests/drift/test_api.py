"""``kullback.drift.drift`` end to end: counts, edges and scores checked independently."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from helpers import assert_close, oracle

import kullback
from kullback.drift import DriftInputError, DriftReport, drift

N_REF, N_CUR = 3000, 2000


def _tables():
    rng = np.random.default_rng(42)
    ref = pd.DataFrame({
        "x": rng.normal(size=N_REF),
        "level": rng.integers(0, 5, N_REF),
        "color": rng.choice(["red", "green", "blue"], N_REF, p=[0.5, 0.3, 0.2]),
        "flag": rng.random(N_REF) < 0.3,
        "amount": rng.exponential(10.0, N_REF),
    })
    cur = pd.DataFrame({
        "x": rng.normal(0.4, 1.2, N_CUR),
        "level": rng.integers(0, 5, N_CUR),
        "color": rng.choice(["red", "green", "blue", "violet"], N_CUR, p=[0.4, 0.3, 0.2, 0.1]),
        "flag": rng.random(N_CUR) < 0.3,
        "amount": rng.exponential(12.0, N_CUR),
    })
    ref.loc[rng.random(N_REF) < 0.05, "amount"] = np.nan
    cur.loc[rng.random(N_CUR) < 0.10, "amount"] = np.nan
    return ref, cur


REF, CUR = _tables()


@pytest.fixture(scope="module")
def report() -> DriftReport:
    return drift(REF, CUR)


def _quantile_edges(x, bins):
    v = np.sort(x[~np.isnan(x)])
    return sorted({float(v[math.ceil(k * len(v) / bins) - 1]) for k in range(1, bins)})


def _independent_counts(name, column):
    """Counts from pandas (cut / value_counts), not from drift's counting code."""
    r, c = REF[name], CUR[name]
    if column.kind == "numeric":
        edges = [-np.inf, *_quantile_edges(r.to_numpy(), 10), np.inf]
        rc = pd.cut(r, edges, right=True).value_counts(sort=False).tolist()
        cc = pd.cut(c, edges, right=True).value_counts(sort=False).tolist()
    else:
        cats = sorted(set(r.dropna()) | set(c.dropna()))
        rc = [int((r == k).sum()) for k in cats]
        cc = [int((c == k).sum()) for k in cats]
    if r.isna().any() or c.isna().any():
        rc, cc = [*rc, int(r.isna().sum())], [*cc, int(c.isna().sum())]
    return rc, cc


@pytest.mark.parametrize("name", list(REF.columns))
def test_counts_and_every_score_match_independent_values(report, name):
    col = report[name]
    rc, cc = _independent_counts(name, col)
    assert col.reference.tolist() == rc and col.current.tolist() == cc
    assert col.n_reference == N_REF and col.n_current == N_CUR
    assert_close(col.kl_ref_cur, oracle("kl_divergence", rc, cc), rtol=1e-12)
    assert_close(col.kl_cur_ref, oracle("kl_divergence", cc, rc), rtol=1e-12)
    assert_close(col.js, oracle("js_divergence", rc, cc), rtol=1e-12)
    assert_close(col.js_distance, oracle("js_distance", rc, cc), rtol=1e-12)
    assert col.psi == col.kl_ref_cur + col.kl_cur_ref          # PSI identity
    if math.isfinite(col.psi):
        assert_close(math.fsum(col.contributions["psi"]), col.psi, rtol=1e-12)
        assert_close(math.fsum(col.contributions["kl"]), col.kl_ref_cur, rtol=1e-11)


def test_kinds_bins_from_reference_quantiles_and_missing(report):
    assert {c.name: c.kind for c in report.columns} == {
        "x": "numeric", "amount": "numeric", "level": "categorical",   # 5 integer levels
        "color": "categorical", "flag": "categorical"}
    x = report["x"]
    assert list(x.edges) == _quantile_edges(REF["x"].to_numpy(), 10)
    assert x.reference.tolist() == [N_REF // 10] * 10               # equal mass in the reference
    assert x.labels[0].startswith("(-inf, ") and x.labels[-1].endswith(", inf)")
    amount = report["amount"]
    assert amount.labels[-1] == "(missing)"
    assert amount.missing_reference == int(REF["amount"].isna().sum())


def test_new_category_infinite_kl_and_psi_finite_js_and_smoothing(report):
    color = report["color"]
    assert color.labels == ["blue", "green", "red", "violet"]
    assert color.kl_cur_ref == math.inf and color.psi == math.inf
    assert 0 < color.js < math.log(2) and math.isfinite(color.kl_ref_cur)
    assert any("violet" in note for note in color.notes)
    smoothed = drift(REF, CUR, columns=["color"], pseudocount=0.5)["color"]
    r, c = color.reference + 0.5, color.current + 0.5
    assert_close(smoothed.psi, oracle("kl_divergence", r, c) + oracle("kl_divergence", c, r),
                 rtol=1e-12)
    assert smoothed.reference.tolist() == color.reference.tolist()   # raw counts reported


def test_identical_tables_give_zero_everywhere():
    r = drift(REF, REF.copy(), ci=0.9, random_state=0)
    for col in r.columns:
        assert col.psi == col.kl_ref_cur == col.kl_cur_ref == col.js == col.js_distance == 0
        assert col.p_value == 1.0 and col.js_ci.low == 0.0


def test_sorted_by_js_and_report_exports(report):
    js = [c.js for c in report.columns]
    assert js == sorted(js, reverse=True)
    text = str(report)
    assert text.splitlines()[0].split()[:3] == ["column", "kind", "PSI"]
    assert "violet" in text and "rows: reference 3,000, current 2,000" in text
    d = report.to_dict()
    json.dumps(d, allow_nan=False)                      # JSON-ready: no NaN/Infinity tokens
    color = next(c for c in d["columns"] if c["column"] == "color")
    assert color["psi"] == "inf" and color["bins"][-1]["label"] == "violet"
    df = report.to_pandas()
    assert list(df.index) == [c.name for c in report.columns]
    assert df.loc["x", "psi"] == report["x"].psi


def test_base_bits_divides_by_ln2(report):
    bits = drift(REF, CUR, columns=["x"], base="bits")
    assert bits.unit == "bits"
    assert_close(bits["x"].js, report["x"].js / math.log(2), rtol=1e-14)


def test_explicit_edges_and_per_column_bins():
    r = drift(REF, CUR, columns=["x", "amount"], bins={"x": [-1.0, 0.0, 1.0], "amount": 4})
    x = r["x"]
    assert x.edges == (-1.0, 0.0, 1.0)
    assert x.current.tolist() == [int(v) for v in np.histogram(
        CUR["x"], [-np.inf, -1, 0, 1, np.inf])[0]]   # no value sits exactly on an edge
    assert len(r["amount"].edges) == 3


def test_ci_intervals_and_p_values():
    r = drift(REF, CUR, columns=["x", "level"], ci=0.95, random_state=1)
    x, level = r["x"], r["level"]
    assert x.p_value == 1 / 1001                        # a clear shift
    assert x.js_ci.low <= x.js <= x.js_ci.high and x.psi_ci.confidence == 0.95
    assert level.p_value > 0.01                         # same distribution on both sides
    again = drift(REF, CUR, columns=["x", "level"], ci=0.95, random_state=1)
    assert again.to_dict() == r.to_dict()


def test_all_null_column_is_reported():
    ref = pd.DataFrame({"a": [np.nan] * 5, "b": [1.0, 2.0, 3.0, 4.0, 5.0]})
    cur = pd.DataFrame({"a": [1.0, np.nan, 2.0], "b": [1.0, 2.0, 3.0]})
    a = drift(ref, cur)["a"]
    assert a.labels == ["(-inf, inf)", "(missing)"]
    assert a.reference.tolist() == [0, 5] and a.current.tolist() == [2, 1]
    assert a.kl_cur_ref == math.inf and any("all 5 reference values are missing" in n
                                            for n in a.notes)


# --------------------------------------------------------------------------- input kinds


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("drift")
    paths = {}
    for role, df in (("ref", REF), ("cur", CUR)):
        paths[role, "parquet"] = d / f"{role}.parquet"
        df.to_parquet(paths[role, "parquet"], row_group_size=700)
        paths[role, "csv"] = d / f"{role}.csv"
        df.to_csv(paths[role, "csv"], index=False, float_format="%.17g")
    return paths


@pytest.mark.parametrize("kind", ["polars", "pyarrow", "parquet", "csv"])
def test_every_input_kind_gives_the_pandas_report(report, files, kind):
    convert = {
        "polars": lambda df, role: pl.from_pandas(df),
        "pyarrow": lambda df, role: pa.Table.from_pandas(df, preserve_index=False),
        "parquet": lambda df, role: files[role, "parquet"],
        "csv": lambda df, role: str(files[role, "csv"]),
    }[kind]
    got = drift(convert(REF, "ref"), convert(CUR, "cur"))
    assert got.to_dict() == report.to_dict()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"columns": ["x", "nope"]}, "column 'nope' is not in the reference table"),
    ({"bins": 0}, "bins for 'x' must be at least 1"),
    ({"bins": [1.0, 0.5]}, "strictly increasing"),
    ({"pseudocount": -1}, "pseudocount must be a finite number >= 0"),
    ({"ci": 95}, "ci must be a coverage between 0 and 1"),
    ({"categorical": ["zzz"]}, "categorical names 'zzz'"),
])
def test_bad_options_are_named(kwargs, message):
    with pytest.raises(DriftInputError, match=message):
        drift(REF, CUR, **kwargs)


def test_columns_on_one_side_are_listed_and_no_common_column_is_an_error():
    r = drift(REF.assign(only_ref=1), CUR.assign(only_cur="a"), columns=None)
    assert r.only_in_reference == ["only_ref"] and r.only_in_current == ["only_cur"]
    assert "only in the current table (not compared): only_cur" in str(r)
    with pytest.raises(DriftInputError, match="no column in common"):
        drift(REF[["x"]], CUR[["color"]])


def test_mixed_types_are_refused_with_the_column_name():
    mixed = pd.DataFrame({"m": pd.Series(["a", 1, 2.5], dtype=object)})
    with pytest.raises(DriftInputError, match="column 'm' of the reference table mixes types"):
        drift(mixed, mixed)
    with pytest.raises(DriftInputError, match="column 'x' mixes types: floating-point in the "
                       "reference table, text in the current one"):
        drift(REF[["x"]], CUR[["x"]].astype(str))


def test_empty_tables_and_unreadable_files(tmp_path):
    with pytest.raises(DriftInputError, match=r"the current table .* has no rows"):
        drift(REF, CUR.iloc[:0])
    with pytest.raises(DriftInputError, match="does not exist"):
        drift(tmp_path / "nope.parquet", CUR)
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(DriftInputError, match="cannot read the reference file"):
        drift(bad, CUR)
    with pytest.raises(DriftInputError, match="is not one of"):
        drift(tmp_path / "x.xlsx", CUR)
    with pytest.raises(DriftInputError, match="pass a pandas, polars or Dask DataFrame"):
        drift([1, 2, 3], CUR)


def test_unsupported_type_is_named():
    ts = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3)})
    with pytest.raises(DriftInputError, match=r"column 't' .* has type timestamp"):
        drift(ts, ts)


def test_malformed_csv_rows_are_skipped_and_reported(tmp_path):
    ref = tmp_path / "ref.csv"
    ref.write_text("a,b\n1,x\n2,y\n3,z,EXTRA\n4,x\n")
    cur = tmp_path / "cur.csv"
    cur.write_text("a,b\n1,x\n2,y\n")
    r = drift(ref, cur, columns=["b"])
    assert r.rows["reference"] == 3
    assert len(r.unplaced["reference"]) == 1 and "EXTRA" in r.unplaced["reference"][0][1]
    assert "1 reference rows could not be read" in str(r)


def test_csv_value_of_another_type_later_in_the_file_is_refused(tmp_path, monkeypatch):
    from kullback.drift import _sources

    monkeypatch.setattr(_sources, "_CSV_BLOCK", 64)   # infer the type from the first block
    path = tmp_path / "t.csv"
    path.write_text("n\n" + "1\n" * 40 + "oops\n")
    with pytest.raises(DriftInputError, match=r"the reference file .*t\.csv.*oops"):
        drift(path, path)


def test_plot_writes_one_figure_atomically(tmp_path):
    small = drift(REF[["color", "x"]], CUR[["color", "x"]])
    out = small.plot(tmp_path / "fig" / "drift.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out.parent.iterdir()] == ["drift.png"]   # no temporary left over


def test_importing_kullback_drift_stays_light():
    import subprocess
    import sys

    code = ("import sys, kullback, kullback.drift; "
            "print(sorted(m for m in ('pandas', 'pyarrow', 'dask', 'matplotlib', 'polars') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_the_subpackage_is_callable_as_the_function():
    import kullback.drift as module

    assert module.drift is drift
    assert kullback.drift(REF[["flag"]], CUR[["flag"]]).to_dict() == \
        drift(REF[["flag"]], CUR[["flag"]]).to_dict()


def test_progress_bar_goes_to_stderr(files, capsys):
    drift(files["ref", "parquet"], files["cur", "parquet"], columns=["x"], progress=True)
    err = capsys.readouterr().err
    assert "reference: counting" in err and "current: counting" in err


def test_dictionary_and_nullable_columns_from_pandas_and_polars():
    ref = pd.DataFrame({"cat": pd.Categorical(["a", "b", "a", None]),
                        "flag": pd.array([True, False, None, True], dtype="boolean"),
                        "n": pd.array([1, 2, None, 4], dtype="Int64")})
    cur = ref.iloc[[0, 1, 1, 3, 2]].reset_index(drop=True)
    r = drift(ref, cur)
    for name, labels in [("cat", ["a", "b", "(missing)"]), ("flag", ["False", "True", "(missing)"]),
                         ("n", ["1", "2", "4", "(missing)"])]:
        assert r[name].labels == labels
    assert r["cat"].reference.tolist() == [2, 1, 1] and r["cat"].current.tolist() == [2, 2, 1]
    # polars categoricals arrive as dictionaries with unsigned indices
    assert drift(pl.from_pandas(ref), pl.from_pandas(cur)).to_dict() == r.to_dict()
