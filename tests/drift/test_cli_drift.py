"""``kullback drift`` through the installed executable and through ``main``."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
from helpers import assert_close, oracle

from kullback.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXE = Path(sys.executable).parent / "kullback"
REF, CUR = ROOT / "examples" / "drift_reference.csv", ROOT / "examples" / "drift_current.csv"


def _run(*args, timeout=120):
    return subprocess.run([str(EXE), "drift", *map(str, args)], capture_output=True, text=True,
                          check=False, timeout=timeout)


def test_executable_prints_the_table_and_saves_the_plot(tmp_path):
    r = _run(REF, CUR, "--base", "bits", "--plot", tmp_path / "d.png")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["column", "kind", "PSI"]
    assert lines[2].split()[:3] == ["plan", "categorical", "inf"]   # "enterprise" is new
    assert "unit: bits; rows: reference 2,000, current 1,500" in r.stdout
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"


def test_json_scores_equal_the_oracle_from_the_counts(capsys):
    assert main(["drift", str(REF), str(CUR), "--json", "--columns", "plan,country",
                 "--pseudocount", "0.5"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [c["column"] for c in d["columns"]] == ["plan", "country"]
    plan = d["columns"][0]
    ref = pd.read_csv(REF)["plan"].value_counts()
    cur = pd.read_csv(CUR)["plan"].value_counts()
    labels = [b["label"] for b in plan["bins"]]
    r_counts = [ref.get(k, 0) + 0.5 for k in labels]
    c_counts = [cur.get(k, 0) + 0.5 for k in labels]
    assert_close(plan["psi"], oracle("kl_divergence", r_counts, c_counts)
                 + oracle("kl_divergence", c_counts, r_counts), rtol=1e-12)


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    r = _run(REF, tmp_path / "missing.parquet")   # the real executable once
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ")
    assert "does not exist" in r.stderr
    for args, words in [
        ((REF, CUR, "--columns", "plan,nope"), "column 'nope' is not in"),
        ((REF, CUR, "--bins", "ten"), "--bins"),
        ((REF, CUR, "--base", "1"), "--base"),
    ]:
        assert main(["drift", *map(str, args)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and words in err, err


def test_no_common_column_and_ci_through_main(tmp_path, capsys):
    other = tmp_path / "other.csv"
    other.write_text("z\n1\n2\n")
    assert main(["drift", str(REF), str(other)]) == 2
    assert "no column in common" in capsys.readouterr().err
    assert main(["drift", str(REF), str(CUR), "--columns", "churned", "--ci", "0.9",
                 "--json"]) == 0
    churned = json.loads(capsys.readouterr().out)["columns"][0]
    assert churned["js_ci"]["low"] <= churned["js"] <= churned["js_ci"]["high"]
    assert 0 < churned["p_value"] <= 1 and math.isfinite(churned["psi"])
