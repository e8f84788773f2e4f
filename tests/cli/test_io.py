"""Hostile inputs (issue 14), each through the real ``kullback`` executable with a timeout.

Every bad input ends with exit status 2 and one line ``error: ...`` (never exit 1, a traceback
or a hang); inputs that are fine in disguise (a pipe, a FIFO, a byte-order mark, a huge
count) give the right numbers, checked against the 50-digit oracle or a closed form.
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_close, oracle

DEEP = 100_000
P3 = [0.2, 0.3, 0.5]
H3 = oracle("entropy", P3)


def _npy_claiming(path: Path, shape: tuple[int, ...]) -> str:
    """A .npy header that claims ``shape`` float64 entries, followed by only 64 bytes."""
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape!r}, }}".ljust(117)
    header += "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
                     + bytes(64))
    return str(path)


def _entropy(result) -> float:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)["entropy"]


# --------------------------------------------------------------------------- deep JSON


@pytest.mark.parametrize("shape", ["list", "object"])
@pytest.mark.parametrize("suffix", [".json", ""])
def test_deeply_nested_json_file(cli, tmp_path, shape, suffix):
    text = "[" * DEEP + "]" * DEEP if shape == "list" else '{"a":' * DEEP + "1" + "}" * DEEP
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    assert "nested too deeply" in cli("entropy", str(path)).one_line_error()


def test_deeply_nested_json_inline_and_stdin(cli):
    inline = "[" * 60_000 + "]" * 60_000  # an argument is at most 128 KiB on Linux
    assert "P: inline JSON is nested too deeply" in cli("entropy", inline).one_line_error()
    deep = "[" * DEEP + "]" * DEEP
    assert "Q: stdin is nested too deeply" in cli("compare", "1,1", "-",
                                                  stdin=deep).one_line_error()


@pytest.mark.parametrize("digits", [400, 5000])
def test_json_integer_too_large_for_a_float(cli, tmp_path, digits):
    path = tmp_path / "big.json"
    path.write_text("[1, " + "9" * digits + "]")
    message = cli("entropy", str(path)).one_line_error()
    assert message == "P has a number too large for a 64-bit float at position 2"


def test_json_duplicate_keys_are_refused_like_csv_and_inline(cli, tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{"a": 0.5, "a": 0.25, "b": 0.25}')
    want = "P has the outcome 'a' twice (entries 1 and 2)"
    assert cli("entropy", str(path)).one_line_error() == want
    assert cli("entropy", "a=0.5,a=0.25,b=0.25").one_line_error() == want
    csv = tmp_path / "dup.csv"
    csv.write_text("label,p\na,0.5\na,0.25\nb,0.25\n")
    assert cli("entropy", str(csv)).one_line_error() == want


# --------------------------------------------------------------------------- binary formats


@pytest.mark.parametrize("count", [10**12, 2 * 10**9])
def test_npy_header_claiming_more_than_the_file_holds(cli, tmp_path, count):
    path = _npy_claiming(tmp_path / "claims.npy", (count,))
    message = cli("entropy", path).one_line_error()
    assert f"claims {count:,} entries of float64" in message
    assert "the file holds 64 bytes of data" in message


def test_parquet_uint64_max_is_a_count_like_any_other(cli, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "u64.parquet"
    pq.write_table(pa.table({"n": pa.array([2**64 - 1, 2**63, 1], pa.uint64())}), path)
    got = _entropy(cli("entropy", str(path), "--json"))
    assert_close(got, oracle("entropy", [2.0**64, 2.0**63, 1.0]), rtol=1e-12)


def test_parquet_null_label_is_refused(cli, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"outcome": ["a", None, "c"], "n": [1.0, 2.0, 3.0]}), path)
    message = cli("entropy", str(path)).one_line_error()
    assert "label column 'outcome'" in message and "missing (null) label at row 2" in message


def test_parquet_duplicate_column_names_give_one_line(cli, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "dup.parquet"
    table = pa.Table.from_arrays([pa.array([1.0, 2.0]), pa.array([3.0, 4.0])], names=["a", "a"])
    pq.write_table(table, path)
    for extra in ([], ["--column", "a"]):
        message = cli("entropy", str(path), *extra).one_line_error()
        assert "more than one column named 'a'" in message


# --------------------------------------------------------------------------- devices and pipes


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_endless_devices_stop_at_once(cli, tmp_path, device):
    message = cli("entropy", device, timeout=60).one_line_error()
    assert message.startswith(f"P: {device} is not")
    link = tmp_path / "looks.npy"
    link.symlink_to(device)
    cli("entropy", str(link), timeout=60).one_line_error()


def test_an_endless_pipe_stops_at_the_cap(cli):
    r = subprocess.run(
        ["bash", "-c", f"yes 0.1 | {cli.command[0]} entropy -"],
        env={**os.environ, "KULLBACK_MAX_INPUT_MB": "1"}, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == ("error: P: stdin is larger than 1 MiB, the most kullback reads from one "
                        "input (set KULLBACK_MAX_INPUT_MB to allow more)\n")


def test_process_substitution_is_an_ordinary_input(cli):
    r = subprocess.run(
        ["bash", "-c", f"{cli.command[0]} entropy <(printf '0.2\\n0.3\\n0.5\\n') --json"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert r.returncode == 0, r.stderr
    assert_close(json.loads(r.stdout)["entropy"], H3)


def test_a_named_fifo_with_a_writer(cli, tmp_path):
    fifo = tmp_path / "p.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "w") as f:
            f.write("0.2\n0.3\n0.5\n")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    got = _entropy(cli("entropy", str(fifo), "--json", timeout=60))
    writer.join(timeout=10)
    assert_close(got, H3)


def test_utf8_bom_on_stdin_is_not_a_header(cli):
    bom = b"\xef\xbb\xbf"
    got = _entropy(cli("entropy", "-", "--json", stdin=bom + b"0.2\n0.3\n0.5\n"))
    assert_close(got, H3)  # was 0.6616: the first row taken for a header
    got = _entropy(cli("entropy", "-", "--json", stdin=bom + b'{"a": 0.2, "b": 0.3, "c": 0.5}'))
    assert_close(got, H3)


def test_a_huge_csv_field_is_one_line(cli, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("label,p\n" + "x" * 200_000 + ",1\ny,1\n")
    cli("entropy", str(path)).one_line_error()


# --------------------------------------------------------------------------- scale


def test_a_million_labelled_outcomes_align_by_name(cli, tmp_path):
    n = 1_000_000 if os.environ.get("KULLBACK_SLOW_TESTS") else 100_000
    counts = np.arange(1, n + 1, dtype=np.float64)
    labels = [f"o{i}" for i in range(n)]
    order = np.random.default_rng(0).permutation(n)
    (tmp_path / "p.json").write_text(json.dumps(dict(zip(labels, counts.tolist(),
                                                         strict=True))))
    (tmp_path / "q.json").write_text(json.dumps({labels[i]: counts[i] for i in order}))
    r = cli("compare", str(tmp_path / "p.json"), str(tmp_path / "q.json"), "--json",
            timeout=300)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    # Matched by label, Q is P: every divergence is 0 (a positional match would not be).
    assert got["kl_pq"] == 0.0 and got["kl_qp"] == 0.0 and got["js_divergence"] == 0.0
    total = math.fsum(counts.tolist())
    h = math.log(total) - math.fsum((counts * np.log(counts)).tolist()) / total
    assert_close(got["entropy_p"], h, rtol=1e-12)


def test_plot_of_a_hundred_thousand_outcomes_aggregates(cli, tmp_path):
    n = 100_000
    p = np.ones(n)
    p[7] = 50.0  # outcome 8 stands out
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "q.npy", np.ones(n))
    plot = tmp_path / "many.png"
    r = cli("explain", str(tmp_path / "p.npy"), str(tmp_path / "q.npy"), "--plot", str(plot),
            timeout=300)
    assert r.returncode == 0, r.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "the other 99,960 are summed in one row" in " ".join(r.stdout.split())
    first = next(line for line in r.stdout.splitlines() if line.startswith("8 "))
    total = n - 1 + 50.0
    want = 50 / total * math.log(50 / total * n)  # p log(p/q) of outcome 8, q = 1/n
    assert float(first.split()[4]) == pytest.approx(want, abs=5e-5)
