"""Where the magics send requests with no key (issue 20, item 5): a fresh notebook or terminal answers
`%gemini hello` at once from the in-kernel emulator and says so in one line; a key set later switches
to the API (once said); `%gemini backend auto|api|emulator` chooses explicitly."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from conftest import TEST_KEY

NOTE = "No API key is set, so answers come from the **local Gemini emulator**"


def _magics(shell):
    return shell.magics_manager.registry["GeminiMagics"]


def _markdown(captured) -> list[str]:
    return [output.data["text/markdown"] for output in captured.outputs if "text/markdown" in output.data]


@pytest.fixture
def no_key(shell, monkeypatch):
    """The shell of a newcomer: no key and no base URL in the environment; the kernel's emulator stopped after."""
    monkeypatch.delenv("GOOGLE_API_KEY")
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL")
    _magics(shell).backend.stop_emulator()
    yield shell
    _magics(shell).backend.stop_emulator()
    _magics(shell).backend.mode = "auto"


def test_with_no_key_the_emulator_starts_by_itself_and_says_so_once(no_key, emulator):
    with capture_output() as captured:
        no_key.run_line_magic("gemini", "--no-stream hello")
        no_key.run_line_magic("gemini", "--no-stream -o second and again")
    notes = [text for text in _markdown(captured) if NOTE in text]
    own = _magics(no_key).backend.emulator
    assert len(notes) == 1 and own.base_url in notes[0] and "\n" not in notes[0]
    assert no_key.user_ns["second"].text.startswith("[gemini_magic emulator]")
    assert [r.json["contents"][0]["parts"][0]["text"] for r in own.requests if "enerateContent" in r.path] \
        == ["hello", "and again"]
    assert not emulator.requests  # the shared test emulator (a "real API" here) saw nothing


def test_a_key_set_later_switches_to_the_api_and_says_so(no_key, emulator, monkeypatch):
    no_key.run_line_magic("gemini", "--no-stream first")
    monkeypatch.setenv("GOOGLE_API_KEY", TEST_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.base_url)
    with capture_output() as captured:
        no_key.run_line_magic("gemini", "--no-stream now with a key")
        no_key.run_line_magic("gemini", "--no-stream and once more")
    switched = [text for text in _markdown(captured) if text.startswith("A key is set now")]
    assert switched == [f"A key is set now (`GOOGLE_API_KEY`): using the API at {emulator.base_url} instead of "
                        "the local emulator."]
    assert [r.headers.get("x-goog-api-key") for r in emulator.requests if "enerateContent" in r.path] == [TEST_KEY] * 2


def test_backend_emulator_and_auto_switch_explicitly(shell, emulator):
    backend = _magics(shell).backend
    with capture_output() as captured:
        shell.run_line_magic("gemini", "backend emulator")
    assert "Using the **local Gemini emulator**" in _markdown(captured)[0]
    shell.run_line_magic("gemini", "--no-stream to the kernel's emulator, key or not")
    assert not emulator.requests and len(backend.emulator.requests) == 1
    with capture_output() as captured:
        shell.run_line_magic("gemini", "backend auto")
    assert _markdown(captured) == [f"Using the API at {emulator.base_url} (key from `GOOGLE_API_KEY`)."]
    assert backend.emulator is None  # stopped: the API is in use again
    shell.run_line_magic("gemini", "--no-stream to the API")
    assert [r.json["contents"][0]["parts"][0]["text"] for r in emulator.requests] == ["to the API"]


def test_backend_api_without_a_key_is_refused_and_changes_nothing(no_key, emulator):
    with pytest.raises(UsageError, match="No Gemini API key found"):
        no_key.run_line_magic("gemini", "backend api")
    assert _magics(no_key).backend.mode == "auto" and _magics(no_key).backend.emulator is None
    with pytest.raises(UsageError, match="takes auto, api or emulator; got 'gemini'"):
        no_key.run_line_magic("gemini", "backend gemini")


def test_in_api_mode_a_key_removed_later_gets_the_missing_key_message(shell, emulator, monkeypatch):
    shell.run_line_magic("gemini", "backend api")
    monkeypatch.delenv("GOOGLE_API_KEY")
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("gemini", "--no-stream hi")
    assert "GOOGLE_API_KEY" in str(caught.value) and "getpass" in str(caught.value)
    assert not emulator.requests and _magics(shell).backend.emulator is None


def test_config_says_the_emulator_answers(no_key):
    with capture_output() as captured:
        no_key.run_line_magic("gemini", "config")
    shown = _markdown(captured)[0]
    assert "- **API key:** not set: the local emulator answers (set GOOGLE_API_KEY to use Gemini)" in shown
    assert "- **Base URL:** (starts on first use) (the local emulator)" in shown


def test_a_fresh_terminal_answers_hello_with_no_key(tmp_path):
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL")}
    environment["IPYTHONDIR"] = str(tmp_path)  # no profile of the machine's
    done = subprocess.run([sys.executable, "-m", "IPython", "--no-banner", "--colors=NoColor", "-c",
                           "%load_ext gemini_magic\n%gemini hello"], capture_output=True, text=True,
                          timeout=120, env=environment, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("No API key is set, so answers come from the") == 1
    assert "[gemini_magic emulator]" in done.stdout and "hello" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
