"""``kullback explore``: the command that writes the page (the page itself: test_page.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kullback.cli import main

ROOT = Path(__file__).resolve().parents[2]
KULLBACK = Path(sys.executable).parent / "kullback"


def data_of(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    m = re.search(r'<script type="application/json" id="kb-data">(.*?)</script>', text, re.S)
    return json.loads(m.group(1))


def test_default_page_through_the_real_executable(tmp_path):
    done = subprocess.run([str(KULLBACK), "explore", "-o", "out/explore.html"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out" / "explore.html"
    assert done.stdout.startswith("Wrote out/explore.html (")
    data = data_of(out)
    assert data["start"]["p"] == [0.42, 0.31, 0.27] and data["unit"] == "nats"
    assert [p.name for p in out.parent.iterdir()] == ["explore.html"]


def test_labelled_inputs_become_outcome_names(tmp_path, capsys):
    out = tmp_path / "w.html"
    status = main(["explore", str(ROOT / "examples" / "weather_observed.json"),
                   str(ROOT / "examples" / "weather_forecast.json"), "--base", "bits", "-o", str(out)])
    assert status == 0
    data = data_of(out)
    assert data["unit"] == "bits"
    assert data["start"]["labels"] == ["sunny", "cloudy", "rain", "snow", "fog", "hail"]
    assert data["start"]["p"][0] == 142 / 365 and data["start"]["p"][-1] == 0.0
    assert data["start"]["p_name"] == "weather_observed.json"
    assert data["reference"]["bits"]["kl_qp"] == "inf"


def test_inline_lists_and_stdout(capsys):
    assert main(["explore", "3,1", "1,1", "-o", "-", "--base", "bans"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert '"labels":["1","2"]' in page and '"unit":"bans"' in page


def test_open_uses_the_web_browser(tmp_path, monkeypatch, capsys):
    import webbrowser

    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    out = tmp_path / "e.html"
    assert main(["explore", "-o", str(out), "--open"]) == 0
    assert opened == [out.resolve().as_uri()]
    assert "Opened it in your web browser." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["0.5,0.5"], "error: give both P and Q, or neither (for the textbook pair)"),
        (["--base", "3"], "error: --base: the explorer shows bits, nats or bans; got '3'"),
        (["--base", "bytes"], "error: --base: the explorer shows bits, nats or bans; got 'bytes'"),
        (["-o", "page.txt"], "error: -o: the page is HTML; give a file name ending in .html"),
        (["-o", "."], "error: -o: '.' is a directory; give a file name such as explore.html"),
        (["0.5,-0.5", "1,1"], "error: P has a negative entry at position 2 (-0.5)"),
        (["1,2,3", "1,2"], "error: P and Q have different numbers of outcomes (3 and 2)"),
        (["-", "-"], "error: P and Q cannot both be read from stdin"),
        (["-o", "-", "--open"], "error: --open needs a file"),
    ],
)
def test_bad_input_is_one_line_and_status_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["explore", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_is_an_error(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["explore", "-o", str(tmp_path / "file" / "page.html")]) == 2
    assert capsys.readouterr().err.startswith("error: -o: cannot write")
