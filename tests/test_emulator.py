"""The emulator over real loopback HTTP: models, generate, streams, tokens, validation, auth, CLI."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gemini_magic.constants import EMULATOR_MARKER, EMULATOR_MODEL_VERSION_SUFFIX, INLINE_REQUEST_LIMIT, \
    MODEL_CATALOGUE
from gemini_emulator import Emulator

try:
    from .test_emulator_support import (COUNT, GENERATE, KEY, STREAM_ARRAY, STREAM_SSE, answer_text, call, running_emulator,
                                        inline, raw_request, sse_events, text_request)
except ImportError:
    from test_emulator_support import (COUNT, GENERATE, KEY, STREAM_ARRAY, STREAM_SSE, answer_text, call, running_emulator,
                                       inline, raw_request, sse_events, text_request)


@pytest.fixture
def emu():
    yield from running_emulator()

ROOT = Path(__file__).resolve().parents[1]


def tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 4)


# -- models -----------------------------------------------------------------------------------------
def test_models_list_pages_through_the_whole_catalogue(emu):
    names, token, pages = [], None, 0
    while True:
        path = "/v1beta/models?pageSize=4" + (f"&pageToken={token}" if token else "")
        reply = call(emu, "GET", path)
        assert reply.status == 200
        names += [m["name"] for m in reply.json["models"]]
        pages += 1
        token = reply.json.get("nextPageToken")
        if not token:
            break
    assert names == [f"models/{row[0]}" for row in MODEL_CATALOGUE]
    assert pages == math.ceil(len(MODEL_CATALOGUE) / 4)
    everything = call(emu, "GET", "/v1beta/models").json
    assert "nextPageToken" not in everything and len(everything["models"]) == len(MODEL_CATALOGUE)


def test_get_model_fields_and_unknown_model(emu):
    model = call(emu, "GET", "/v1beta/models/gemini-2.5-flash").json
    assert model["name"] == "models/gemini-2.5-flash" and model["baseModelId"] == "gemini-2.5-flash"
    assert model["inputTokenLimit"] == 1048576 and model["thinking"] is True
    assert model["temperature"] == 1.0 and model["maxTemperature"] == 2.0 and model["topK"] == 64
    assert "emulat" in model["description"]
    assert call(emu, "GET", "/v1/models/gemini-2.0-flash").json["thinking"] is False
    missing = call(emu, "GET", "/v1beta/models/gemini-9")
    assert missing.status == 404 and missing.error()["status"] == "NOT_FOUND"


# -- generate ---------------------------------------------------------------------------------------
def test_generate_describes_the_prompt_and_labels_itself(emu):
    reply = call(emu, "POST", GENERATE, text_request("What is the capital of Poland? Łódź"))
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json; charset=UTF-8"
    assert reply.body.startswith(b'{\n  "candidates": [') and reply.body.endswith(b"}\n")
    body = reply.json
    text = answer_text(body)
    assert text.startswith(EMULATOR_MARKER)
    assert '**Prompt:** "What is the capital of Poland? Łódź"' in text
    assert text.startswith(f"{EMULATOR_MARKER} gemini-2.5-flash was not asked")
    assert "```python" not in text and len(text.splitlines()) == 3  # short: no sample unless asked for
    assert body["modelVersion"] == "gemini-2.5-flash" + EMULATOR_MODEL_VERSION_SUFFIX
    assert body["candidates"][0]["finishReason"] == "STOP" and body["candidates"][0]["index"] == 0
    usage = body["usageMetadata"]
    assert usage["promptTokenCount"] == tokens("What is the capital of Poland? Łódź")
    assert usage["candidatesTokenCount"] == tokens(text)
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"] \
        + usage["thoughtsTokenCount"]
    assert usage["promptTokensDetails"] == [{"modality": "TEXT", "tokenCount": usage["promptTokenCount"]}]
    assert body["responseId"]


def test_generate_echoes_system_turns_and_settings(emu):
    request = {
        "system_instruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "first question"}]},
            {"role": "model", "parts": [{"text": "first answer"}]},
            {"role": "user", "parts": [{"text": "second"}, {"text": "question"}]},
        ],
        "generation_config": {"temperature": 0.2, "seed": 7, "topK": 3},
    }
    text = answer_text(call(emu, "POST", GENERATE, request).json)
    assert '**System instruction:** "Be brief."' in text
    assert '**Prompt:** "second question"' in text
    assert "**Turns:** 3" in text
    assert "**Generation settings:** seed=7, temperature=0.2, topK=3" in text


def test_sse_stream_framing_usage_and_text(emu):
    request = text_request("Stream me some Markdown")
    unary_text = answer_text(call(emu, "POST", GENERATE, request).json)
    wire = raw_request(emu, "POST", STREAM_SSE, request)
    assert wire.status == 200 and wire.terminated
    assert wire.headers["content-type"] == "text/event-stream"  # no charset, like the service
    assert wire.headers["transfer-encoding"] == "chunked"
    assert all(chunk.startswith(b"data: ") and chunk.endswith(b"}\r\n\r\n") for chunk in wire.chunks)
    events = sse_events(wire.body)
    assert len(events) >= 40 and len(events) == len(wire.chunks)
    finishes = [e["candidates"][0].get("finishReason") for e in events]
    assert finishes[-1] == "STOP" and not any(finishes[:-1])
    so_far, previous = "", 0
    for event in events:
        so_far += answer_text(event)
        usage = event["usageMetadata"]
        assert usage["candidatesTokenCount"] == tokens(so_far) >= previous
        assert usage["totalTokenCount"] == usage["promptTokenCount"] + tokens(so_far) + usage["thoughtsTokenCount"]
        assert event["modelVersion"].endswith(EMULATOR_MODEL_VERSION_SUFFIX)
        assert event["responseId"] == events[0]["responseId"]
        previous = usage["candidatesTokenCount"]
    assert so_far == unary_text


def test_json_array_stream_has_the_recorded_shape(emu):
    wire = raw_request(emu, "POST", STREAM_ARRAY, text_request("Array of Markdown please"))
    assert wire.status == 200 and wire.terminated
    assert wire.headers["content-type"] == "application/json; charset=UTF-8"
    body = wire.body
    assert body.startswith(b"[{\n") and body.endswith(b"\n]") and b"\n,\r\n" in body
    assert len(wire.chunks) > 40  # streamed element by element, not in one piece
    elements = json.loads(body)
    assert len(elements) == body.count(b"\n,\r\n") + 1
    assert elements[-1]["candidates"][0]["finishReason"] == "STOP"
    text = "".join(answer_text(e) for e in elements)
    assert text == answer_text(call(emu, "POST", GENERATE, text_request("Array of Markdown please")).json)


def test_count_tokens_equals_prompt_token_count(emu, tiny_png):
    contents = [{"role": "user", "parts": [{"text": "Describe ünïcode"}, inline("image/png", tiny_png),
                                           inline("application/octet-stream", b"x" * 2500)]}]
    system = {"parts": [{"text": "You are terse."}]}
    counted = call(emu, "POST", COUNT, {"contents": contents}).json
    expected = tokens("Describe ünïcode") + 258 + 3
    assert counted["totalTokens"] == expected
    assert {"modality": "IMAGE", "tokenCount": 258} in counted["promptTokensDetails"]
    wrapped = call(emu, "POST", COUNT, {"generateContentRequest": {
        "model": "models/gemini-2.5-flash", "contents": contents, "systemInstruction": system}}).json
    generated = call(emu, "POST", GENERATE, {"contents": contents, "systemInstruction": system}).json
    assert wrapped["totalTokens"] == generated["usageMetadata"]["promptTokenCount"] == expected + tokens("You are terse.")
    assert wrapped["promptTokensDetails"] == generated["usageMetadata"]["promptTokensDetails"]


def test_include_thoughts_streams_thought_parts_first(emu):
    request = text_request("Think", thinkingConfig={"includeThoughts": True})
    events = sse_events(raw_request(emu, "POST", STREAM_SSE, request).body)
    thoughts = [e for e in events if e["candidates"][0]["content"]["parts"][0].get("thought")]
    assert len(thoughts) >= 3 and events[:len(thoughts)] == thoughts
    assert thoughts[0]["candidates"][0]["content"]["parts"][0]["text"].startswith("**Reading the prompt**\n\n")
    assert "candidatesTokenCount" not in thoughts[0]["usageMetadata"]
    counts = [e["usageMetadata"]["thoughtsTokenCount"] for e in events]
    assert counts == sorted(counts) and counts[-1] == counts[len(thoughts)] > 0
    unary = call(emu, "POST", GENERATE, request).json
    parts = unary["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True and parts[1]["text"].startswith(EMULATOR_MARKER)
    no_budget = call(emu, "POST", GENERATE, text_request("x", thinkingConfig={"thinkingBudget": 0})).json
    assert "thoughtsTokenCount" not in no_budget["usageMetadata"]
    old = call(emu, "POST", GENERATE.replace("gemini-2.5-flash", "gemini-2.0-flash"), text_request("x")).json
    assert "thoughtsTokenCount" not in old["usageMetadata"]


def test_candidate_count_gives_distinct_candidates(emu):
    body = call(emu, "POST", GENERATE, text_request("Three please", candidateCount=3)).json
    assert [c["index"] for c in body["candidates"]] == [0, 1, 2]
    texts = [answer_text(body, i) for i in range(3)]
    assert all(f"Candidate {i + 1} of 3" in texts[i] for i in range(3))
    assert len(set(texts)) == 3
    assert body["usageMetadata"]["candidatesTokenCount"] == sum(tokens(t) for t in texts)
    events = sse_events(raw_request(emu, "POST", STREAM_SSE, text_request("Three", candidateCount=3)).body)
    assert sorted(c["index"] for c in events[-1]["candidates"]) == [0, 1, 2]
    assert all(c["finishReason"] == "STOP" for c in events[-1]["candidates"])


def test_max_output_tokens_and_stop_sequences_cut_the_answer(emu):
    body = call(emu, "POST", GENERATE, text_request("Cut", maxOutputTokens=10)).json
    text = answer_text(body)
    assert body["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert text.startswith(EMULATOR_MARKER[:10]) and len(text.encode()) <= 40
    assert body["usageMetadata"]["candidatesTokenCount"] == tokens(text) <= 10
    stopped = call(emu, "POST", GENERATE, text_request("Stop the Markdown", stopSequences=["- A second point"])).json
    stopped_text = answer_text(stopped)
    assert stopped["candidates"][0]["finishReason"] == "STOP"
    # the echo of the settings names the stop sequence; the cut happens in the generated sample
    assert stopped_text.count("- A second point") == 1
    assert stopped_text.endswith("- The first point of a short bulleted list\n")


def test_json_mode_answers_valid_json_with_the_same_facts(emu):
    request = text_request("As JSON", responseMimeType="application/json",
                           responseSchema={"type": "OBJECT"})
    request["contents"][0]["parts"].append(inline("text/plain", b"a\nb\nc\n"))
    answer = json.loads(answer_text(call(emu, "POST", GENERATE, request).json))
    assert answer["emulator"].startswith(EMULATOR_MARKER)
    assert answer["prompt"] == "As JSON" and answer["model"] == "gemini-2.5-flash"
    assert answer["attachments"] == [{"mimeType": "text/plain", "bytes": 6, "description": "text, 3 lines"}]
    assert answer["generationConfig"]["responseMimeType"] == "application/json"
    streamed = sse_events(raw_request(emu, "POST", STREAM_SSE, request).body)
    assert json.loads("".join(answer_text(e) for e in streamed))["prompt"] == "As JSON"


def test_pace_spreads_the_stream_over_time():
    with Emulator(pace=0.05) as paced:
        wire = raw_request(paced, "POST", STREAM_SSE, text_request("slowly, in Markdown", maxOutputTokens=60))
    events = sse_events(wire.body)
    assert len(events) >= 8
    spread = wire.arrival[-1] - wire.arrival[0]
    assert spread >= (len(events) - 1) * 0.05 * 0.9  # events arrive one by one, not buffered
    gaps = [b - a for a, b in zip(wire.arrival, wire.arrival[1:])]
    assert min(gaps) > 0.03


def test_pace_can_change_while_running(emu):
    emu.pace = 0.03
    started = time.monotonic()
    events = sse_events(raw_request(emu, "POST", STREAM_SSE, text_request("x", maxOutputTokens=20)).body)
    assert time.monotonic() - started >= len(events) * 0.03 * 0.9


# -- validation -------------------------------------------------------------------------------------
VALIDATION_CASES = [
    (b"{not json", "Invalid JSON payload received", None),
    ({"contents": [{"parts": [{"text": "x"}]}], "bogus": 1}, 'Unknown name "bogus"', None),
    ({}, "* GenerateContentRequest.contents: contents is not specified", "contents"),
    ({"contents": []}, "contents is not specified", "contents"),
    ({"contents": "hello"}, "Invalid value at 'contents'", "contents"),
    ({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}, "Please use a valid role: user, model.",
     "contents[0].role"),
    ({"contents": [{"parts": [{"text": "a"}]}, {"parts": [{"text": "b"}]}]}, "role", "contents[0].role"),
    ({"contents": [{"role": "user"}]}, "contents.parts must not be empty", "contents[0].parts"),
    ({"contents": [{"role": "user", "parts": []}]}, "contents.parts must not be empty", "contents[0].parts"),
    ({"contents": [{"parts": [{"thought": True}]}]}, "required oneof field 'data'", "contents[0].parts[0].data"),
    ({"contents": [{"parts": [{"text": "a", "inlineData": {"mimeType": "a/b", "data": ""}}]}]},
     "oneof field 'data' is already set", "contents[0].parts[0]"),
    ({"contents": [{"parts": [{"text": "a"}, {"inlineData": {"data": "QUJD"}}]}]}, "mime_type",
     "contents[0].parts[1].inline_data.mime_type"),
    ({"contents": [{"parts": [{"text": "a"}, {"inline_data": {"mime_type": "image/png", "data": "a-_b"}}]}]},
     "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES), Base64 decoding failed for",
     "contents[0].parts[1].inline_data.data"),
    ({"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "QUJDRA"}}]}]},
     "Base64 decoding failed", "contents[0].parts[0].inline_data.data"),
    (text_request(temperature=2.5), "temperature", "generation_config.temperature"),
    (text_request(temperature=-0.1), "temperature", "generation_config.temperature"),
    (text_request(candidateCount=0), "candidate_count", "generation_config.candidate_count"),
    (text_request(candidateCount=9), "candidate_count", "generation_config.candidate_count"),
    (text_request(stopSequences=["a", "b", "c", "d", "e", "f"]), "stop_sequences",
     "generation_config.stop_sequences"),
    (text_request(includeThoughts=True), "Unknown name \"includeThoughts\" at 'generation_config'",
     "generation_config"),
]


@pytest.mark.parametrize("body, message, field", VALIDATION_CASES)
def test_invalid_requests_get_googles_400(emu, body, message, field):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    reply = call(emu, "POST", GENERATE, raw=raw)
    assert reply.status == 400
    error = reply.error()
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert message in error["message"]
    detail = error["details"][0]
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    fields = [v.get("field") for v in detail["fieldViolations"]]
    assert field in fields
    assert all(v["description"] for v in detail["fieldViolations"])


def test_request_over_the_inline_limit_is_refused(emu):
    big = "A" * (INLINE_REQUEST_LIMIT + 10)
    body = {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": big}}]}]}
    reply = call(emu, "POST", GENERATE, body)
    assert reply.status == 400 and "payload size exceeds the limit" in reply.error()["message"]
    assert emu.requests[-1].body_size > INLINE_REQUEST_LIMIT and emu.requests[-1].body == b""


def test_unknown_and_tuned_models_are_404(emu):
    reply = call(emu, "POST", "/v1beta/models/gemini-3.6-flahs:generateContent", text_request())
    assert reply.status == 404
    assert reply.error() == {"code": 404, "status": "NOT_FOUND", "message": (
        "models/gemini-3.6-flahs is not found for API version v1beta, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods.")}
    assert call(emu, "POST", "/v1beta/tunedModels/mine:generateContent", text_request()).status == 404
    nested = call(emu, "POST", "/v1beta/models/models/gemini-2.5-flash:generateContent", text_request("nested"))
    assert nested.status == 200 and '"nested"' in answer_text(nested.json)
    assert call(emu, "POST", "/v1alpha/models/gemini-2.5-flash:generateContent", text_request()).status == 200
    assert call(emu, "GET", "/v1beta/nothing/here").status == 404


# -- authentication ---------------------------------------------------------------------------------
def test_missing_key_is_permission_denied(emu):
    reply = call(emu, "POST", GENERATE, text_request(), key=None)
    assert reply.status == 403
    assert reply.error()["status"] == "PERMISSION_DENIED"
    assert reply.error()["message"].startswith("Method doesn't allow unregistered callers")


def test_wrong_key_is_invalid_when_a_key_is_configured():
    with Emulator(api_key="right") as strict:
        assert call(strict, "GET", "/v1beta/models", key="right").status == 200
        reply = call(strict, "GET", "/v1beta/models", key="wrong")
    assert reply.status == 400
    error = reply.error()
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["details"][0] == {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
        "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}


def test_key_in_the_url_is_rejected_even_with_the_header(emu):
    reply = call(emu, "POST", GENERATE + "?key=AIzaSecret", text_request())
    assert reply.status == 400
    assert "x-goog-api-key header" in reply.error()["message"]
    assert emu.requests[-1].query == {"key": "AIzaSecret"}


def test_requests_are_recorded_in_order(emu):
    call(emu, "GET", "/v1beta/models")
    call(emu, "POST", GENERATE, text_request("recorded"))
    recorded = emu.requests
    assert [r.method for r in recorded] == ["GET", "POST"]
    assert recorded[1].json["contents"][0]["parts"][0]["text"] == "recorded"
    assert recorded[1].headers["x-goog-api-key"] == KEY
    emu.reset()
    assert emu.requests == []


# -- CLI --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_serves_and_exits_cleanly(stop_signal):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen([sys.executable, "-m", "gemini_emulator", "--port", str(port),
                                "--pace", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, cwd=ROOT)
    try:
        first = process.stdout.readline()
        second = process.stdout.readline()
        assert first.strip() == f"Gemini emulator (not the real Gemini API) listening on http://127.0.0.1:{port}"
        assert second.strip() == (f"export GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:{port} "
                                  "GOOGLE_API_KEY=any-value")
        reply = call(port, "POST", GENERATE, text_request("from the CLI"))
        assert reply.status == 200 and '"from the CLI"' in answer_text(reply.json)
    finally:
        process.send_signal(stop_signal)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in stderr


@pytest.fixture
def tiny_png():
    from io import BytesIO

    from PIL import Image
    out = BytesIO()
    Image.new("RGB", (3, 2), "red").save(out, "PNG")
    return out.getvalue()


def test_responses_escape_angle_brackets_like_google(emu):
    reply = call(emu, "POST", GENERATE, text_request("<b>bold</b>"))
    assert b"\\u003cb\\u003e" in reply.body and b"<b>" not in reply.body
    assert '"<b>bold</b>"' in answer_text(reply.json)


def test_body_text_is_utf8_not_escaped(emu):
    reply = call(emu, "POST", GENERATE, text_request("東京"))
    assert "東京".encode() in reply.body
    assert re.search(rb"\\u6771", reply.body) is None


def test_answers_are_short_and_the_sample_of_markdown_comes_only_when_asked(emu):
    plain = [answer_text(call(emu, "POST", GENERATE, text_request(prompt)).json) for prompt in ("hello", "hi again")]
    assert all(len(text) < 200 and "## A sample of Markdown" not in text for text in plain)
    asked = answer_text(call(emu, "POST", GENERATE, text_request("Show me some markdown")).json)
    assert asked.count("## A sample of Markdown") == 1 and "```python" in asked and "| --- |" in asked
    assert asked.startswith(plain[0].split("\n", 1)[0])  # the same first line: the marker and the model
