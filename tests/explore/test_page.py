"""The explorer page as Python builds it: self-contained, the right data, clear errors.

The browser tests (test_browser.py) check what the page does; these check what it carries,
without a browser.
"""

from __future__ import annotations

import html
import json
import math
import re
from importlib import resources
from pathlib import Path

import pytest
from helpers import assert_close, oracle

from kullback.explore import PRESETS, ExplorerPage, explore_html

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("entropy_p", "entropy_q", "cross_entropy_pq", "cross_entropy_qp",
        "kl_pq", "kl_qp", "js_divergence", "js_distance")
BASES = {"bits": 2.0, "nats": None, "bans": 10.0}


def page_data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="kb-data">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))


def oracle_values(p, q, unit):
    base = BASES[unit]
    return {
        "entropy_p": oracle("entropy", p, base=base),
        "entropy_q": oracle("entropy", q, base=base),
        "cross_entropy_pq": oracle("cross_entropy", p, q, base=base),
        "cross_entropy_qp": oracle("cross_entropy", q, p, base=base),
        "kl_pq": oracle("kl_divergence", p, q, base=base),
        "kl_qp": oracle("kl_divergence", q, p, base=base),
        "js_divergence": oracle("js_divergence", p, q, base=base),
        "js_distance": oracle("js_distance", p, q, base=base),
    }


def test_default_page_is_the_textbook_pair_in_nats():
    page = explore_html()
    assert isinstance(page, ExplorerPage) and isinstance(page, str)
    data = page_data(page)
    assert data["unit"] == "nats"
    assert data["start"]["labels"] == ["A", "B", "C"]
    assert data["start"]["p"] == [0.42, 0.31, 0.27]
    assert data["start"]["q"] == [0.25, 0.5, 0.25]
    assert data["start"]["key"] == "textbook"


@pytest.mark.parametrize("unit", ["bits", "nats", "bans"])
def test_embedded_library_values_match_the_oracle(unit):
    p, q = [5, 0, 3, 2], [1, 1, 0, 8]  # counts, a zero in each: KL infinite both ways
    data = page_data(explore_html(p, q, base="bits"))
    got = data["reference"][unit]
    want = oracle_values([0.5, 0.0, 0.3, 0.2], [0.1, 0.1, 0.0, 0.8], unit)
    assert set(got) == set(KEYS)
    for key in KEYS:
        if math.isinf(want[key]):
            assert got[key] == "inf", key
        else:
            assert_close(got[key], want[key], rtol=1e-12)


def test_counts_are_normalised_and_labels_kept():
    data = page_data(explore_html([3, 1], [1, 1], labels=["heads", "tails"], base="bits"))
    assert data["unit"] == "bits"
    assert data["start"]["labels"] == ["heads", "tails"]
    assert data["start"]["p"] == [0.75, 0.25] and data["start"]["q"] == [0.5, 0.5]
    assert data["start"]["key"] == "yours"
    assert_close(data["reference"]["bits"]["kl_pq"], 0.75 * math.log2(1.5) + 0.25 * math.log2(0.5))


def test_mappings_are_matched_by_label():
    start = page_data(explore_html({"sun": 3, "rain": 1}, {"rain": 1, "snow": 3}))["start"]
    assert start["labels"] == ["sun", "rain", "snow"]
    assert start["p"] == [0.75, 0.25, 0.0] and start["q"] == [0.0, 0.25, 0.75]
    with pytest.raises(ValueError, match="both as mappings"):
        explore_html({"a": 1}, [1.0])
    with pytest.raises(ValueError, match="labels come from the keys"):
        explore_html({"a": 1}, {"a": 1}, labels=["x"])


def test_unlabelled_outcomes_are_numbered():
    assert page_data(explore_html([1, 2, 3], [3, 2, 1]))["start"]["labels"] == ["1", "2", "3"]


def test_page_is_self_contained():
    page = str(explore_html())
    assert page.startswith("<!doctype html>")
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+stylesheet", page)
    assert not re.search(r"@import|url\(", page)
    assert "default-src 'none'" in page  # the CSP forbids every request
    for token in ("<!--kb:css-->", "<!--kb:js-->", "<!--kb:data-->"):
        assert token not in page


def test_labels_cannot_break_out_of_the_data_script():
    nasty = ["</script><b>x</b>", "<!--", "a\u2028b"]
    page = str(explore_html([1, 1, 1], [1, 2, 3], labels=nasty))
    assert page.count("</script>") == 2  # the data and the code, each closed once
    assert page_data(page)["start"]["labels"] == nasty


def test_repr_html_is_a_sandboxed_iframe_holding_the_page():
    page = explore_html()
    frame = page._repr_html_()
    m = re.fullmatch(r'<iframe srcdoc="([^"]*)" title="kullback explorer" sandbox="allow-scripts".*',
                     frame, re.S)
    assert m is not None
    assert html.unescape(m.group(1)) == str(page)


def test_save_writes_atomically(tmp_path):
    target = tmp_path / "page.html"
    target.write_text("old")
    page = explore_html([1, 3], [3, 1])
    assert page.save(target) == target
    assert target.read_text(encoding="utf-8") == str(page)
    assert [f.name for f in tmp_path.iterdir()] == ["page.html"]  # no temporary file left


def test_save_failure_leaves_nothing(tmp_path):
    with pytest.raises(OSError):
        explore_html().save(tmp_path / "missing-dir" / "page.html")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (([0.5, 0.5], None), {}, "give both p and q, or neither"),
        ((None, None), {"labels": ["a"]}, "give p and q too"),
        (([0.5, 0.5], [1.0]), {}, "different numbers of outcomes (2 and 1)"),
        (([0.5, -0.5], [1, 1]), {}, "p has a negative entry at position 1 (-0.5)"),
        (([1, 1], [0, math.nan]), {}, "q has a NaN entry at position 1"),
        (([0, 0], [1, 1]), {}, "p must have a positive, finite total"),
        (([[1, 1]], [[1, 1]]), {}, "p must be a non-empty 1-D list"),
        (([1, 1], [1, 1]), {"labels": ["a"]}, "labels has 1 names for 2 outcomes"),
        (([1, 1], [1, 1]), {"labels": ["a", "a"]}, "labels has 'a' twice (positions 0 and 1)"),
        (([1, 1], [1, 1]), {"labels": ["a", " "]}, "labels has an empty name at position 1"),
        (([1, 1], [1, 1]), {"base": 3}, "the explorer shows bits, nats or bans; got 3"),
    ],
)
def test_bad_input_is_refused_clearly(args, kwargs, message):
    with pytest.raises(ValueError) as info:
        explore_html(*args, **kwargs)
    assert message in str(info.value)


def test_weather_preset_is_the_bundled_example():
    from kullback.cli._io import align, read_masses

    observed = read_masses(ROOT / "examples" / "weather_observed.json", "P")
    forecast = read_masses(ROOT / "examples" / "weather_forecast.json", "Q")
    p, q, labels = align(observed, forecast)
    weather = next(pr for pr in PRESETS if pr.key == "weather")
    assert weather.labels == labels
    assert list(weather.p) == p.values.tolist()
    assert list(weather.q) == q.values.tolist()


def test_presets_are_listed_with_the_ones_the_issue_asks_for():
    keys = [pr.key for pr in PRESETS]
    assert len(set(keys)) == len(keys)
    assert {"textbook", "die", "weather", "identical"} <= set(keys)
    die = next(pr for pr in PRESETS if pr.key == "die")
    assert len(set(die.p)) == 1 and len(die.p) == 6  # the fair die is uniform


def test_page_sources_are_package_data():
    files = resources.files("kullback.explore")
    for name in ("page.html", "explore.css", "measures.js", "explore.js"):
        assert files.joinpath(name).is_file(), name
