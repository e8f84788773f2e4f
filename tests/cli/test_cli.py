"""The ``kullback`` command line, run as a user runs it: the installed script in a subprocess.

Expected numbers are computed here from the definitions with ``math`` (closed forms on small
inputs), never taken from the command's own output; the library is a second, separate check.
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import kullback_script

import kullback as kb

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"




KULLBACK = kullback_script()
P3, Q3 = [0.42, 0.31, 0.27], [0.25, 0.5, 0.25]
P3S, Q3S = "0.42,0.31,0.27", "0.25,0.5,0.25"


def run(*args: str, stdin: str | None = None, cwd: Path | None = None):
    return subprocess.run(
        [*KULLBACK, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=120,
        check=False,
    )


def ok(*args: str, **kw) -> str:
    r = run(*args, **kw)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    return r.stdout


def as_json(*args: str, **kw) -> dict:
    return json.loads(ok(*args, "--json", **kw))


def fails(*args: str, **kw) -> str:
    """Run a bad command; check exit 2, nothing on stdout, one ``error:`` line on stderr."""
    r = run(*args, **kw)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# --------------------------------------------------------------------------- closed forms


def _h(p, log=math.log):
    return -sum(x * log(x) for x in p if x > 0)


def _ce(p, q, log=math.log):
    if any(a > 0 and b == 0 for a, b in zip(p, q, strict=True)):
        return math.inf
    return -sum(a * log(b) for a, b in zip(p, q, strict=True) if a > 0)


def _kl(p, q, log=math.log):
    if any(a > 0 and b == 0 for a, b in zip(p, q, strict=True)):
        return math.inf
    return sum(a * (log(a) - log(b)) for a, b in zip(p, q, strict=True) if a > 0)


def _js(p, q, log=math.log):
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]
    return 0.5 * _kl(p, m, log) + 0.5 * _kl(q, m, log)


def _norm(v):
    s = math.fsum(v)
    return [x / s for x in v]


def _expected(p, q, log):
    p, q = _norm(p), _norm(q)
    return {
        "entropy_p": _h(p, log),
        "entropy_q": _h(q, log),
        "cross_entropy_pq": _ce(p, q, log),
        "cross_entropy_qp": _ce(q, p, log),
        "kl_pq": _kl(p, q, log),
        "kl_qp": _kl(q, p, log),
        "js_divergence": _js(p, q, log),
        "js_distance": math.sqrt(_js(p, q, log)),
    }


def _close(got, want, rel=1e-12, abs_=1e-14):
    if math.isinf(want):
        return got == "inf"
    return isinstance(got, float | int) and got == pytest.approx(want, rel=rel, abs=abs_)


LOGS = {
    "nats": (math.log, "nats"),
    "bits": (math.log2, "bits"),
    "bans": (math.log10, "bans"),
    "3": (lambda x: math.log(x) / math.log(3), "log base 3"),
    "2": (math.log2, "bits"),
}


# --------------------------------------------------------------------------- compare


@pytest.mark.parametrize("base", sorted(LOGS))
def test_compare_json_matches_closed_forms_in_every_unit(base):
    log, unit = LOGS[base]
    got = as_json("compare", P3S, Q3S, "--base", base)
    want = _expected(P3, Q3, log)
    assert set(got) == {*want, "unit"}
    assert got["unit"] == unit
    for key, value in want.items():
        assert _close(got[key], value), (key, got[key], value)


def test_compare_json_matches_the_library():
    got = as_json("compare", P3S, Q3S, "--base", "bits")
    lib = {
        "entropy_p": kb.entropy(P3, base=2),
        "entropy_q": kb.entropy(Q3, base=2),
        "cross_entropy_pq": kb.cross_entropy(P3, Q3, base=2),
        "cross_entropy_qp": kb.cross_entropy(Q3, P3, base=2),
        "kl_pq": kb.kl_divergence(P3, Q3, base=2),
        "kl_qp": kb.kl_divergence(Q3, P3, base=2),
        "js_divergence": kb.js_divergence(P3, Q3, base=2),
        "js_distance": kb.js_distance(P3, Q3, base=2),
    }
    for key, value in lib.items():
        assert got[key] == pytest.approx(float(value), rel=1e-14, abs=1e-16), key


def test_bits_and_nats_differ_by_ln2():
    nats = as_json("compare", P3S, Q3S, "--base", "nats")
    bits = as_json("compare", P3S, Q3S, "--base", "bits")
    for key in ("entropy_p", "cross_entropy_pq", "kl_pq", "js_divergence"):
        assert bits[key] == pytest.approx(nats[key] / math.log(2), rel=1e-13)
    # The JS distance is the square root of the divergence in the unit asked for.
    assert bits["js_distance"] ** 2 == pytest.approx(bits["js_divergence"], rel=1e-13)


def test_json_infinity_is_the_string_inf():
    got = as_json("compare", "0.5,0.5", "1,0")
    assert got["kl_pq"] == "inf" and got["cross_entropy_pq"] == "inf"
    assert got["kl_qp"] == pytest.approx(math.log(2), rel=1e-14)  # KL([1,0] ‖ [.5,.5]) = ln 2
    assert got["js_divergence"] == pytest.approx(_js([0.5, 0.5], [1, 0]), rel=1e-13)


def test_compare_table_puts_the_unit_on_every_measure():
    out = ok("compare", P3S, Q3S, "--base", "bits")
    rows = {
        "H(P)": _h(P3, math.log2),
        "H(Q)": _h(Q3, math.log2),
        "H(P,Q)": _ce(P3, Q3, math.log2),
        "H(Q,P)": _ce(Q3, P3, math.log2),
        "KL(P‖Q)": _kl(P3, Q3, math.log2),
        "KL(Q‖P)": _kl(Q3, P3, math.log2),
        "JS(P,Q)": _js(P3, Q3, math.log2),
    }
    lines = out.splitlines()
    for symbol, value in rows.items():
        line = next(ln for ln in lines if ln.startswith(symbol + " "))
        assert "[bits]" in line
        assert f"{value:.4f}" in line, (line, value)
    jsd = next(ln for ln in lines if ln.startswith("JSD(P,Q)"))
    assert "[√bits]" in jsd and f"{math.sqrt(_js(P3, Q3, math.log2)):.4f}" in jsd


def test_compare_table_names_the_outcome_that_makes_kl_infinite():
    out = ok("compare", "sun=1,rain=1", "sun=1,rain=0")
    assert "∞" in out
    assert "KL(P‖Q) is infinite" in out and "rain" in out


def test_precision_sets_the_decimals():
    out = ok("compare", P3S, Q3S, "--base", "bits", "--precision", "2")
    assert f"{_h(P3, math.log2):.2f}" in out and f"{_h(P3, math.log2):.4f}" not in out
    got = as_json("compare", P3S, Q3S, "--precision", "3")
    assert got["kl_pq"] == round(_kl(P3, Q3), 3)


# --------------------------------------------------------------------------- inputs


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def _formats(tmp: Path) -> dict[str, tuple[list[str], str | None]]:
    """The distribution 0.42/0.31/0.27 (as counts 42/31/27 sometimes) in every input form."""
    np.save(tmp / "p.npy", np.array(P3))
    np.save(tmp / "counts.npy", np.array([42, 31, 27], dtype=np.int64))
    np.savez(tmp / "p.npz", p=np.array(P3), other=np.array([1.0, 2.0]))
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"outcome": ["a", "b", "c"], "p": P3, "n": [42, 31, 27]}), tmp / "p.parquet"
    )
    return {
        "inline": ([P3S], None),
        "inline spaces": (["0.42, 0.31, 0.27"], None),
        "inline counts": (["42,31,27"], None),
        "inline labels": (["a=42,b=31,c=27"], None),
        "inline json": (["[0.42, 0.31, 0.27]"], None),
        "csv no header": ([_write(tmp / "a.csv", "0.42\n0.31\n0.27\n")], None),
        "csv header": ([_write(tmp / "b.csv", "prob\n0.42\n0.31\n0.27\n")], None),
        "csv labels": ([_write(tmp / "c.csv", "outcome,count\na,42\nb,31\nc,27\n")], None),
        "csv --column": (
            [_write(tmp / "d.csv", "x,p,q\na,0.42,0.1\nb,0.31,0.2\nc,0.27,0.7\n"),
             "--column", "p"],
            None,
        ),
        "csv one row": ([_write(tmp / "e.csv", "42,31,27\n")], None),
        "tsv": ([_write(tmp / "f.tsv", "a\t42\nb\t31\nc\t27\n")], None),
        "json list": ([_write(tmp / "g.json", "[0.42, 0.31, 0.27]")], None),
        "json object": ([_write(tmp / "h.json", '{"a": 42, "b": 31, "c": 27}')], None),
        "json nested": (
            [_write(tmp / "i.json", '{"p": {"a": 42, "b": 31, "c": 27}, "q": [1, 2]}'),
             "--column", "p"],
            None,
        ),
        "npy": ([str(tmp / "p.npy")], None),
        "npy counts": ([str(tmp / "counts.npy")], None),
        "npz": ([str(tmp / "p.npz"), "--column", "p"], None),
        "parquet": ([str(tmp / "p.parquet"), "--column", "p"], None),
        "parquet counts": ([str(tmp / "p.parquet"), "--column", "n"], None),
        "stdin csv": (["-"], "0.42\n0.31\n0.27\n"),
        "stdin line": (["-"], "42,31,27\n"),
        "stdin json": (["-"], '{"a": 0.42, "b": 0.31, "c": 0.27}'),
    }


@pytest.fixture(scope="module")
def formats(tmp_path_factory):
    return _formats(tmp_path_factory.mktemp("formats"))


FORMAT_NAMES = [
    "inline", "inline spaces", "inline counts", "inline labels", "inline json", "csv no header",
    "csv header", "csv labels", "csv --column", "csv one row", "tsv", "json list",
    "json object", "json nested", "npy", "npy counts", "npz", "parquet", "parquet counts",
    "stdin csv", "stdin line", "stdin json",
]


@pytest.mark.parametrize("label", FORMAT_NAMES)
def test_every_input_format_reads_the_same_distribution(formats, label):
    args, stdin = formats[label]
    got = as_json("entropy", *args, "--base", "bits", stdin=stdin)
    assert got["entropy"] == pytest.approx(_h(P3, math.log2), rel=1e-13)
    assert got["outcomes"] == 3


def test_format_list_is_complete(formats):
    assert sorted(formats) == sorted(FORMAT_NAMES)


def test_stdin_works_as_q(tmp_path):
    got = as_json("compare", P3S, "-", stdin="0.25\n0.5\n0.25\n")
    assert _close(got["kl_pq"], _kl(P3, Q3))


def test_python_dash_m_runs_the_same_command():
    r = subprocess.run(
        [sys.executable, "-m", "kullback", "entropy", "0.5,0.25,0.25", "--base", "bits",
         "--json"],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["entropy"] == 1.5


def test_labels_align_by_name_not_position():
    # Same numbers, listed in a different order: matched by label, KL is 0.
    got = as_json("compare", "a=0.2,b=0.8", '{"b": 0.8, "a": 0.2}')
    assert got["kl_pq"] == 0.0 and got["kl_qp"] == 0.0
    # Positionally the same lists would differ:
    pos = as_json("compare", "0.2,0.8", "0.8,0.2")
    assert _close(pos["kl_pq"], _kl([0.2, 0.8], [0.8, 0.2]))


def test_a_label_missing_on_one_side_has_probability_zero_there():
    # P = {a: .5, b: .5}; Q = {b: .25, a: .25, c: .5}: p(c) = 0.
    got = as_json("compare", '{"a": 1, "b": 1}', "b=0.25,a=0.25,c=0.5")
    assert _close(got["kl_pq"], 0.5 * math.log(2) + 0.5 * math.log(2))  # = ln 2
    assert _close(got["cross_entropy_pq"], -math.log(0.25))
    assert got["kl_qp"] == "inf"  # Q puts 0.5 on c, which P rules out
    assert _close(got["js_divergence"], _js([0.5, 0.5, 0], [0.25, 0.25, 0.5]))


def test_one_labelled_side_names_both_when_lengths_match():
    out = ok("explain", "sun=3,rain=1", "0.5,0.5")
    assert "sun" in out and "rain" in out


def test_counts_are_normalised_and_the_output_says_so():
    got = as_json("compare", "146,110,73", "0.4,0.35,0.25")
    assert _close(got["kl_pq"], _kl(_norm([146, 110, 73]), [0.4, 0.35, 0.25]))
    out = ok("explain", "146,110,73", "0.4,0.35,0.25")
    assert "counts over 3 outcomes (total 329), normalised" in out
    out = ok("entropy", "1.5,0.5")
    assert "normalised" in out


def test_negative_number_first_is_an_input_not_an_option():
    assert fails("entropy", "-0.1,0.5") == "error: P has a negative entry at position 1 (-0.1)"


# --------------------------------------------------------------------------- explain


def test_explain_rows_sums_and_identity():
    p, q = [0.5, 0.25, 0.25], [0.25, 0.25, 0.5]
    out = ok("explain", "x=0.5,y=0.25,z=0.25", "x=0.25,y=0.25,z=0.5", "--base", "bits")
    lines = out.splitlines()
    # One row per outcome, each with p, q, -p log p, p log(p/q), -p log q (bits).
    for label, a, b in zip("xyz", p, q, strict=True):
        row = next(ln for ln in lines if ln.startswith(label + " "))
        cells = row.split()
        want = [a, b, -a * math.log2(a), a * math.log2(a / b), -a * math.log2(b)]
        assert [float(c) for c in cells[1:6]] == pytest.approx(want, abs=5e-5), row
    h, kl, ce = _h(p, math.log2), _kl(p, q, math.log2), _ce(p, q, math.log2)
    assert (h, kl, ce) == pytest.approx((1.5, 0.25, 1.75))
    total = next(ln for ln in lines if ln.startswith("sum "))
    assert total.split()[1:] == ["1.0000", "1.0000", "1.5000", "0.2500", "1.7500"]
    assert "H(P,Q)  =    H(P)  +  KL(P‖Q)" in out
    assert "1.7500  =  1.5000  +   0.2500  bits" in out


def test_explain_json_terms_match_closed_forms():
    got = as_json("explain", "0.5,0.3,0.2", "0.2,0.3,0.5", "--base", "nats")
    p, q = [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]
    assert [row["label"] for row in got["outcomes"]] == ["1", "2", "3"]
    for row, a, b in zip(got["outcomes"], p, q, strict=True):
        assert row["p"] == pytest.approx(a) and row["q"] == pytest.approx(b)
        assert row["minus_p_log_p"] == pytest.approx(-a * math.log(a), rel=1e-13)
        assert row["p_log_p_over_q"] == pytest.approx(a * math.log(a / b), rel=1e-12, abs=1e-16)
        assert row["minus_p_log_q"] == pytest.approx(-a * math.log(b), rel=1e-13)
    assert got["kl_pq"] == pytest.approx(_kl(p, q), rel=1e-13)
    assert got["entropy_p"] + got["kl_pq"] == pytest.approx(got["cross_entropy_pq"], rel=1e-13)
    assert got["infinite_kl_outcomes"] == []


def test_explain_names_outcomes_that_make_kl_infinite():
    out = ok("explain", "sun=0.5,rain=0.3,fog=0.2", "sun=0.6,rain=0.4")
    assert "KL(P‖Q) is infinite: Q gives probability 0 to fog" in out
    row = next(ln for ln in out.splitlines() if ln.startswith("fog "))
    assert "∞" in row
    got = as_json("explain", "sun=0.5,rain=0.3,fog=0.2", "sun=0.6,rain=0.4")
    assert got["infinite_kl_outcomes"] == ["fog"] and got["kl_pq"] == "inf"


def test_explain_zero_probability_adds_nothing():
    out = ok("explain", "a=0.5,b=0.5", "a=0.25,b=0.25,c=0.5")
    row = next(ln for ln in out.splitlines() if ln.startswith("c "))
    assert "0 log 0 = 0" in row
    assert "c is not in P, so p(c) = 0" in out


# --------------------------------------------------------------------------- entropy


def test_entropy_and_perplexity():
    got = as_json("entropy", "0.5,0.25,0.25", "--base", "bits")
    assert got == {"entropy": 1.5, "perplexity": pytest.approx(2**1.5, rel=1e-14),
                   "unit": "bits", "outcomes": 3}
    out = ok("entropy", "1,1,1,1", "--base", "bits")
    assert "2.0000" in out and "4.0000" in out  # H = 2 bits, perplexity 4


# --------------------------------------------------------------------------- errors


def _bad_files(tmp: Path) -> dict[str, str]:
    np.save(tmp / "obj.npy", np.array([{"a": 1}, None], dtype=object))
    (tmp / "pickle.npy").write_bytes(
        __import__("pickle").dumps([0.5, 0.5])
    )
    np.save(tmp / "two_d.npy", np.ones((2, 3)))
    np.save(tmp / "text.npy", np.array(["a", "b"]))
    return {
        "obj": str(tmp / "obj.npy"),
        "pickle": str(tmp / "pickle.npy"),
        "two_d": str(tmp / "two_d.npy"),
        "text": str(tmp / "text.npy"),
        "csv2": _write(tmp / "two.csv", "a,b\n0.5,0.1\n0.5,0.9\n"),
        "csvbad": _write(tmp / "bad.csv", "p\n0.5\nabc\n0.5\n"),
        "badjson": _write(tmp / "bad.json", '{"a": 0.5,'),
        "jsontext": _write(tmp / "t.json", '{"a": 0.5, "b": "lots"}'),
        "jsonnan": _write(tmp / "n.json", "[0.5, NaN]"),
        "dir": str(tmp),
    }


ERRORS = [
    # (args, expected message; {name} is replaced by a path from _bad_files)
    (["compare", "0.5,0.5,0", "0.2,0.7,-0.1"], "Q has a negative entry at position 3 (-0.1)"),
    (["entropy", "0.5,-1"], "P has a negative entry at position 2 (-1)"),
    (["compare", "a=0.5,b=0.5", "a=0.5,b=-0.5"], "Q has a negative entry for outcome 'b' (-0.5)"),
    (["entropy", "0.5,abc,0.5"], "P has a non-numeric entry at position 2 ('abc')"),
    (["compare", "0.5,0.5", "0.5,nan"], "Q has a NaN entry at position 2"),
    (["compare", "0.5,0.5", "inf,1"], "Q has an infinite entry at position 1 (inf)"),
    (["entropy", "0,0,0"], "P is all zeros"),
    (["entropy", ""], "P is empty"),
    (["compare", "0.5,0.5", "0.2,0.3,0.5"], "P and Q have different numbers of outcomes (2 and 3)"),
    (["compare", "a=1,b=1", "0.2,0.3,0.5"], "P and Q have different numbers of outcomes (2 and 3)"),
    (["compare", "0.5,0.5", "missing.csv"], "Q: no such file 'missing.csv'"),
    (["entropy", "nonsense"], "P: 'nonsense' is neither a file nor a comma-separated list"),
    (["entropy", "{dir}"], "is a directory, not a file"),
    (["entropy", "{obj}"], "holds pickled Python objects, which kullback never loads"),
    (["compare", "0.5,0.5", "{pickle}"], "Q: {pickle} holds pickled Python objects"),
    (["entropy", "{two_d}"], "holds an array of shape (2, 3)"),
    (["entropy", "{text}"], "expected real numbers"),
    (["entropy", "{csv2}"], "P: {csv2} has 2 columns of values (a, b); choose one with --column"),
    (["entropy", "{csv2}", "--column", "c"], "P: {csv2} has no column 'c' (columns: a, b)"),
    (["compare", "0.5,0.5", "{csv2}", "--q-column", "z"], "Q: {csv2} has no column 'z'"),
    (["entropy", "{csvbad}"], "P has a non-numeric entry at position 2 ('abc')"),
    (["entropy", "{badjson}"], "P: {badjson} is not valid JSON (line 1"),
    (["compare", "0.5,0.5", "{jsontext}"], "Q has a non-numeric entry for outcome 'b' ('lots')"),
    (["entropy", "{jsonnan}"], "P has a NaN entry at position 2"),
    (["entropy", "a=1,a=2"], "P has the outcome 'a' twice"),
    (["entropy", "0.5,0.5", "--base", "1"], "--base must be a number greater than 1"),
    (["entropy", "0.5,0.5", "--base", "furlongs"], "got 'furlongs'"),
    (["compare", "1,1", "1,1", "--base", "-2"], "--base must be a number greater than 1"),
    (["entropy", "0.5,0.5", "--precision", "many"], "--precision must be a whole number"),
    (["explain", "1,1", "1,1", "--plot", "figure.txt"], "--plot: cannot tell the image format"),
    (["compare", "-", "-"], "P and Q cannot both be read from stdin"),
    (["entropy", "-"], "P: stdin is empty"),
    (["compare", "0.5,0.5"], "the following arguments are required: Q"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "choose a command"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_bad_input_exits_2_with_one_line_naming_it(tmp_path, args, message):
    files = _bad_files(tmp_path)
    args = [a.format(**files) for a in args]
    line = fails(*args, cwd=tmp_path)
    assert message.format(**files) in line, line


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads unreadable files"
)
def test_unreadable_file(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_text("0.5\n0.5\n")
    path.chmod(0)
    try:
        assert "P: cannot read" in fails("entropy", str(path))
    finally:
        path.chmod(0o600)


def test_help_answers_without_heavy_imports():
    code = (
        "import sys, contextlib, io\n"
        "from kullback.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['--help']) == 0\n"
        "    assert main(['compare', '0.5,0.5', '0.4,0.6', '--json']) == 0\n"
        "assert 'explain' in out.getvalue()\n"
        "heavy = [m for m in ('matplotlib', 'pyarrow', 'scipy', 'torch', 'jax', 'dask')\n"
        "         if m in sys.modules]\n"
        "print(heavy)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# --------------------------------------------------------------------------- plot


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_explain_plot_is_a_real_png(tmp_path):
    plot = tmp_path / "figures" / "explain.png"  # the directory is created
    out = ok(
        "explain", str(EXAMPLES / "weather_observed.json"),
        str(EXAMPLES / "weather_forecast.json"), "--base", "bits", "--plot", str(plot),
    )
    assert f"Plot saved to {plot}" in out
    width, height = _png_size(plot)
    assert width >= 1000 and height >= 600
    assert plot.stat().st_size > 30_000  # a drawn figure, not an empty canvas


def test_plot_with_an_infinite_kl(tmp_path):
    plot = tmp_path / "inf.png"
    got = as_json("explain", "0.5,0.3,0.2", "0.6,0.4,0", "--plot", str(plot))
    assert got["kl_pq"] == "inf" and got["plot"] == str(plot)
    _png_size(plot)


def test_weather_example_and_demo(tmp_path):
    observed = json.loads((EXAMPLES / "weather_observed.json").read_text())
    forecast = json.loads((EXAMPLES / "weather_forecast.json").read_text())
    labels = list(observed) + [k for k in forecast if k not in observed]
    p = _norm([observed.get(k, 0) for k in labels])
    q = [forecast.get(k, 0.0) for k in labels]
    got = as_json("compare", str(EXAMPLES / "weather_observed.json"),
                  str(EXAMPLES / "weather_forecast.json"), "--base", "bits")
    assert _close(got["kl_pq"], _kl(p, q, math.log2), rel=1e-12)
    r = subprocess.run([sys.executable, str(EXAMPLES / "demo.py")], capture_output=True,
                       text=True, check=False, timeout=180, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "-> out/explain.png" in r.stdout and "H(P,Q)" in r.stdout
    assert "-> out/drift.png" in r.stdout and "plan" in r.stdout  # the drift report
    assert "-> out/explore.html" in r.stdout
    _png_size(ROOT / "out" / "explain.png")
    _png_size(ROOT / "out" / "drift.png")
    assert (ROOT / "out" / "explore.html").read_text(encoding="utf-8").lower().startswith("<!doctype html")
