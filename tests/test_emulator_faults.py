"""Scripted faults, replays and the HTTP control endpoints, observed on the wire."""

from __future__ import annotations

import base64
import http.client
import json
import time
from pathlib import Path

import pytest

from gemini_magic.constants import EMULATOR_MARKER

try:
    from .test_emulator_support import (COUNT, GENERATE, STREAM_ARRAY, STREAM_SSE, answer_text, call, running_emulator,
                                        raw_request, sse_events, text_request)
except ImportError:
    from test_emulator_support import (COUNT, GENERATE, STREAM_ARRAY, STREAM_SSE, answer_text, call, running_emulator,
                                       raw_request, sse_events, text_request)


@pytest.fixture
def emu():
    yield from running_emulator()

SHARED = Path(__file__).resolve().parents[2] / "shared"


def test_status_429_carries_retry_and_quota_details(emu):
    emu.inject("status", match="generate", code=429, retry_after=3, retry_delay="2s",
               quota_id="GenerateRequestsPerDayPerProjectPerModel-FreeTier")
    reply = call(emu, "POST", GENERATE, text_request())
    assert reply.status == 429 and reply.headers["retry-after"] == "3"
    error = reply.error()
    assert error["status"] == "RESOURCE_EXHAUSTED" and "quota" in error["message"]
    types = [d["@type"].rsplit(".", 1)[1] for d in error["details"]]
    assert types == ["QuotaFailure", "Help", "RetryInfo"]
    violation = error["details"][0]["violations"][0]
    assert violation["quotaId"] == "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    assert violation["quotaDimensions"] == {"location": "global", "model": "gemini-2.5-flash"}
    assert violation["quotaMetric"].startswith("generativelanguage.googleapis.com/")
    assert isinstance(violation["quotaValue"], str)
    assert error["details"][2]["retryDelay"] == "2s"
    assert call(emu, "POST", GENERATE, text_request()).status == 200  # one-shot


@pytest.mark.parametrize("code, status", [(500, "INTERNAL"), (503, "UNAVAILABLE"), (504, "DEADLINE_EXCEEDED"),
                                          (401, "UNAUTHENTICATED"), (400, "INVALID_ARGUMENT")])
def test_status_defaults_follow_the_code(emu, code, status):
    emu.inject("status", code=code)
    error = call(emu, "GET", "/v1beta/models").error()
    assert error["code"] == code and error["status"] == status and error["message"]
    assert "details" not in error


def test_status_with_a_raw_body_and_custom_message(emu):
    emu.inject("status", code=502, body="<html><body>Bad Gateway</body></html>", content_type="text/html")
    emu.inject("status", code=503, message="Try later", status="UNAVAILABLE")
    html = call(emu, "GET", "/v1beta/models")
    assert html.status == 502 and html.headers["content-type"] == "text/html"
    assert html.body == b"<html><body>Bad Gateway</body></html>"
    assert call(emu, "GET", "/v1beta/models").error()["message"] == "Try later"


def test_faults_match_their_category_in_fifo_order_and_repeat(emu):
    emu.inject("status", match="stream", code=503)
    emu.inject("status", match="count", code=500, times=2)
    assert call(emu, "GET", "/v1beta/models").status == 200
    assert call(emu, "POST", GENERATE, text_request()).status == 200
    assert call(emu, "POST", COUNT, {"contents": [{"parts": [{"text": "x"}]}]}).status == 500
    assert call(emu, "POST", COUNT, {"contents": [{"parts": [{"text": "x"}]}]}).status == 500
    assert call(emu, "POST", COUNT, {"contents": [{"parts": [{"text": "x"}]}]}).status == 200
    assert raw_request(emu, "POST", STREAM_SSE, text_request()).status == 503
    assert emu.pending() == 0


def test_stream_faults_wait_for_a_stream(emu):
    emu.inject("cut", chunks=2)
    assert call(emu, "POST", GENERATE, text_request()).json["candidates"][0]["finishReason"] == "STOP"
    assert emu.pending() == 1
    events = sse_events(raw_request(emu, "POST", STREAM_SSE, text_request()).body)
    assert len(events) == 2


def test_unknown_fault_kind_or_match_is_refused(emu):
    with pytest.raises(ValueError, match="unknown fault kind"):
        emu.inject("explode")
    with pytest.raises(ValueError, match="unknown match"):
        emu.inject("drop", match="everything")


def test_drop_closes_without_a_response(emu):
    emu.inject("drop", match="generate")
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    connection.request("POST", GENERATE, body=json.dumps(text_request()),
                       headers={"x-goog-api-key": "k", "Content-Type": "application/json"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        connection.getresponse()
    connection.close()
    assert call(emu, "POST", GENERATE, text_request()).status == 200


def test_drop_after_stops_without_the_terminating_chunk(emu):
    emu.inject("drop_after", chunks=5)
    wire = raw_request(emu, "POST", STREAM_SSE, text_request())
    assert wire.status == 200 and not wire.terminated
    events = sse_events(wire.body)
    assert len(events) == 5 and not any("finishReason" in e["candidates"][0] for e in events)


def test_error_mid_stream_is_raw_multiline_json_then_a_clean_end(emu):
    emu.inject("error_mid_stream", chunks=3, code=503)
    wire = raw_request(emu, "POST", STREAM_SSE, text_request())
    assert wire.status == 200 and wire.terminated
    events = sse_events(b"".join(wire.chunks[:3]))
    assert len(events) == 3
    tail = wire.chunks[3].decode()
    assert not tail.startswith("data:") and tail.count("\n") > 3
    error = json.loads(tail)["error"]
    assert error["code"] == 503 and error["status"] == "UNAVAILABLE"


def test_error_mid_stream_in_a_json_array_keeps_the_array_valid(emu):
    emu.inject("error_mid_stream", chunks=2)
    wire = raw_request(emu, "POST", STREAM_ARRAY, text_request())
    elements = json.loads(wire.body)
    assert len(elements) == 3 and elements[-1]["error"]["status"] == "INTERNAL"


def test_cut_ends_cleanly_with_no_finish_reason(emu):
    emu.inject("cut")
    wire = raw_request(emu, "POST", STREAM_SSE, text_request())
    assert wire.terminated
    events = sse_events(wire.body)
    full = sse_events(raw_request(emu, "POST", STREAM_SSE, text_request()).body)
    assert len(events) == len(full) // 2
    assert b"finishReason" not in wire.body


def test_slow_delays_a_unary_answer(emu):
    emu.inject("slow", match="generate", delay=0.3)
    started = time.monotonic()
    assert call(emu, "POST", GENERATE, text_request()).status == 200
    assert time.monotonic() - started >= 0.3
    emu.inject("slow", match="stream", delay=0.02)
    wire = raw_request(emu, "POST", STREAM_SSE, text_request(maxOutputTokens=40))
    assert wire.arrival[-1] - wire.arrival[0] >= (len(wire.chunks) - 1) * 0.02 * 0.9


def test_block_prompt_has_no_candidates(emu):
    emu.inject("block_prompt", match="generate")
    body = call(emu, "POST", GENERATE, text_request()).json
    assert "candidates" not in body
    assert body["promptFeedback"]["blockReason"] == "SAFETY"
    assert any(r["probability"] == "HIGH" for r in body["promptFeedback"]["safetyRatings"])
    assert body["usageMetadata"]["promptTokenCount"] == body["usageMetadata"]["totalTokenCount"] > 0
    emu.inject("block_prompt", reason="PROHIBITED_CONTENT")
    events = sse_events(raw_request(emu, "POST", STREAM_SSE, text_request()).body)
    assert len(events) == 1 and events[0]["promptFeedback"]["blockReason"] == "PROHIBITED_CONTENT"


def test_finish_safety_ends_early_with_a_blocked_rating(emu):
    emu.inject("finish", reason="SAFETY", chunks=4)
    events = sse_events(raw_request(emu, "POST", STREAM_SSE, text_request()).body)
    assert len(events) == 4
    last = events[-1]["candidates"][0]
    assert last["finishReason"] == "SAFETY" and last["index"] == 0
    assert [r for r in last["safetyRatings"] if r.get("blocked")] == [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]
    assert not any("finishReason" in e["candidates"][0] for e in events[:-1])


def test_finish_recitation_cites_byte_offsets(emu):
    prompt = "Grüße aus Köln — 東京"
    emu.inject("finish", match="generate", reason="RECITATION", chunks=12)
    body = call(emu, "POST", GENERATE, text_request(prompt)).json
    candidate = body["candidates"][0]
    text = answer_text(body)
    assert candidate["finishReason"] == "RECITATION" and prompt in text
    source = candidate["citationMetadata"]["citationSources"][0]
    assert source["uri"].startswith("https://")
    cited = text.encode("utf-8")[source["startIndex"]:source["endIndex"]].decode("utf-8")
    assert cited and text.endswith(cited)
    assert source["endIndex"] == len(text.encode("utf-8")) != len(text)  # bytes, not characters


def test_finish_max_tokens_defaults_to_half_the_answer(emu):
    full = answer_text(call(emu, "POST", GENERATE, text_request()).json)
    emu.inject("finish", reason="MAX_TOKENS")
    body = call(emu, "POST", GENERATE, text_request()).json
    text = answer_text(body)
    assert body["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert full.startswith(text) and 0 < len(text) < len(full)


def test_thoughts_fault_forces_thought_parts(emu):
    emu.inject("thoughts")
    events = sse_events(raw_request(emu, "POST", STREAM_SSE, text_request()).body)
    assert [e["candidates"][0]["content"]["parts"][0].get("thought") for e in events[:3]] == [True] * 3
    assert events[-1]["usageMetadata"]["thoughtsTokenCount"] > 0


def test_replay_serves_exact_bytes_in_pieces(emu):
    recording = SHARED / "recordings" / "stream_sse" / "adk_gemini-2.5-flash_multichunk.sse"
    body = recording.read_bytes() if recording.exists() else b'data: {"candidates": []}\r\n\r\n' * 20
    emu.replay(body, chunk_size=100, match="stream", headers={"X-Recorded": "yes"})
    assert call(emu, "POST", GENERATE, text_request()).status == 200  # not a stream: not consumed
    wire = raw_request(emu, "POST", STREAM_SSE, text_request())
    assert wire.body == body and wire.terminated
    assert [len(c) for c in wire.chunks[:-1]] == [100] * (len(wire.chunks) - 1)
    assert wire.headers["content-type"] == "text/event-stream" and wire.headers["x-recorded"] == "yes"
    emu.replay(b'{"error": {"code": 500}}', status=500, content_type="application/json")
    assert call(emu, "GET", "/v1beta/models").status == 500


def test_http_control_endpoints(emu):
    def control(method, path, body=None):
        return call(emu, method, path, body, key=None)

    assert control("POST", "/emulator/faults", {"kind": "status", "match": "models", "code": 503}).status == 200
    assert call(emu, "GET", "/v1beta/models").status == 503
    assert control("POST", "/emulator/faults", {"kind": "nonsense"}).status == 400
    payload = base64.b64encode(b'data: {"x": 1}\r\n\r\n').decode()
    assert control("POST", "/emulator/replay", {"body": payload, "match": "stream"}).status == 200
    assert raw_request(emu, "POST", STREAM_SSE, text_request()).body == b'data: {"x": 1}\r\n\r\n'
    assert control("POST", "/emulator/config", {"pace": 0.01}).json["pace"] == 0.01
    assert emu.pace == 0.01
    answered = call(emu, "POST", GENERATE, text_request()).json["responseId"]
    big = "Q" * 70000
    call(emu, "POST", GENERATE, {"contents": [{"parts": [{"text": "hi"},
                                                         {"inlineData": {"mimeType": "x/y", "data": big}}]}]})
    logged = control("GET", "/emulator/requests").json
    assert [r["path"] for r in logged][:2] == ["/v1beta/models", STREAM_SSE.split("?")[0]]
    assert logged[0]["response_id"] is None and logged[-2]["response_id"] == answered  # answer → request
    assert logged[-1]["body"] is None and "bytes" in logged[-1]["body_summary"]
    shortened = logged[-1]["json"]["contents"][0]["parts"][1]["inlineData"]["data"]
    assert len(shortened) < 200 and "70,000 characters" in shortened
    assert logged[0]["headers"]["x-goog-api-key"]
    assert control("POST", "/emulator/reset").status == 200
    assert control("GET", "/emulator/requests").json == []
    assert control("GET", "/emulator/nothing").status == 404


def test_every_answer_is_labelled(emu):
    text = answer_text(call(emu, "POST", GENERATE, text_request()).json)
    assert text.startswith(EMULATOR_MARKER + " gemini-2.5-flash was not asked: the local emulator echoes")


def test_wire_faults_before_the_first_event_keep_the_array_valid(emu):
    emu.inject("cut", chunks=0)
    emu.inject("error_mid_stream", chunks=0, code=500)
    emu.inject("finish", reason="OTHER", chunks=0)
    assert json.loads(raw_request(emu, "POST", STREAM_ARRAY, text_request()).body) == []
    only_error = json.loads(raw_request(emu, "POST", STREAM_ARRAY, text_request()).body)
    assert [e["error"]["code"] for e in only_error] == [500]
    finished = json.loads(raw_request(emu, "POST", STREAM_ARRAY, text_request()).body)
    assert len(finished) == 1 and finished[0]["candidates"][0]["finishReason"] == "OTHER"
