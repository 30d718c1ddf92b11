"""What counts as an API error (only Google's error object, alone or list-wrapped), read the same way on
every path; and the emulator's side: its request log hides the key, text-like parts count as text."""

from __future__ import annotations

import json
import math
import time
import urllib.request

import pytest

from conftest import TEST_KEY
from gemini_magic import errors
from gemini_magic.errors import api_error, google_error
from gemini_magic.wire.decode import decode_json
from gemini_magic.wire.transport import is_retryable
from test_hardening_keys import EchoServer

RETRY_INFO = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.02s"}
DAILY = {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
         "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}
HELP = {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Docs", "url": "https://ai.google.dev"}]}
INFO = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}


def error_object(code=429, status="RESOURCE_EXHAUSTED", message="Quota exceeded", details=()):
    return {"error": {"code": code, "message": message, "status": status, "details": list(details)}}


@pytest.mark.parametrize("payload, found", [
    (error_object(), True),
    ([error_object()], True),
    ({"error": {"message": "only a message"}}, True),
    ({"candidates": []}, False),
    ([{"candidates": []}, {"candidates": []}], False),
    ({"name": "batches/1", "done": True, "error": {"code": 3, "message": "row failed"}}, False),  # an Operation
    ({"error": "a string"}, False),
    ("error", False),
    (None, False),
])
def test_only_google_error_objects_are_api_errors(payload, found):
    assert (google_error(payload) is not None) is found
    assert (api_error(payload) is not None) is found


def test_every_detail_is_read_the_same_way_in_both_wrappings():
    for payload in (error_object(details=[RETRY_INFO, HELP]), [error_object(details=[RETRY_INFO, HELP])]):
        error = api_error(payload)
        assert isinstance(error, errors.RateLimitError) and error.retry_delay == 0.02
        assert error.help_links == [{"description": "Docs", "url": "https://ai.google.dev"}]
        assert is_retryable(error)
    daily = api_error([error_object(details=[DAILY])])
    assert daily.is_daily_quota and not is_retryable(daily)
    auth = api_error(error_object(400, "INVALID_ARGUMENT", "API key not valid", [INFO]))
    assert isinstance(auth, errors.AuthenticationError) and auth.reason == "API_KEY_INVALID"


@pytest.mark.parametrize("status, cls", [("RESOURCE_EXHAUSTED", errors.RateLimitError), ("NOT_FOUND", errors.NotFoundError),
                                         ("UNAVAILABLE", errors.ServerError), ("PERMISSION_DENIED", errors.PermissionDeniedError),
                                         ("INVALID_ARGUMENT", errors.BadRequestError)])
def test_an_error_with_a_status_but_no_code_gets_its_class(status, cls):
    error = api_error({"error": {"status": status, "message": "m"}})
    assert type(error) is cls and error.status == status


def test_a_200_body_that_is_an_error_object_raises_it_and_an_answer_decodes():
    with pytest.raises(errors.RateLimitError, match="Quota exceeded"):
        decode_json(json.dumps([error_object(details=[RETRY_INFO])]).encode())
    assert decode_json(b'[{"candidates": []}]') == [{"candidates": []}]
    with pytest.raises(errors.StreamProtocolError, match="not JSON"):
        decode_json(b"<html>proxy error</html>")


def test_a_list_wrapped_429_is_retried_after_its_retry_info(client):
    answers = iter([(429, "application/json", json.dumps([error_object(details=[RETRY_INFO])]).encode())] * 2
                   + [(200, "application/json", b'{"models": []}')])
    with EchoServer(lambda handler: next(answers)) as server:
        from gemini_magic import Client, RetryPolicy

        echo = Client(api_key=TEST_KEY, base_url=server.base_url, retry=RetryPolicy(max_retries=3, base_delay=0.001))
        waits: list = []
        echo.transport.sleep = waits.append
        assert echo.request("GET", "models") == {"models": []}
    assert len(waits) == 2 and all(w >= 0.02 for w in waits)


def test_a_list_wrapped_daily_quota_is_not_retried():
    body = json.dumps([error_object(details=[DAILY, RETRY_INFO])]).encode()
    with EchoServer(lambda handler: (429, "application/json", body)) as server:
        from gemini_magic import Client

        echo = Client(api_key=TEST_KEY, base_url=server.base_url)
        waits: list = []
        echo.transport.sleep = waits.append
        with pytest.raises(errors.RateLimitError) as caught:
            echo.request("GET", "models")
    assert caught.value.is_daily_quota and waits == [] and len(server.requests) == 1


def test_an_error_mid_stream_is_read_with_its_details(client, emulator):
    chunk = {"candidates": [{"content": {"role": "model", "parts": [{"text": "So far"}]}}]}
    error = json.dumps(error_object(503, "UNAVAILABLE", "Overloaded", [RETRY_INFO]))
    emulator.replay(f"data: {json.dumps(chunk)}\n\ndata: {error}\n\n".encode(), match="stream")
    stream = client.stream("gemini-2.5-flash", "hi")
    with pytest.raises(errors.ServerError, match="Overloaded") as caught:
        for _ in stream:
            pass
    assert caught.value.retry_delay == 0.02 and caught.value.status == "UNAVAILABLE"
    assert stream.response.text == "So far"


# --- the emulator -------------------------------------------------------------------------------------

def test_the_emulator_request_log_hides_the_key(client, emulator):
    client.list_models()
    with urllib.request.urlopen(emulator.base_url + "/emulator/requests", timeout=10) as reply:
        text = reply.read().decode()
    logged = json.loads(text)
    assert logged and logged[0]["headers"]["x-goog-api-key"] == "[REDACTED]"
    assert TEST_KEY not in text


@pytest.mark.parametrize("mime", ["text/csv", "application/json", "text/plain", "text/markdown", "application/xml"])
def test_the_emulator_counts_text_like_parts_as_text(client, mime):
    data = ("id,value\n" + "".join(f"{i},{i * i}\n" for i in range(3000))).encode()
    part = {"inlineData": {"mimeType": mime, "data": __import__("base64").b64encode(data).decode()}}
    count = client.count_tokens("gemini-2.5-flash", [part])
    assert count.total == math.ceil(len(data) / 4)
    assert [d["modality"] for d in count.details] == ["TEXT"]


def test_the_emulator_still_counts_media_as_media(client):
    data = bytes(5000)
    part = {"inlineData": {"mimeType": "audio/wav", "data": __import__("base64").b64encode(data).decode()}}
    count = client.count_tokens("gemini-2.5-flash", [part])
    assert count.total == 5 and count.details[0]["modality"] == "AUDIO"


# --- a JSON-array answer under an SSE content type ------------------------------------------------------

CHUNKS = [{"candidates": [{"content": {"role": "model", "parts": [{"text": "Hello "}]}}]},
          {"candidates": [{"content": {"role": "model", "parts": [{"text": "world"}]}, "finishReason": "STOP"}]}]


@pytest.mark.parametrize("indent", [None, 2])
def test_a_json_array_answer_sent_as_an_event_stream_decodes(client, emulator, indent):
    emulator.replay(json.dumps(CHUNKS, indent=indent).encode(), match="stream", content_type="text/event-stream")
    response = client.stream("gemini-2.5-flash", "hi").until_done()
    assert response.text == "Hello world" and response.finish_reason == "STOP"
    assert response.raw == CHUNKS and response.error is None


def test_a_list_wrapped_error_sent_as_an_event_stream_is_the_api_error(client, emulator):
    body = json.dumps([error_object(400, "INVALID_ARGUMENT", "Bad field")]).encode()
    emulator.replay(body, match="stream", content_type="text/event-stream")
    with pytest.raises(errors.BadRequestError, match="Bad field"):
        client.stream("gemini-2.5-flash", "hi").until_done()


def test_json_that_is_not_an_answer_is_a_protocol_error_keeping_what_arrived(client, emulator):
    emulator.replay(b'data: [1, 2, 3]\n\n', match="stream", content_type="text/event-stream")
    with pytest.raises(errors.StreamProtocolError, match=r"not an answer: '\[1, 2, 3\]'"):
        client.stream("gemini-2.5-flash", "hi").until_done()


def test_a_host_name_that_does_not_resolve_fails_at_once_without_retries():
    from gemini_magic import Client, RetryPolicy
    from gemini_magic.errors import APIConnectionError

    client = Client(api_key="AIzaFAKEfake0123456789abcdefghijklmnopq", base_url="http://no-such-host.invalid",
                    retry=RetryPolicy(max_retries=4, base_delay=1.0, cap_delay=1.0))
    started = time.monotonic()
    with pytest.raises(APIConnectionError, match="host name could not be resolved") as caught:
        client.generate("gemini-2.5-flash", "hi")
    assert time.monotonic() - started < 1.0         # one try: four retries would wait 4 s at least
    assert "AIza" not in str(caught.value)
