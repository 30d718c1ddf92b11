"""Shared fixtures: a clean environment, the local emulator over loopback, and a client for it."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
RECORDINGS = SHARED / "recordings"
TEST_KEY = "test-key-AIzaSyD-do-not-leak-1234567890"

_CLEARED = ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "HTTP_PROXY", "HTTPS_PROXY",
            "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """No key, base URL or proxy from the machine leaks into a test; nothing reaches beyond 127.0.0.1."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def _emulator_server():
    from gemini_emulator import Emulator

    with Emulator(pace=0.0, upload_granularity=256 * 1024) as emulator:
        yield emulator


@pytest.fixture
def emulator(_emulator_server):
    """The shared emulator, reset before each test."""
    _emulator_server.reset()
    _emulator_server.pace = 0.0
    yield _emulator_server
    _emulator_server.reset()


@pytest.fixture
def client(emulator):
    from gemini_magic import Client, RetryPolicy

    return Client(api_key=TEST_KEY, base_url=emulator.base_url,
                  retry=RetryPolicy(max_retries=3, base_delay=0.01, cap_delay=0.05))


@pytest.fixture
def shell(emulator, monkeypatch):
    """A real InteractiveShell with the extension loaded, talking to the emulator, settings reset."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("GOOGLE_API_KEY", TEST_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.base_url)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "gemini_magic")
    magics = ip.magics_manager.registry["GeminiMagics"]
    for name in magics.trait_names(config=True):
        magics.traits()[name].set(magics, magics.traits()[name].default())
    magics.max_retries = 1
    magics.backend.mode = "auto"  # a test's `%gemini backend emulator` does not outlive it
    ip.user_ns.pop("_gemini", None)
    before = dict(ip.user_ns)
    yield ip
    # The shell is one instance for the whole run: a test's variables (a DataFrame named `facts`, a
    # chat) must not meet the next test's `-o facts` or `--chat`.
    for name in [name for name in ip.user_ns if name not in before]:
        del ip.user_ns[name]
    ip.user_ns.update(before)


@pytest.fixture
def parts_settings():
    """The live `gemini_magic.parts.settings`, restored after the test."""
    from gemini_magic.parts import settings as live

    saved = dataclasses.asdict(live)
    yield live
    for key, value in saved.items():
        setattr(live, key, value)


def recording(relative: str) -> Path:
    path = RECORDINGS / relative
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/recordings is only beside the project in CI and dev)")
    return path


def all_recordings(*suffixes: str) -> list[Path]:
    if not RECORDINGS.exists():
        return []
    return sorted(p for p in RECORDINGS.rglob("*") if p.is_file() and p.name.endswith(suffixes))


def shared_available() -> bool:
    return RECORDINGS.exists()


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


# -- a run leaves the checkout as it found it --------------------------------------------------------

_CHECKOUT = Path(__file__).resolve().parents[1]


def pytest_sessionstart(session):
    from tracked_files import snapshot

    session.config._checkout_before = snapshot(_CHECKOUT)


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when it changed a tracked file or left a new one in the checkout (screenshots,
    executed notebooks, caches belong in temporary folders)."""
    from tracked_files import changed, snapshot

    before = getattr(session.config, "_checkout_before", None)
    if before is None or getattr(session.config, "workerinput", None) is not None:  # xdist workers: the controller checks
        return
    touched = changed(before, snapshot(_CHECKOUT))
    if touched:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = ("The test run changed files in the checkout (tests must write to temporary folders): "
                   + ", ".join(touched))
        if reporter is not None:
            reporter.write_line(message, red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
