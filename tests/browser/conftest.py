"""What the browser tests share: Debian's chromium, driven by Playwright for Python.

``playwright install`` is never needed: the tests launch the system's chromium
(``apt-get install -y chromium``; .ci/run installs it). ``MNIST_EXPLORE_BROWSER_TESTS=0`` skips them.
Screenshots go to tests/browser/artefacts/ (git ignores it).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTEFACTS = Path(__file__).resolve().parent / "artefacts"
# Debian's chromium, headless, with the background services that would phone home switched off.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium() -> str:
    """The system chromium's path; the tests fail (not skip) without it, unless MNIST_EXPLORE_BROWSER_TESTS=0."""
    if os.environ.get("MNIST_EXPLORE_BROWSER_TESTS", "").strip() == "0":
        pytest.skip("MNIST_EXPLORE_BROWSER_TESTS=0")
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("The browser tests need Debian's chromium, which is not installed: run "
                    "`apt-get update && apt-get install -y chromium` (CI does), or set "
                    "MNIST_EXPLORE_BROWSER_TESTS=0 to skip them.")
    return path


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
