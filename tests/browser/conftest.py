"""Session fixtures for browser tests: one emulator, one Jupyter server and one Chromium for all tests.

Tests skip when Playwright or Chromium is missing, and fail instead when `CI` is set.
Screenshots and wall times (`timings.txt`) go to a temporary folder (its path is printed), or to the
folder named by `GEMINI_MAGIC_SCREENSHOTS`: `GEMINI_MAGIC_SCREENSHOTS=tests/browser/screenshots` refreshes
the pictures the README shows, on purpose. A test run never writes into the checkout.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from .jupyter import launch_chromium, require_browser_tools, start_emulator, start_jupyter

SCREENSHOTS_ENV_VAR = "GEMINI_MAGIC_SCREENSHOTS"
STREAM_PACE = 0.08   # seconds between emulator chunks: about 4 s for its ~50-chunk answer
VIEWPORT = {"width": 1280, "height": 900}


class Timings:
    """Wall times in seconds by label, written to timings.txt beside the screenshots as they come."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.values: dict[str, float] = {}

    def record(self, label: str, seconds: float) -> None:
        self.values[label] = seconds
        print(f"\n[browser timing] {label}: {seconds:.1f} s")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(f"{name}: {value:.1f} s\n" for name, value in self.values.items()))


def screenshot_folder(temporary: Path) -> Path:
    """The folder named by $GEMINI_MAGIC_SCREENSHOTS, else `temporary` (a folder of the session's own)."""
    chosen = os.environ.get(SCREENSHOTS_ENV_VAR, "").strip()
    return Path(chosen).resolve() if chosen else temporary


@pytest.fixture(scope="session")
def screenshots_folder(tmp_path_factory) -> Path:
    folder = screenshot_folder(tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\n[browser] screenshots in {folder}")
    return folder


@pytest.fixture(scope="session")
def timings(screenshots_folder) -> Timings:
    return Timings(screenshots_folder / "timings.txt")


@pytest.fixture(scope="session")
def browser_tools() -> None:
    require_browser_tools()


@pytest.fixture(scope="session")
def emulator_url(browser_tools):
    """The base URL of the paced emulator the Jupyter kernels talk to (its /emulator/... controls too)."""
    with start_emulator(pace=STREAM_PACE) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def jupyter_server(emulator_url, timings):
    """An isolated `jupyter lab` (serving Lab and Notebook 7) whose kernels talk to a paced emulator."""
    started = time.monotonic()
    with start_jupyter(emulator_url) as server:
        timings.record("setup: emulator + jupyter server", time.monotonic() - started)
        yield server


@pytest.fixture(scope="session")
def playwright(browser_tools):
    """One Playwright for the session (a second sync_playwright in the same thread is refused)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def chromium(playwright, timings):
    started = time.monotonic()
    browser = launch_chromium(playwright)
    timings.record("setup: chromium", time.monotonic() - started)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser context and page (1280x900) for one test."""
    context = chromium.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def screenshots(screenshots_folder) -> Path:
    """Where a test saves its screenshots (see the module docstring)."""
    return screenshots_folder
