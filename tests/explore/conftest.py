"""A real browser for the explorer's tests: Playwright driving Debian's Chromium.

Playwright's own browser download cannot run on these machines (no network beyond package
registries), so the tests use the system Chromium (``apt-get install -y chromium``). Where it or
the ``playwright`` package is missing, the browser tests skip with one line saying why, unless
``KULLBACK_REQUIRE_BROWSER=1`` (set on CI) turns that into a failure.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

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


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for a test module (Playwright gives it a fresh temporary profile;
    each page gets its own context)."""
    why = _missing()
    if why is not None:
        if os.environ.get("KULLBACK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {why}")
        pytest.skip(f"browser tests skipped: {why}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
