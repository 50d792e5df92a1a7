"""Driving Debian's Chromium from the browser tests: Playwright or a clear skip/failure, and waiting."""
import contextlib
import os
import time

import pytest

from .jupyterlab import CHROMIUM, CHROMIUM_ARGS

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def sync_playwright_or_skip(what, missing=()):
    """Playwright's ``sync_playwright`` when Chromium and Playwright are there; otherwise the test is
    skipped, or fails under CI (where ./run test installs them), naming what is ``missing``."""
    missing = list(missing)
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("the playwright package (pip install -r requirements.txt)")
    if missing:
        message = f"{what} needs " + ", ".join(missing)
        if IN_CI:
            pytest.fail(message + ": in CI it must run (./run test installs them)", pytrace=False)
        pytest.skip(message)
    return sync_playwright


def wait_until(predicate, timeout_ms, what, interval=1.0):
    """Poll ``predicate`` until it returns something true (returned), or fail saying what was awaited."""
    deadline = time.time() + timeout_ms / 1000
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout_ms / 1000:.0f} s waiting for {what}")


@contextlib.contextmanager
def launched(what):
    """Debian's Chromium, headless, launched by Playwright with the suite's arguments; closed after."""
    sync_playwright = sync_playwright_or_skip(what)
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chrome
        finally:
            chrome.close()
