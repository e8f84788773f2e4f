"""Fuzzing the command line with malformed files: "exit 0 with the right numbers, or exit 2
with exactly one line" -- never exit 1, a traceback, a hang or a wrong number.

Hypothesis writes CSV, JSON, ``.npy`` and extension-less files from values that are sometimes
valid and sometimes hostile (negative, NaN, inf, 400-digit, empty, non-numeric, subnormal,
duplicated labels, control characters), then sometimes damages the bytes (truncation, a flipped
or inserted byte, a BOM, a NUL). A file made only of valid values must give exit 0 and the
50-digit oracle's entropy of the values written; any other file may give either answer, and
exit 0 must then agree with the oracle on what the reader parsed. ``main`` runs in-process for
speed; a fixed sample also goes through the real executable. Examples are derandomised, so CI
sees the same inputs every run.

Hostile inputs tried per run: ``FILE_EXAMPLES`` files + ``INLINE_EXAMPLES`` inline pairs +
``len(EXECUTABLE_SAMPLE)`` through the executable.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_close, oracle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kullback.cli import _io

# The oracle works at 50 digits: 1 - 5e-300 is 1 there, so a term below ~1e-45 is beyond it.
_ORACLE_ATOL = 1e-45
FILE_EXAMPLES = 200
INLINE_EXAMPLES = 100
_DIR = Path(tempfile.mkdtemp(prefix="kullback-fuzz-"))
_SETTINGS = settings(max_examples=FILE_EXAMPLES, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --------------------------------------------------------------------------- values

_EDGE = [0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 0.1, 1.0, 3.0, 1e300, 1.7976931348623157e308]
valid_number = st.floats(min_value=0.0, max_value=1e300) | st.sampled_from(_EDGE)
_HOSTILE_TEXT = ["-1", "-0.5", "nan", "NaN", "inf", "-inf", "Infinity", "", "abc", "1e400",
                 "9" * 400, "0x10", "--1", "1,5", "\x1b[31m", "\x00", "１", "1e-400", "None"]
_HOSTILE_JSON = ["-1", "NaN", "Infinity", "-Infinity", "null", "true", '"abc"', '"0.5"', "[1]",
                 "{}", "1e400", "9" * 400, "-" + "9" * 5000, "[" * 3000 + "]" * 3000]


@dataclass
class Cell:
    """A cell as written, and its value when it is a valid mass (else None)."""

    text: str
    value: float | None


def _valid_cell(x: float) -> Cell:
    return Cell(repr(x), x)


text_cell = st.one_of(valid_number.map(_valid_cell),
                      st.sampled_from(_HOSTILE_TEXT).map(lambda t: Cell(t, None)))
json_cell = st.one_of(valid_number.map(_valid_cell),
                      st.sampled_from(_HOSTILE_JSON).map(lambda t: Cell(t, None)))
label = st.text(alphabet="abcxyz", min_size=1, max_size=3) | st.text(max_size=4)


def _expected(cells: list[Cell], labels: list[str] | None) -> list[float] | None:
    """The masses when every cell is valid and the labels are plain and unique, else None."""
    values = [c.value for c in cells]
    if any(v is None for v in values):
        return None
    with np.errstate(over="ignore"):
        total = float(np.sum(values))
    if not (0 < total < math.inf):  # a total past the largest float is refused, rightly
        return None
    if labels is not None and (len(set(labels)) != len(labels)
                               or not all(lab.isalpha() and lab.isascii() for lab in labels)):
        return None
    return values  # type: ignore[return-value]


# --------------------------------------------------------------------------- files


@st.composite
def csv_file(draw):
    cells = draw(st.lists(text_cell, min_size=1, max_size=8))
    labels = draw(st.none() | st.lists(label, min_size=len(cells), max_size=len(cells)))
    if labels is None:
        header = draw(st.sampled_from(["", "p\n", "count\n"]))
        body = header + "".join(c.text + "\n" for c in cells)
    else:
        body = "label,p\n" + "".join(f"{lab},{c.text}\n" for lab, c in zip(labels, cells,
                                                                            strict=True))
    return ".csv", body.encode(), _expected(cells, labels)


@st.composite
def json_file(draw):
    cells = draw(st.lists(json_cell, min_size=1, max_size=8))
    if draw(st.booleans()):
        return ".json", ("[" + ", ".join(c.text for c in cells) + "]").encode(), _expected(
            cells, None)
    labels = draw(st.lists(label, min_size=len(cells), max_size=len(cells)))
    body = "{" + ", ".join(f"{json.dumps(lab)}: {c.text}" for lab, c in zip(labels, cells,
                                                                           strict=True)) + "}"
    suffix = draw(st.sampled_from([".json", ""]))
    return suffix, body.encode(), _expected(cells, labels)


_DTYPES = ["<f8", ">f8", "<f4", "<f2", "<i8", "<u1", "<u8", "<c16", "|b1", "<U3"]


@st.composite
def npy_file(draw):
    dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
    n = draw(st.integers(1, 8))
    shape = draw(st.sampled_from([(n,), (n, 1), (1, n), (2, n), ()]))
    values = draw(st.lists(valid_number | st.sampled_from([-1.0, math.nan, math.inf]),
                           min_size=math.prod(shape), max_size=math.prod(shape)))
    with np.errstate(all="ignore"):
        arr = np.array(values).astype(dtype).reshape(shape)
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    expected = None
    if dtype.kind in "iuf" and len(shape) >= 1 and (len(shape) == 1 or 1 in shape):
        as_float = arr.astype(np.float64).reshape(-1).tolist()
        expected = _expected([Cell("", v if math.isfinite(v) and v >= 0 else None)
                              for v in as_float], None)
    return ".npy", buf.getvalue(), expected


@st.composite
def damaged(draw, files):
    """A file, sometimes damaged (then its expected value is unknown: None)."""
    suffix, data, expected = draw(files)
    how = draw(st.sampled_from(["none", "none", "truncate", "flip", "insert", "bom", "nul"]))
    if how == "none" or not data:
        return suffix, data, expected, True
    i = draw(st.integers(0, len(data) - 1))
    if how == "truncate":
        data = data[:i]
    elif how == "flip":
        data = data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1:]
    elif how == "insert":
        data = data[:i] + draw(st.binary(min_size=1, max_size=4)) + data[i:]
    elif how == "bom":
        data = b"\xef\xbb\xbf" + data  # harmless for text: the value must not change
        return suffix, data, expected if suffix != ".npy" else None, suffix != ".npy"
    else:
        data = data[:i] + b"\x00" + data[i:]
    return suffix, data, None, False


def _check(result, path: Path, expected: list[float] | None, must_pass: bool) -> None:
    if result.returncode == 2:
        assert not (must_pass and expected is not None), result.stderr
        result.one_line_error()
        return
    assert result.returncode == 0, (result.returncode, result.stderr)
    assert result.stderr == ""
    got = json.loads(result.stdout)
    values = expected if expected is not None else _io.read_masses(path, "P").values.tolist()
    assert got["outcomes"] == len(values)
    assert_close(got["entropy"], oracle("entropy", values), rtol=1e-12, atol=_ORACLE_ATOL)


@_SETTINGS
@given(damaged(st.one_of(csv_file(), json_file(), npy_file())))
def test_malformed_files(inproc, case):
    suffix, data, expected, must_pass = case
    path = _DIR / f"fuzz{suffix}"
    path.write_bytes(data)
    _check(inproc("entropy", str(path), "--json"), path, expected, must_pass)


# --------------------------------------------------------------------------- inline pairs


inline_cell = st.one_of(valid_number.map(_valid_cell),
                        st.sampled_from(["-1", "nan", "inf", "", "x", "1e400", "9" * 400])
                        .map(lambda t: Cell(t, None)))


@settings(max_examples=INLINE_EXAMPLES, deadline=None, derandomize=True)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.lists(inline_cell, min_size=n, max_size=n), st.lists(inline_cell, min_size=n,
                                                            max_size=n))))
def test_inline_pairs(inproc, pair):
    p, q = pair
    ps, qs = ",".join(c.text for c in p), ",".join(c.text for c in q)
    r = inproc("compare", ps, qs, "--json")
    P, Q = _expected(p, None), _expected(q, None)
    if P is None or Q is None:
        if r.returncode == 2:
            r.one_line_error()
            return
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    P = P or _io.parse_spec(ps, "P").values.tolist()  # what was parsed ("1,": one outcome)
    Q = Q or _io.parse_spec(qs, "Q").values.tolist()
    for key, quantity, a, b in (("kl_pq", "kl_divergence", P, Q), ("kl_qp", "kl_divergence", Q, P),
                                ("js_divergence", "js_divergence", P, Q),
                                ("entropy_q", "entropy", Q, None)):
        want = oracle(quantity, a, b)
        assert (got[key] == "inf") if math.isinf(want) else True, key
        if not math.isinf(want):
            assert_close(got[key], want, rtol=1e-11, atol=_ORACLE_ATOL)


# --------------------------------------------------------------------------- the executable


EXECUTABLE_SAMPLE = [
    (".json", b"[0.5, -" + b"9" * 5000 + b"]"),
    (".json", b'{"a": 1, "a": 2}'),
    (".csv", b"label,p\n\x1b]0;x\x07,1\nb,NaN\n"),
    (".csv", b"\xef\xbb\xbfp\n0.2\n0.3\n0.5\n"),
    (".npy", b"\x93NUMPY\x01\x00\x76\x00{'descr': '<f8', 'fortran_order': False, "
             b"'shape': (99999999999,), }" + b" " * 44 + b"\n"),
    (".npy", b"\x80\x04\x95"),
    (".parquet", b"PAR1garbagePAR1"),
    ("", b"\xff\xfe\x00\x00"),
]


@pytest.mark.parametrize(("suffix", "data"), EXECUTABLE_SAMPLE)
def test_a_sample_through_the_executable(cli, tmp_path, suffix, data):
    path = tmp_path / f"x{suffix}"
    path.write_bytes(data)
    r = cli("entropy", str(path), "--json")
    if data.startswith(b"\xef\xbb\xbfp"):
        assert_close(json.loads(r.stdout)["entropy"], oracle("entropy", [0.2, 0.3, 0.5]))
    else:
        r.one_line_error()
