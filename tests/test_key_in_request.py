"""The API key travels in the x-goog-api-key header only: a request body (or Live message) that holds it,
because the user put it in a prompt, a variable or a setting, or a tool returned it, is refused with one
message before anything is sent or shown (wire/transport.refuse_key_in, Client.prepare, LiveConnection.send)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from conftest import TEST_KEY
from gemini_magic.errors import RequestError

MODEL = "gemini-2.5-flash"


def test_a_prompt_holding_the_key_is_refused_and_nothing_is_sent(client, emulator):
    for call in (lambda: client.generate(MODEL, f"my key is {TEST_KEY}, keep it"),
                 lambda: list(client.stream(MODEL, ["hello", {"text": TEST_KEY}])),
                 lambda: client.generate(MODEL, "hi", system=f"key={TEST_KEY}"),
                 lambda: client.count_tokens(MODEL, TEST_KEY),
                 lambda: client.generate(MODEL, request={"contents": [{"role": "user",
                                                                       "parts": [{"text": TEST_KEY}]}]})):
        with pytest.raises(RequestError, match="holds your API key") as caught:
            call()
        assert TEST_KEY not in str(caught.value) and TEST_KEY not in repr(caught.value)
    assert not emulator.requests
    assert client.generate(MODEL, "my key is [REDACTED]").text  # the same prompt without it goes


def test_the_magic_refuses_a_variable_holding_the_key_before_showing_the_request(shell, emulator, capsys):
    shell.user_ns["k"] = TEST_KEY
    with pytest.raises(UsageError, match="holds your API key") as caught:
        shell.run_cell_magic("gemini", "--raw", "Say hi. The key in my env is {k}")
    out = capsys.readouterr()
    assert TEST_KEY not in out.out + out.err + str(caught.value)
    assert "Request" not in out.out        # refused before the --raw block
    assert not [r for r in emulator.requests if "generateContent" in r.path]


def test_a_tool_result_holding_the_key_stops_the_calls_with_the_message(client, emulator):
    def read_settings() -> dict:
        """The app's settings."""
        return {"theme": "dark", "api_key": TEST_KEY}

    with pytest.raises(RequestError, match="holds your API key"):
        client.generate("gemini-3-flash-preview", "Call read_settings and tell me the theme.", tools=[read_settings])
    sent = [r.body for r in emulator.requests if "generateContent" in r.path]
    assert len(sent) == 1 and TEST_KEY.encode() not in sent[0]   # the call's answer, never the result


def test_a_live_message_holding_the_key_is_refused(client, emulator):
    with client.live() as session:
        with pytest.raises(RequestError, match="holds your API key"):
            session.send(f"remember {TEST_KEY}")
        assert "Live turn" in session.send("hello").text or session.turns  # the session goes on
    assert not [m for m in emulator.live.messages if TEST_KEY in str(m)]
