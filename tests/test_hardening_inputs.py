"""Bad keys, base URLs, connection settings and request values: one clear message at once, nothing sent,
no retry. Each case counts the requests the emulator received and the retry waits the transport made."""

from __future__ import annotations

import math
import time

import pytest

from conftest import TEST_KEY
from gemini_magic import Client, RetryPolicy
from gemini_magic import errors
from gemini_magic.wire.endpoint import resolve_api_key, validate_api_version, validate_base_url, validate_timeout
from gemini_magic.wire.transport import Transport, map_request_exception


def counted(client: Client) -> list:
    """Record the transport's retry waits instead of sleeping."""
    waits: list[float] = []
    client.transport.sleep = waits.append
    return waits


# --- keys --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", [TEST_KEY + "\n", TEST_KEY + "\r\n", "  " + TEST_KEY + "\t", "\n" + TEST_KEY])
def test_surrounding_whitespace_of_an_environment_key_is_stripped(monkeypatch, emulator, written):
    monkeypatch.setenv("GOOGLE_API_KEY", written)
    client = Client(base_url=emulator.base_url)
    assert client.generate("gemini-2.5-flash", "hi").text
    assert emulator.requests[-1].headers["x-goog-api-key"] == TEST_KEY


@pytest.mark.parametrize("inside, problem", [("\n", "a line break"), ("\r", "a line break"), ("\x7f", "a control character"),
                                             ("\x1b", "a control character"), (" ", "a space"), ("\u2028", "a line break"),
                                             ("\u201c", "not ASCII (U+201C"), ("\u0410", "not ASCII (U+0410"),
                                             ("é", "not ASCII (U+00E9")])
def test_a_key_with_a_break_inside_names_the_variable_never_the_key(monkeypatch, emulator, inside, problem):
    key = TEST_KEY[:10] + inside + TEST_KEY[10:]
    monkeypatch.setenv("GEMINI_API_KEY", key)
    started = time.monotonic()
    with pytest.raises(errors.InvalidAPIKeyError) as caught:
        Client(base_url=emulator.base_url)
    message = str(caught.value)
    assert "$GEMINI_API_KEY" in message and problem in message and time.monotonic() - started < 1
    assert TEST_KEY[:10] not in message and TEST_KEY[10:] not in repr(caught.value)
    assert isinstance(caught.value, errors.MissingAPIKeyError)  # callers that handle "no key" handle this too
    assert emulator.requests == []


def test_a_non_latin1_key_in_the_magic_is_a_bad_key_not_a_bad_prompt(shell, monkeypatch, emulator):
    from IPython.core.error import UsageError

    monkeypatch.setenv("GOOGLE_API_KEY", "\u201c" + TEST_KEY + "\u201d")  # pasted with curly quotes
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.base_url)
    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("gemini", "--no-stream", "Hello")
    message = str(caught.value)
    assert "$GOOGLE_API_KEY" in message and "not ASCII (U+201C" in message and TEST_KEY not in message
    assert "prompt" not in message.lower() and emulator.requests == []


def test_a_key_argument_with_a_line_break_says_argument():
    with pytest.raises(errors.InvalidAPIKeyError, match="passed as api_key has a line break"):
        Client(api_key="abc\ndef", base_url="http://127.0.0.1:9")
    with pytest.raises(errors.InvalidAPIKeyError, match="passed as api_key has a control character"):
        Client(api_key="abc\x00def", base_url="http://127.0.0.1:9")


def test_blank_keys_count_as_missing(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", " \n")
    monkeypatch.setenv("GEMINI_API_KEY", "second-key\n")
    assert resolve_api_key() == ("second-key", "GEMINI_API_KEY")
    monkeypatch.setenv("GEMINI_API_KEY", "\t")
    with pytest.raises(errors.MissingAPIKeyError, match="No Gemini API key found"):
        Client(api_key="   ")


def test_a_key_with_a_line_break_given_to_the_transport_fails_at_once_without_showing_it(emulator):
    """Below the Client's checks: requests refuses the header; that is not a network failure to retry."""
    transport = Transport(TEST_KEY + "\nX", emulator.base_url, "v1beta", (2, 5), RetryPolicy(base_delay=0.01))
    waits: list = []
    transport.sleep = waits.append
    with pytest.raises(errors.RequestError) as caught:
        transport.send("GET", "models")
    assert "header" in str(caught.value) and TEST_KEY not in str(caught.value) + repr(caught.value.args)
    assert waits == [] and emulator.requests == []


# --- base URLs and connection settings --------------------------------------------------------------

@pytest.mark.parametrize("url, words", [
    ("htp://127.0.0.1:9", "must start with http:// or https://"),
    ("ftp://example.com", "must start with http:// or https://"),
    ("http://[::1", "cannot be read as a URL"),
    ("http://", "has no host name"),
    ("127.0.0.1:8080", "must start with http:// or https://"),
    ("http://127.0.0.1:99999", "cannot be read as a URL"),
    ("http://127.0.0.1:0", "port 0"),
    ("http://exa mple.com", "space or control character"),
    ("http://127.0.0.1:9/?key=x", "query or fragment"),
    ("http://user:pw@127.0.0.1:9", "user name or password"),
])
def test_a_malformed_base_url_is_refused_when_read(url, words):
    started = time.monotonic()
    with pytest.raises(errors.SettingsError, match=words.replace("?", r"\?")):
        Client(api_key=TEST_KEY, base_url=url)
    assert time.monotonic() - started < 0.5


def test_a_malformed_base_url_from_the_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", "htp://localhost:8080")
    with pytest.raises(errors.SettingsError, match=r"\$GOOGLE_GEMINI_BASE_URL 'htp://localhost:8080' must start"):
        Client(api_key=TEST_KEY)


def test_a_good_base_url_is_normalised():
    assert validate_base_url("  https://example.com/gemini/  ") == "https://example.com/gemini"
    assert validate_base_url("HTTP://[::1]:8080") == "HTTP://[::1]:8080"


@pytest.mark.parametrize("version, words", [("", "is empty"), (" / ", "is empty"), ("v1 beta", "space"),
                                            ("v1beta?x=1", "special character"), (None, "must be a string")])
def test_a_bad_api_version_is_refused(version, words):
    with pytest.raises(errors.SettingsError, match=words):
        Client(api_key=TEST_KEY, base_url="http://127.0.0.1:9", api_version=version)


def test_api_version_is_stripped(emulator):
    assert validate_api_version(" /v1alpha/ ") == "v1alpha"
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, api_version="v1beta/")
    assert client.list_models() and emulator.requests[-1].path.startswith("/v1beta/models")


@pytest.mark.parametrize("timeout", [-1, 0, 0.0, float("nan"), float("inf"), -math.inf, (1, -1), (0, 5),
                                     (1, float("nan")), (1, 2, 3), "10", True, None])
def test_a_bad_timeout_is_refused_when_set(timeout):
    with pytest.raises(errors.SettingsError, match="timeout"):
        Client(api_key=TEST_KEY, base_url="http://127.0.0.1:9", timeout=timeout)


def test_timeouts_accepted():
    assert validate_timeout(30) == (10.0, 30.0)
    assert validate_timeout(2.5) == (2.5, 2.5)
    assert validate_timeout([3, 60]) == (3.0, 60.0)
    assert Client(api_key=TEST_KEY, base_url="http://127.0.0.1:9", timeout=45).transport.timeout == (10.0, 45.0)


# --- request values that cannot be sent --------------------------------------------------------------

@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_body_with_nan_or_infinity_fails_at_once_and_sends_nothing(client, emulator, value):
    waits = counted(client)
    with pytest.raises(errors.RequestError, match="cannot be encoded.*NaN or infinity"):
        client.request("POST", "models/gemini-2.5-flash:countTokens",
                       json={"contents": [{"parts": [{"text": "hi"}]}], "x": value})
    assert waits == [] and emulator.requests == []


def test_a_body_with_an_object_json_cannot_encode_fails_at_once(client, emulator):
    waits = counted(client)
    with pytest.raises(errors.RequestError, match="cannot be encoded"):
        client.request("POST", "models/gemini-2.5-flash:countTokens", json={"x": object()})
    assert waits == [] and emulator.requests == []


def test_a_header_value_that_cannot_be_sent_fails_at_once(client, emulator):
    waits = counted(client)
    with pytest.raises(errors.RequestError, match="header"):
        client.transport.send("GET", "models", headers={"X-Custom": "a\nb"})
    with pytest.raises(errors.RequestError, match="cannot be encoded"):
        client.transport.send("GET", "models", headers={"X-Custom": "line\u2028sep"})
    assert waits == [] and emulator.requests == []


def test_an_invalid_url_built_below_the_checks_is_not_retried(emulator):
    transport = Transport(TEST_KEY, "htp://127.0.0.1:9", "v1beta", (2, 5), RetryPolicy(base_delay=0.01))
    waits: list = []
    transport.sleep = waits.append
    with pytest.raises(errors.RequestError, match="URL is not valid"):
        transport.send("GET", "models")
    assert waits == []


def test_connection_failures_are_still_retried():
    client = Client(api_key=TEST_KEY, base_url="http://127.0.0.1:9", retry=RetryPolicy(max_retries=3, base_delay=0.01))
    waits = counted(client)
    with pytest.raises(errors.APIConnectionError, match="Could not reach"):
        client.request("GET", "models")
    assert len(waits) == 3


@pytest.mark.parametrize("code, retried", [(400, False), (401, False), (403, False), (404, False), (408, True),
                                           (429, True), (500, True), (503, True), (504, True)])
def test_only_408_429_and_5xx_are_retried(client, emulator, code, retried):
    waits = counted(client)
    emulator.inject("status", code=code, match="models", times=10)
    with pytest.raises(errors.APIError):
        client.request("GET", "models")
    assert len(waits) == (3 if retried else 0)


def test_the_exception_map_covers_local_errors():
    import requests

    assert isinstance(map_request_exception(FileNotFoundError(2, "No such file"), "Sending"), errors.RequestError)
    timeout = map_request_exception(requests.ReadTimeout("read"), "Reading")
    assert isinstance(timeout, errors.APITimeoutError) and timeout.retryable is False
    connect = map_request_exception(requests.ConnectTimeout("connect"), "Reading")
    assert isinstance(connect, errors.APITimeoutError) and connect.retryable is True
    dropped = map_request_exception(requests.exceptions.ChunkedEncodingError("cut"), "Reading", secret="s3cr3t-key")
    assert isinstance(dropped, errors.APIConnectionError) and "Reading: ChunkedEncodingError: cut" == str(dropped)
    leaked = map_request_exception(requests.ConnectionError("to s3cr3t-key%2F"), "X", secret="s3cr3t-key/")
    assert "s3cr3t" not in str(leaked)


# --- one retry loop, for unary calls and streams ------------------------------------------------------

def test_attempts_retry_a_stream_only_before_data(client, emulator):
    """The loop the stream uses: retried while nothing was received, raised once something was."""
    transport = client.transport
    waits = counted(client)
    received: list = []
    outcomes = iter([errors.ServerError("first", status_code=503), errors.ServerError("second", status_code=503)])

    def receive():
        error = next(outcomes)
        if len(waits) == 1:
            received.append("chunk")  # the second try produces data, then fails
            yield "chunk"
        raise error

    got = []
    with pytest.raises(errors.ServerError, match="second"):
        for attempt in transport.attempts(retry=lambda error: not received):
            with attempt:
                for item in receive():
                    got.append(item)
    assert len(waits) == 1 and got == ["chunk"]


def test_retrying_returns_the_value_and_maps_foreign_exceptions(client):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionResetError("reset by peer")  # a connection failure: retried
        return "ok"

    def local():
        calls.append(1)
        raise PermissionError(13, "Permission denied", "/data/x.bin")  # a local error: never retried

    waits = counted(client)
    assert client.transport.retrying(flaky) == "ok" and len(waits) == 2
    calls.clear()
    with pytest.raises(errors.RequestError, match="Permission denied"):
        client.transport.retrying(local)
    assert len(calls) == 1 and len(waits) == 2


# --- the same through the magics: one UsageError, nothing sent ----------------------------------------

def test_magic_with_a_key_file_line_break_works(shell, emulator, monkeypatch, capsys):
    monkeypatch.setenv("GOOGLE_API_KEY", TEST_KEY + "\r\n")
    shell.run_cell_magic("gemini", "--no-stream", "Hello")
    assert emulator.requests[-1].headers["x-goog-api-key"] == TEST_KEY


def test_magic_with_a_broken_key_names_the_variable(shell, emulator, monkeypatch, capsys):
    from IPython.core.error import UsageError

    monkeypatch.setenv("GOOGLE_API_KEY", TEST_KEY[:12] + "\n" + TEST_KEY[12:])
    with pytest.raises(UsageError, match=r"\$GOOGLE_API_KEY has a line break inside") as caught:
        shell.run_cell_magic("gemini", "", "Hello")
    shown = str(caught.value) + capsys.readouterr().out
    assert TEST_KEY[:12] not in shown and TEST_KEY[12:] not in shown
    assert emulator.requests == []


@pytest.mark.parametrize("url", ["htp://127.0.0.1:9", "ftp://x", "http://[::1"])
def test_magic_with_a_malformed_base_url_in_the_environment_fails_at_once(shell, emulator, monkeypatch, url):
    from IPython.core.error import UsageError

    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", url)
    started = time.monotonic()
    with pytest.raises(UsageError, match=r"\$GOOGLE_GEMINI_BASE_URL"):
        shell.run_cell_magic("gemini", "", "Hello")
    assert time.monotonic() - started < 1.0 and emulator.requests == []


def test_magic_upload_of_a_text_mode_file_object_says_binary(shell, emulator, tmp_path):
    from IPython.core.error import UsageError

    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with open(path) as handle:
        shell.user_ns["handle"] = handle
        with pytest.raises(UsageError, match=r"open it in binary mode"):
            shell.run_line_magic("gemini_upload", "{handle} --mime text/plain")
    assert emulator.requests == []
