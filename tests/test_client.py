"""The REST layer over real loopback HTTP against the emulator: requests, streaming, errors, retries, the key."""

from __future__ import annotations

import logging
import time

import pytest

from conftest import TEST_KEY
from gemini_magic import Client, RetryPolicy, errors
from gemini_magic.constants import EMULATOR_MARKER


def test_generate_describes_the_prompt(client, emulator):
    response = client.generate("gemini-2.5-flash", "Name the capital of Poland.", temperature=0.3)
    assert response.text.startswith(EMULATOR_MARKER)
    assert "Name the capital of Poland." in response.text
    assert response.finish_reason == "STOP" and not response.incomplete
    assert response.model_version.endswith("-emulator")
    sent = emulator.requests[-1]
    assert sent.json["generationConfig"] == {"temperature": 0.3}
    assert sent.json["contents"] == [{"role": "user", "parts": [{"text": "Name the capital of Poland."}]}]


def test_stream_many_chunks_running_usage(client, emulator):
    stream = client.stream("gemini-2.5-flash", "Tell me something in Markdown.", system="Be brief.")
    chunks = list(stream)
    response = stream.response
    assert len(chunks) >= 20
    assert "".join(c.text for c in chunks) == response.text
    assert [c.finish_reason for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert chunks[-1].finish_reason == "STOP"
    assert response.usage == chunks[-1].usage
    assert response.usage["candidatesTokenCount"] >= chunks[0].usage["candidatesTokenCount"]
    assert emulator.requests[-1].query.get("alt") == "sse"
    assert emulator.requests[-1].json["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert response.time_to_first_chunk is not None and response.elapsed >= response.time_to_first_chunk


def test_count_tokens_matches_prompt_tokens(client):
    count = client.count_tokens("gemini-2.5-flash", "How many tokens is this?")
    response = client.generate("gemini-2.5-flash", "How many tokens is this?")
    assert count.total == response.usage["promptTokenCount"] > 0


def test_models_all_pages_and_get(client, emulator):
    from gemini_magic.constants import MODEL_CATALOGUE

    models = client.list_models(page_size=2)
    assert [m.id for m in models] == [entry[0] for entry in MODEL_CATALOGUE]
    assert sum(1 for r in emulator.requests if r.path.endswith("/models")) == -(-len(MODEL_CATALOGUE) // 2)
    model = client.get_model("gemini-2.5-pro")
    assert model.input_token_limit == 1048576 and "generateContent" in model.supported_methods


def test_request_reaches_any_method(client):
    data = client.request("GET", "models/gemini-2.5-flash")
    assert data["name"] == "models/gemini-2.5-flash"


@pytest.mark.parametrize("status, cls", [
    (400, errors.BadRequestError), (401, errors.AuthenticationError), (403, errors.PermissionDeniedError),
    (404, errors.NotFoundError), (429, errors.RateLimitError), (500, errors.ServerError),
    (503, errors.ServerError), (409, errors.APIError),
])
def test_error_mapping_per_status(emulator, status, cls):
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, max_retries=0)
    emulator.inject("status", code=status, message=f"failure {status}", match="generate")
    with pytest.raises(cls) as caught:
        client.generate("gemini-2.5-flash", "hi")
    assert caught.value.status_code == status and caught.value.message == f"failure {status}"


def test_non_json_error_body_falls_back_to_text(emulator):
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, max_retries=0)
    emulator.inject("status", code=502, body="<html><body>Bad Gateway</body></html>", content_type="text/html",
                    match="generate")
    with pytest.raises(errors.ServerError, match="Bad Gateway"):
        client.generate("gemini-2.5-flash", "hi")


def test_unknown_model_is_not_found(client):
    with pytest.raises(errors.NotFoundError, match="not found"):
        client.generate("gemini-9-imaginary", "hi")


def test_retry_honours_retry_info_delay(client, emulator):
    emulator.inject("status", code=429, retry_delay="0.4s", match="generate")
    started = time.monotonic()
    response = client.generate("gemini-2.5-flash", "hi")
    assert time.monotonic() - started >= 0.4
    assert response.finish_reason == "STOP"
    assert sum(1 for r in emulator.requests if r.path.endswith(":generateContent")) == 2


def test_retry_honours_retry_after_header(client, emulator):
    emulator.inject("status", code=503, retry_after=1, match="generate")
    started = time.monotonic()
    client.generate("gemini-2.5-flash", "hi")
    assert time.monotonic() - started >= 1.0


def test_retries_are_bounded(emulator):
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url,
                    retry=RetryPolicy(max_retries=2, base_delay=0.01))
    emulator.inject("status", code=500, match="generate", times=10)
    with pytest.raises(errors.ServerError):
        client.generate("gemini-2.5-flash", "hi")
    assert sum(1 for r in emulator.requests if r.path.endswith(":generateContent")) == 3


def test_retry_total_time_is_bounded(emulator):
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url,
                    retry=RetryPolicy(max_retries=5, max_total_seconds=1.0))
    emulator.inject("status", code=429, retry_delay="30s", match="generate")
    started = time.monotonic()
    with pytest.raises(errors.RateLimitError) as caught:
        client.generate("gemini-2.5-flash", "hi")
    assert time.monotonic() - started < 1.0 and caught.value.retry_delay == 30.0


def test_daily_quota_is_not_retried(client, emulator):
    emulator.inject("status", code=429, quota_id="GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                    match="generate", times=5)
    with pytest.raises(errors.RateLimitError) as caught:
        client.generate("gemini-2.5-flash", "hi")
    assert caught.value.is_daily_quota
    assert sum(1 for r in emulator.requests if r.path.endswith(":generateContent")) == 1


def test_bad_request_is_not_retried(client, emulator):
    emulator.inject("status", code=400, match="generate", times=5)
    with pytest.raises(errors.BadRequestError):
        client.generate("gemini-2.5-flash", "hi")
    assert sum(1 for r in emulator.requests if r.path.endswith(":generateContent")) == 1


def test_dropped_connection_is_retried(client, emulator):
    emulator.inject("drop", match="generate")
    assert client.generate("gemini-2.5-flash", "hi").finish_reason == "STOP"


def test_connection_refused_is_a_connection_error():
    client = Client(api_key=TEST_KEY, base_url="http://127.0.0.1:9", retry=RetryPolicy(max_retries=1, base_delay=0.01))
    with pytest.raises(errors.APIConnectionError) as caught:
        client.generate("gemini-2.5-flash", "hi")
    assert TEST_KEY not in str(caught.value)


def test_read_timeout_is_a_timeout_error(emulator):
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, timeout=(2.0, 0.3), max_retries=0)
    emulator.inject("slow", delay=1.0, match="generate")
    with pytest.raises(errors.APITimeoutError):
        client.generate("gemini-2.5-flash", "hi")


def test_stream_retried_before_any_data(client, emulator):
    emulator.inject("status", code=503, match="stream")
    response = client.stream("gemini-2.5-flash", "hi").until_done()
    assert response.finish_reason == "STOP"


def test_stream_never_retried_after_data(client, emulator):
    emulator.inject("drop_after", chunks=3, match="stream")
    stream = client.stream("gemini-2.5-flash", "hi")
    with pytest.raises(errors.APIConnectionError, match="after 3 chunk"):
        stream.until_done()
    assert len(stream.response.raw) == 3 and stream.response.incomplete
    assert sum(1 for r in emulator.requests if r.path.endswith(":streamGenerateContent")) == 1


def test_error_mid_stream_keeps_partial(client, emulator):
    emulator.inject("error_mid_stream", chunks=2, code=500, match="stream")
    stream = client.stream("gemini-2.5-flash", "hi")
    with pytest.raises(errors.ServerError) as caught:
        stream.until_done()
    assert caught.value.response.text and caught.value.response.incomplete
    assert caught.value.response is stream.response


def test_stream_cut_without_finish_reason_is_incomplete(client, emulator):
    emulator.inject("cut", chunks=4, match="stream")
    response = client.stream("gemini-2.5-flash", "hi").until_done()
    assert response.incomplete and response.finish_reason is None and len(response.raw) == 4


def test_blocked_prompt(client, emulator):
    emulator.inject("block_prompt", reason="SAFETY", match="stream")
    response = client.stream("gemini-2.5-flash", "hi").until_done()
    assert response.block_reason == "SAFETY" and response.text == "" and not response.incomplete
    with pytest.raises(errors.PromptBlockedError):
        response.json()


@pytest.mark.parametrize("reason", ["SAFETY", "RECITATION", "MAX_TOKENS"])
def test_finish_reasons(client, emulator, reason):
    emulator.inject("finish", reason=reason, chunks=3, match="stream")
    response = client.stream("gemini-2.5-flash", "hi").until_done()
    assert response.finish_reason == reason and response.text


def test_thoughts_are_separate_from_text(client):
    response = client.stream("gemini-2.5-flash", "Think first.", thinking_config={"includeThoughts": True}).until_done()
    assert response.thoughts and response.thoughts not in response.text
    assert response.usage.get("thoughtsTokenCount", 0) > 0


def test_candidates_all_reachable(client):
    response = client.generate("gemini-2.5-flash", "Two answers.", candidate_count=2)
    assert [c.index for c in response.candidates] == [0, 1]
    assert response.candidates[1].text != response.candidates[0].text


def test_json_answer(client):
    response = client.generate("gemini-2.5-flash", "Facts as JSON", response_mime_type="application/json")
    assert response.json()["prompt"] == "Facts as JSON"


# --- the key ----------------------------------------------------------------------------------------

def test_missing_key_names_both_variables():
    with pytest.raises(errors.MissingAPIKeyError) as caught:
        Client()
    message = str(caught.value)
    assert "GOOGLE_API_KEY" in message and "GEMINI_API_KEY" in message and "getpass" in message


def test_key_from_environment_in_order(monkeypatch, emulator):
    monkeypatch.setenv("GEMINI_API_KEY", "second-key")
    assert Client(base_url=emulator.base_url).key_source == "GEMINI_API_KEY"
    monkeypatch.setenv("GOOGLE_API_KEY", "first-key")
    client = Client(base_url=emulator.base_url)
    assert client.key_source == "GOOGLE_API_KEY"
    client.generate("gemini-2.5-flash", "hi")
    assert emulator.requests[-1].headers["x-goog-api-key"] == "first-key"


def test_base_url_from_environment(monkeypatch, emulator):
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.base_url)
    client = Client(api_key=TEST_KEY)
    assert client.base_url == emulator.base_url
    assert client.generate("gemini-2.5-flash", "hi").text


def test_key_only_in_header_never_in_url_repr_log_or_error(client, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    client.generate("gemini-2.5-flash", "hi")
    list(client.stream("gemini-2.5-flash", "hi"))
    client.count_tokens("gemini-2.5-flash", "hi")
    client.list_models()
    emulator.inject("status", code=500, match="generate", times=10)
    with pytest.raises(errors.ServerError) as caught:
        client.generate("gemini-2.5-flash", "hi")
    for request in emulator.requests:
        assert request.headers["x-goog-api-key"] == TEST_KEY
        assert TEST_KEY not in request.path and TEST_KEY not in str(request.query)
        assert TEST_KEY not in request.body.decode("utf-8", "replace")
    assert TEST_KEY not in repr(client) and TEST_KEY not in repr(client.transport)
    assert TEST_KEY not in caplog.text
    assert TEST_KEY not in str(caught.value) and TEST_KEY not in repr(caught.value)


def test_key_echoed_by_the_server_is_redacted(emulator):
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, max_retries=0)
    emulator.inject("status", code=400, message=f"API key {TEST_KEY} is not valid", match="generate")
    with pytest.raises(errors.BadRequestError) as caught:
        client.generate("gemini-2.5-flash", "hi")
    assert TEST_KEY not in str(caught.value) and "[REDACTED]" in str(caught.value)


def test_emulator_rejects_key_in_url(emulator):
    """The emulator refuses ?key=, so a client that put it there would fail every test."""
    import requests

    reply = requests.get(f"{emulator.base_url}/v1beta/models", params={"key": "abc"}, timeout=5)
    assert reply.status_code == 400


def test_key_in_a_mid_stream_error_is_redacted(client, emulator):
    emulator.inject("error_mid_stream", chunks=1, code=500, message=f"internal failure for key {TEST_KEY}",
                    match="stream")
    with pytest.raises(errors.ServerError) as caught:
        client.stream("gemini-2.5-flash", "hi").until_done()
    assert TEST_KEY not in str(caught.value) and TEST_KEY not in caught.value.message
    assert "[REDACTED]" in caught.value.message


def test_stream_read_timeout_is_a_timeout_and_not_retried(emulator):
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, timeout=(2.0, 0.3))
    emulator.inject("slow", delay=1.0, match="stream")
    started = time.monotonic()
    with pytest.raises(errors.APITimeoutError):
        client.stream("gemini-2.5-flash", "hi").until_done()
    assert time.monotonic() - started < 1.0
    assert sum(1 for r in emulator.requests if r.path.endswith(":streamGenerateContent")) == 1
