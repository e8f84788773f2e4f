"""The explorer in a real browser (Chromium through Playwright), opened from ``file://``.

Every number the page shows is compared with ``kb`` on the page's own state (its exact
doubles): the text to the 4 decimals shown, and the full-precision ``data-value`` to 1e-12.

Playwright's own browser download cannot run on these machines (no network beyond package
registries), so the tests drive the system Chromium (``apt-get install -y chromium``, which
``make setup`` runs as root). Where it or the ``playwright`` package is missing, this module
skips with one line saying why, unless ``KULLBACK_REQUIRE_BROWSER=1`` (for CI) makes that an
error.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_close

import kullback as kb
from kullback.explore import explore_html
from kullback.measures import contributions

CHROMIUM = Path(os.environ.get("KULLBACK_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


REQUIRED = os.environ.get("KULLBACK_REQUIRE_BROWSER") == "1"
if (_why := _missing()) is not None and not REQUIRED:
    pytest.skip(f"browser tests skipped: {_why}", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (Playwright gives it a fresh temporary profile;
    each page gets its own context)."""
    why = _missing()
    if why is not None:  # only when required: otherwise the module was skipped
        pytest.fail(f"browser tests required (KULLBACK_REQUIRE_BROWSER=1) but {why}", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("KULLBACK_ARTIFACTS", ROOT / "out" / "test-artifacts"))
KEYS = ("entropy_p", "entropy_q", "cross_entropy_pq", "cross_entropy_qp",
        "kl_pq", "kl_qp", "js_divergence", "js_distance")
READ = """() => Object.fromEntries([...document.querySelectorAll('[data-measure]')]
  .map(n => [n.dataset.measure, [n.textContent, n.dataset.value]]))"""
READ_TERMS = """() => [...document.querySelectorAll('.table tbody tr')].map(tr =>
  Object.fromEntries([...tr.querySelectorAll('[data-term]')].map(td => [td.dataset.term, td.dataset.value])))"""


def kb_values(p, q, unit):
    return {
        "entropy_p": kb.entropy(p, base=unit),
        "entropy_q": kb.entropy(q, base=unit),
        "cross_entropy_pq": kb.cross_entropy(p, q, base=unit),
        "cross_entropy_qp": kb.cross_entropy(q, p, base=unit),
        "kl_pq": kb.kl_divergence(p, q, base=unit),
        "kl_qp": kb.kl_divergence(q, p, base=unit),
        "js_divergence": kb.js_divergence(p, q, base=unit),
        "js_distance": kb.js_distance(p, q, base=unit),
    }


def state(pg):
    return pg.evaluate("kullbackExplorer.state()")


def assert_shows_kb(pg):
    """Every data-measure on the page equals kb on the page's state."""
    st = state(pg)
    want = kb_values(st["p"], st["q"], st["unit"])
    shown = pg.evaluate(READ)
    assert set(shown) == set(KEYS)
    for key in KEYS:
        text, full = shown[key]
        w = float(want[key])
        if math.isinf(w):
            assert (text, full) == ("inf", "inf"), key
        else:
            assert abs(float(text) - w) <= 0.5e-4 + 1e-12, (key, text, w)
            assert_close(float(full), w, rtol=1e-12, atol=1e-15)
    return st


def assert_table_is_kb(pg):
    st = state(pg)
    c = contributions(st["p"], st["q"], base=st["unit"])
    want = {"entropy_p": c["entropy_p"], "kl": c["kl"], "cross_entropy": c["cross_entropy"]}
    rows = pg.evaluate(READ_TERMS)
    assert len(rows) == len(st["labels"])
    for i, row in enumerate(rows):
        assert float(row["p"]) == st["p"][i] and float(row["q"]) == st["q"][i]
        for key, col in want.items():
            w = float(col[i])
            if math.isinf(w):
                assert row[key] == "inf"
            else:
                assert_close(float(row[key]), w, rtol=1e-12, atol=1e-15)


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("explore") / "explore.html"
    explore_html().save(path)
    return path


def open_page(browser, path, width=1280, **options):
    pg = browser.new_page(viewport={"width": width, "height": 900}, **options)
    seen = {"requests": [], "problems": []}
    pg.on("request", lambda r: seen["requests"].append(r.url))
    pg.on("console", lambda m: seen["problems"].append(m.text) if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: seen["problems"].append(str(e)))
    pg.goto(path.as_uri())
    pg.wait_for_selector("html[data-ready=true]")
    pg.seen = seen
    return pg


@pytest.fixture(scope="module")
def desktop(browser, page_file):
    """One desktop-sized tab for the module; each test reloads the page in it (a fresh state)."""
    pg = open_page(browser, page_file)
    yield pg
    pg.close()


@pytest.fixture
def page(desktop, page_file):
    """The page freshly loaded; afterwards, no request left the file and nothing was logged."""
    desktop.seen["requests"].clear()
    desktop.seen["problems"].clear()
    desktop.goto(page_file.as_uri())
    desktop.wait_for_selector("html[data-ready=true]")
    yield desktop
    outside = [u for u in desktop.seen["requests"] if not u.startswith(("file://", "data:"))]
    assert outside == [] and desktop.seen["problems"] == []


def test_opens_from_file_without_any_request(page, page_file):
    assert page.seen["requests"] == [page_file.as_uri()]
    assert page.seen["problems"] == []
    assert page.title().startswith("Entropy, cross-entropy and KL divergence")
    assert page.evaluate("kullbackExplorer.checkAgainstLibrary()") == []


def test_starts_from_the_textbook_pair_with_the_library_values(page):
    st = assert_shows_kb(page)
    assert st["labels"] == ["A", "B", "C"] and st["unit"] == "nats"
    assert page.text_content('[data-measure="kl_pq"]') == "0.0905"  # the README's number
    assert page.input_value('input[data-side="p"][data-outcome="A"]') == "0.42"
    assert page.input_value('input[data-side="q"][data-outcome="B"]') == "0.5"
    assert_table_is_kb(page)


def test_unit_switch(page):
    for unit in ("bits", "bans", "nats"):
        page.select_option('select[name="unit"]', unit)
        assert state(page)["unit"] == unit
        assert_shows_kb(page)
        assert_table_is_kb(page)
        assert page.text_content('[data-measure="kl_pq"] + .u') == unit


def test_typing_a_probability_rescales_the_others(page):
    page.fill('input[data-side="p"][data-outcome="A"]', "0.6")
    page.press('input[data-side="p"][data-outcome="A"]', "Enter")
    p = state(page)["p"]
    assert p[0] == 0.6
    assert_close(p[1], 0.4 * 0.31 / 0.58)
    assert_close(p[2], 0.4 * 0.27 / 0.58)
    assert page.input_value('input[data-side="p"][data-outcome="B"]') == "0.2138"
    assert_shows_kb(page)
    assert_table_is_kb(page)


def test_a_tiny_probability_is_not_shown_as_zero(page):
    page.evaluate("pair => kullbackExplorer.load(pair)",
                  {"labels": ["a", "b"], "p": [1 - 2e-6, 2e-6], "q": [0.5, 0.5]})
    assert page.input_value('input[data-side="p"][data-outcome="b"]') == "2.00e-6"
    assert page.text_content('.table tr[data-outcome="b"] [data-term="p"]') == "2.000e-06"
    assert_shows_kb(page)


def test_arrow_keys_step_a_number_field(page):
    field = 'input[data-side="p"][data-outcome="A"]'
    page.focus(field)
    page.keyboard.press("ArrowUp")
    p = state(page)["p"]
    assert p[0] == 0.43 and page.input_value(field) == "0.43"
    assert_close(p[1], 0.57 * 0.31 / 0.58)
    assert_shows_kb(page)


def test_displays_inline_in_a_notebook(browser):
    """What Jupyter shows (_repr_html_): the page in a sandboxed iframe, working, offline."""
    pg = browser.new_page()
    requests = []
    pg.on("request", lambda r: requests.append(r.url))
    try:
        pg.set_content(explore_html([3, 1], [1, 1], labels=["heads", "tails"], base="bits")._repr_html_())
        frame = pg.frames[1]
        frame.wait_for_selector("html[data-ready=true]")
        want = 0.75 * math.log2(1.5) + 0.25 * math.log2(0.5)
        assert frame.text_content('[data-measure="kl_pq"]') == f"{want:.4f}"
        assert frame.input_value('input[data-side="p"][data-outcome="heads"]') == "0.75"
        assert requests == []
    finally:
        pg.close()


def test_a_locked_bar_keeps_its_value(page):
    page.get_by_role("button", name="Lock p(B)").click()
    assert page.get_attribute('[data-chart="p"] .col:nth-child(3) .lock', "aria-pressed") == "true"
    page.fill('input[data-side="p"][data-outcome="A"]', "0.6")
    page.press('input[data-side="p"][data-outcome="A"]', "Enter")
    p = state(page)["p"]
    assert (p[0], p[1]) == (0.6, 0.31)
    assert_close(p[2], 1 - 0.6 - 0.31)
    page.fill('input[data-side="p"][data-outcome="A"]', "0.95")  # at most 1 - 0.31
    page.press('input[data-side="p"][data-outcome="A"]', "Enter")
    p = state(page)["p"]
    assert_close(p[0], 0.69) and p[2] == 0
    assert_shows_kb(page)
    page.get_by_role("button", name="Lock p(C)").focus()  # by keyboard this time
    page.keyboard.press("Space")
    assert state(page)["lock"]["p"] == [False, True, True]
    page.get_by_role("slider", name="p(A)").focus()
    page.keyboard.press("ArrowDown")
    assert state(page)["p"] == p  # nothing else may move
    assert "Every other bar of P is locked" in page.text_content("#status")
    assert page.get_attribute('[role="slider"][aria-label="p(A)"]', "aria-disabled") == "true"


def test_out_of_range_input_is_refused(page):
    field = 'input[data-side="q"][data-outcome="A"]'
    page.fill(field, "1.5")
    page.press(field, "Enter")
    assert state(page)["q"] == [0.25, 0.5, 0.25]
    assert page.input_value(field) == "0.25"
    assert "must be a number from 0 to 1" in page.text_content("#status")


def test_dragging_a_bar_with_the_mouse(page):
    track = page.get_by_role("slider", name="q(B)")
    box = track.bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] * 0.35, steps=4)
    page.mouse.move(x, box["y"] + box["height"] * 0.2, steps=4)
    page.mouse.up()
    q = state(page)["q"]
    assert abs(q[1] - 0.8) <= 0.0101
    assert_close(q[0], (1 - q[1]) / 2, rtol=1e-12) and q[0] == q[2]
    assert page.get_attribute('[role="slider"][aria-label="q(B)"]', "aria-valuenow") == str(q[1])
    assert_shows_kb(page)


def test_dragging_a_bar_by_touch_on_a_phone(browser, page_file):
    pg = open_page(browser, page_file, width=360, has_touch=True)
    try:
        track = pg.get_by_role("slider", name="q(B)")
        track.scroll_into_view_if_needed()
        box = track.bounding_box()
        x, y0, y1 = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.5, box["y"] + box["height"] * 0.2
        cdp = pg.context.new_cdp_session(pg)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y0}]})
        for k in range(1, 6):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y0 + (y1 - y0) * k / 5}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        q = state(pg)["q"]
        assert abs(q[1] - 0.8) <= 0.0101  # the page did not scroll or reflow under the finger
        assert_shows_kb(pg)
        assert pg.seen["problems"] == []
    finally:
        pg.close()


def test_keyboard_moves_a_bar(page):
    slider = page.get_by_role("slider", name="p(A)")
    slider.focus()
    page.keyboard.press("ArrowUp")
    assert state(page)["p"][0] == 0.43
    page.keyboard.press("Shift+ArrowDown")
    assert state(page)["p"][0] == 0.429
    page.keyboard.press("PageDown")  # down to the next multiple of 0.1
    assert state(page)["p"][0] == 0.4
    page.keyboard.press("Home")
    p = state(page)["p"]
    assert p[0] == 0 and abs(p[1] + p[2] - 1) < 1e-15
    assert_shows_kb(page)
    page.keyboard.press("End")
    assert state(page)["p"] == [1, 0, 0]
    assert page.text_content('[data-measure="entropy_p"]') == "0.0000"
    assert_shows_kb(page)


def test_every_control_is_reachable_by_keyboard(page):
    focused = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        focused.add(page.evaluate(
            "(() => { const e = document.activeElement; return e.getAttribute('aria-label') || e.name || e.dataset.preset || e.textContent.trim(); })()"))
    for name in ("unit", "textbook", "weather", "p(A)", "q(C)", "Lock p(A)", "Lock q(C)",
                 "Remove outcome B", "new-outcome", "+ Add outcome"):
        assert name in focused, name


def test_swapping_p_and_q_exchanges_the_kl_divergences(page):
    before = page.evaluate(READ)
    page.get_by_role("button", name="Swap P and Q").click()
    st = state(page)
    assert st["p"] == [0.25, 0.5, 0.25] and st["q"] == [0.42, 0.31, 0.27]
    after = page.evaluate(READ)
    assert after["kl_pq"] == before["kl_qp"] and after["kl_qp"] == before["kl_pq"]
    assert after["entropy_p"] == before["entropy_q"]
    assert_shows_kb(page)


def test_add_and_remove_outcomes(page):
    page.fill("#new-outcome", "D")
    page.get_by_role("button", name="+ Add outcome").click()
    st = state(page)
    assert st["labels"] == ["A", "B", "C", "D"]
    assert st["p"][3] == 0.25 and st["q"][3] == 0.25
    assert abs(sum(st["p"]) - 1) < 1e-15 and abs(sum(st["q"]) - 1) < 1e-15
    assert page.locator('input[data-outcome="D"]').count() == 2
    assert_shows_kb(page)
    assert_table_is_kb(page)
    page.get_by_role("button", name="Remove outcome B").focus()
    page.keyboard.press("Enter")
    st = state(page)
    assert st["labels"] == ["A", "C", "D"]
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Remove outcome C"
    assert page.locator('input[data-outcome="B"]').count() == 0
    assert abs(sum(st["p"]) - 1) < 1e-15
    assert_shows_kb(page)
    page.get_by_role("button", name="Remove outcome A").click()
    assert page.get_by_role("button", name="Remove outcome C").is_disabled()  # two are the minimum
    page.get_by_role("button", name="+ Add outcome").click()  # an unnamed one gets a free letter
    assert state(page)["labels"] == ["C", "D", "A"]


def test_an_outcome_q_rules_out_is_named_and_makes_kl_infinite(page):
    page.get_by_role("button", name="Q rules out an outcome").click()
    assert page.get_attribute('[data-preset="ruled-out"]', "aria-pressed") == "true"
    assert page.text_content('[data-measure="kl_pq"]') == "inf"
    assert page.text_content('[data-measure="cross_entropy_pq"]') == "inf"
    caption = page.text_content('[data-caption="kl_pq"]')
    assert "Q gives probability 0 to C" in caption
    assert "q = 0 < p: infinite" in page.text_content('.table tr[data-outcome="C"]')
    assert page.locator('[data-chart="q"] .col.ruled-out').count() == 1
    assert_shows_kb(page)
    assert_table_is_kb(page)


def test_presets(page):
    for key in ("die", "weather", "identical", "ruled-out", "textbook"):
        page.click(f'[data-preset="{key}"]')
        st = assert_shows_kb(page)
        assert_table_is_kb(page)
        assert page.locator('.preset[aria-pressed="true"]').get_attribute("data-preset") == key
        if key == "weather":
            assert st["labels"] == ["sunny", "cloudy", "rain", "snow", "fog", "hail"]
            assert page.text_content('[data-measure="kl_qp"]') == "inf"
            assert "P gives probability 0 to hail" in page.text_content('[data-caption="kl_qp"]')
        if key == "identical":
            assert page.text_content('[data-measure="kl_pq"]') == "0.0000"
    assert page.text_content('[data-measure="kl_pq"]') == "0.0905"


def random_pair(rng):
    n = int(rng.integers(2, 9))
    p, q = rng.dirichlet(np.ones(n) * 0.7), rng.dirichlet(np.ones(n) * 0.7)
    p[rng.random(n) < 0.2] = 0.0
    q[rng.random(n) < 0.2] = 0.0
    p[0] = p[0] or 0.3  # each keeps some mass
    q[-1] = q[-1] or 0.4
    if rng.random() < 0.15:
        q = p.copy()
    return p / p.sum(), q / q.sum()


def test_random_configurations_match_kb(page):
    rng = np.random.default_rng(13)
    units = ["bits", "nats", "bans"]
    infinite = 0
    for i in range(24):
        p, q = random_pair(rng)
        labels = [f"x{j}" for j in range(len(p))]
        page.evaluate("pair => kullbackExplorer.load(pair)",
                      {"labels": labels, "p": p.tolist(), "q": q.tolist()})
        page.select_option('select[name="unit"]', units[i % 3])
        st = assert_shows_kb(page)
        assert st["p"] == p.tolist() and st["q"] == q.tolist()
        assert_table_is_kb(page)
        infinite += page.text_content('[data-measure="kl_pq"]') == "inf"
    assert infinite >= 3  # the sample does exercise q = 0 < p


EXTREMES = [
    ([1e-300, 1.0], [1.0, 1e-300]),
    ([5e-324, 1.0], [1.0, 1.0]),
    ([1.0, 0.0], [0.7, 0.3]),
    ([0.5, 0.5], [1.0, 0.0]),
    ([1e-200, 1e-200, 0.0], [1.0, 3.0, 2.0]),
    ([3.0, 1e300], [1e300, 7.0]),
    ([1e300, 1e-20], [1.0, 1.0]),                   # normalising loses 1e-20: log space
    ([0.1, 0.2, 0.7], [0.1, 0.2, 0.7]),
    ([1.0, 1e-20], [1e-20, 1.0]),
    ([1 - 1e-16, 1e-16], [0.5, 0.5]),
    ([1.0, 1e-17], [1e-17, 1.0]),                   # one entry holds (nearly) all the mass
    ([0.5 + 1e-9, 0.5 - 1e-9], [0.5, 0.5]),         # nearly identical: KL ~ 2e-18
    ([0.3, 0.7], [0.3 * (1 + 1e-12), 1 - 0.3 * (1 + 1e-12)]),
    ([0.2, 0.3, 0.5], [0.2 + 2e-17, 0.3, 0.5 - 2e-17]),
    ([2.0, 6.0, 0.0], [0.25, 0.75, 0.0]),           # counts against probabilities, same shape
]


def test_the_ported_kernels_agree_with_kb_at_the_edges(page):
    for p, q in EXTREMES:
        for unit in ("bits", "nats"):
            got = page.evaluate("([p, q, u]) => kullbackExplorer.measures(p, q, u)", [p, q, unit])
            want = kb_values(p, q, unit)
            for key in KEYS:
                g = math.inf if got[key] is None else got[key]  # JSON turns Infinity into null
                assert_close(g, float(want[key]), rtol=1e-12, atol=1e-300)


def test_pages_from_the_command_line(browser, tmp_path):
    out = tmp_path / "sub" / "weather.html"
    cmd = [sys.executable, "-m", "kullback", "explore", str(ROOT / "examples" / "weather_observed.json"),
           str(ROOT / "examples" / "weather_forecast.json"), "--base", "bits", "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote {out} (")
    pg = open_page(browser, out)
    try:
        st = assert_shows_kb(pg)
        assert st["unit"] == "bits" and st["labels"][-1] == "hail"
        assert_close(sum(st["p"]), 1.0, rtol=1e-15)
        assert pg.get_attribute('[data-preset="yours"]', "aria-pressed") == "true"
        assert "weather_observed.json" in pg.text_content('[data-name="p"]')
        assert pg.text_content("#blurb") == ("Your data: P is weather_observed.json, "
                                             "Q is weather_forecast.json.")
        assert pg.seen["problems"] == []
    finally:
        pg.close()


@pytest.mark.parametrize(("width", "name", "docs_height"),
                         [(1280, "explore.png", 932), (360, "explore-360.png", 1500)])
def test_screenshots_and_no_sideways_scrolling(browser, page_file, width, name, docs_height):
    """Screenshots kept under out/test-artifacts; KULLBACK_UPDATE_DOCS=1 also refreshes the
    README's images in docs/ (the top of the page)."""
    pg = open_page(browser, page_file, width=width)
    try:
        assert pg.evaluate("document.documentElement.scrollWidth") <= width
        assert pg.get_by_role("slider", name="p(A)").bounding_box()["width"] >= 40  # big enough to touch
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if os.environ.get("KULLBACK_UPDATE_DOCS") == "1":  # a tall screen: the phone's bar at its foot
            pg.set_viewport_size({"width": width, "height": docs_height})
            pg.screenshot(path=str(ROOT / "docs" / name))
        # the whole page as one tall screen (a full-page capture would leave fixed elements mid-page)
        pg.set_viewport_size({"width": width, "height": pg.evaluate("document.documentElement.scrollHeight")})
        pg.screenshot(path=str(ARTIFACTS / name))
        assert (ARTIFACTS / name).stat().st_size > 10_000
    finally:
        pg.close()
