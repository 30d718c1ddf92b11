"""Every real recording in ../shared is served over HTTP by the emulator, as recorded, and parsed by the client.

The expected values come from a deliberately simple oracle (split the recorded body on blank lines,
json.loads each payload), not from the client's own decoder.
"""

from __future__ import annotations

import json
import re

import pytest

from conftest import RECORDINGS, SHARED, all_recordings, recording
from gemini_magic import errors

SSE_FILES = all_recordings(".sse")
CHUNK_FILES = [p for p in all_recordings(".chunks.txt") if "interactions" not in p.parts]
HTTPRR_FILES = sorted((SHARED / "spec" / "sse-recordings").glob("*.httprr")) if SHARED.exists() else []
UNARY_FILES = [RECORDINGS / f for f in (
    "generate/adk_gemini-2.5-flash_plain.json",
    "generate/fb_unary-success-basic-reply-short.json",
    "function_call/adk_gemini-2.5-flash_functionCall_unary.json",
    "code_execution/fb_unary-code-execution.json",
    "code_execution/vercel_code-exec_failed_with-id.json",
    "grounding/fb_unary-google-search.json",
    "image_output/pydantic_gemini-2.5-flash-image_text+png_FULL.json",
    "safety_and_finish/fb_unary-finishReason-SAFETY.json",
    "safety_and_finish/pydantic_gemini-2.5-pro_MAX_TOKENS_no-parts.json",
)] if RECORDINGS.exists() else []
JSON_ARRAY_FILES = all_recordings("functionCall.json", "thought-summaries.json")


def oracle_events(body: bytes) -> list[dict]:
    """The JSON payloads of an SSE body, the simple way."""
    text = body.decode("utf-8").replace("\r\n", "\n")
    return [json.loads(block[len("data: "):]) for block in text.split("\n\n") if block.startswith("data: ")]


def expected(events: list[dict]) -> dict:
    text, thoughts, finish, usage = [], [], None, None
    for event in events:
        for candidate in event.get("candidates", []):
            if candidate.get("index", 0) != 0:
                continue
            for part in (candidate.get("content") or {}).get("parts", []):
                if "text" in part:
                    (thoughts if part.get("thought") else text).append(part["text"])
            finish = candidate.get("finishReason", finish)
        usage = event.get("usageMetadata", usage)
    return {"text": "".join(text), "thoughts": "".join(thoughts), "finish": finish, "usage": usage or {}}


def check(response, events):
    want = expected(events)
    assert response.text == want["text"]
    assert response.thoughts == want["thoughts"]
    assert response.finish_reason == want["finish"]
    assert response.usage == want["usage"]
    assert response.raw == events
    assert response.incomplete == (want["finish"] is None and not response.block_reason)


def httprr_body(path) -> bytes:
    data = path.read_bytes()
    first = data.index(b"\n")
    second = data.index(b"\n", first + 1)
    request_length, response_length = map(int, data[first + 1:second].split())
    response = data[second + 1 + request_length:second + 1 + request_length + response_length]
    return response.split(b"\r\n\r\n", 1)[1]


def sse_bodies():
    for path in SSE_FILES:
        yield pytest.param(path.read_bytes(), id=path.name)
    for path in CHUNK_FILES:
        lines = [line for line in path.read_text("utf-8").splitlines() if line.strip()]
        yield pytest.param("".join(f"data: {line}\r\n\r\n" for line in lines).encode(), id=path.name)
    for path in HTTPRR_FILES:
        yield pytest.param(httprr_body(path), id=path.name)


@pytest.mark.parametrize("chunk_size", [None, 1, 7, 4096])
@pytest.mark.parametrize("body", list(sse_bodies()))
def test_sse_recording_streams_and_merges_exactly(client, emulator, body, chunk_size):
    events = oracle_events(body)
    assert events, "the oracle found no events"
    emulator.replay(body, content_type="text/event-stream", chunk_size=chunk_size, match="stream")
    stream = client.stream("gemini-2.5-flash", "hello")
    chunks = list(stream)
    assert len(chunks) == len(events)
    check(stream.response, events)


@pytest.mark.parametrize("path", UNARY_FILES, ids=lambda p: p.name)
def test_unary_recording(client, emulator, path):
    body = path.read_bytes()
    emulator.replay(body, content_type="application/json; charset=UTF-8", match="generate")
    response = client.generate("gemini-2.5-flash", "hello")
    check(response, [json.loads(body)])


@pytest.mark.parametrize("chunk_size", [None, 3, 64])
@pytest.mark.parametrize("path", JSON_ARRAY_FILES, ids=lambda p: p.name)
def test_json_array_stream_recording(client, emulator, path, chunk_size):
    body = path.read_bytes()
    emulator.replay(body, content_type="application/json; charset=UTF-8", chunk_size=chunk_size, match="stream")
    stream = client.stream("gemini-2.5-flash", "hello")
    stream.until_done()
    check(stream.response, json.loads(body))


def test_thought_signature_and_parallel_calls_kept_in_order(client, emulator):
    path = recording("function_call/adk_gemini-3-flash-preview_parallel-calls.sse")
    emulator.replay(path.read_bytes(), match="stream")
    response = client.stream("gemini-3-flash-preview", "hi").until_done()
    sent = [p for e in oracle_events(path.read_bytes()) for c in e["candidates"] for p in c["content"].get("parts", [])]
    calls = [p for p in sent if "functionCall" in p]
    assert [p for p in response.parts if "functionCall" in p] == calls
    assert response.function_calls == [p["functionCall"] for p in calls]
    assert "thoughtSignature" in response.parts[0]


def test_gemini3_final_empty_text_with_signature_is_kept(client, emulator):
    path = recording("thinking/vercel_gemini-3-pro_final-empty-text-signature.chunks.txt")
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    emulator.replay("".join(f"data: {json.dumps(l)}\r\n\r\n" for l in lines).encode(), match="stream")
    response = client.stream("gemini-3-pro-preview", "hi").until_done()
    signatures = [p for l in lines for p in l["candidates"][0]["content"]["parts"] if "thoughtSignature" in p]
    assert [p["thoughtSignature"] for p in response.parts if "thoughtSignature" in p] == \
        [p["thoughtSignature"] for p in signatures]
    assert response.text.endswith("y")  # the empty text adds nothing


def test_image_output_decodes(client, emulator):
    path = recording("image_output/pydantic_gemini-2.5-flash-image_text+png_FULL.json")
    emulator.replay(path.read_bytes(), content_type="application/json", match="generate")
    response = client.generate("gemini-2.5-flash-image", "a picture")
    assert response.inline_data[0]["mimeType"] == "image/png"
    assert response.inline_data[0]["data"][:8] == b"\x89PNG\r\n\x1a\n"
    image = response.images[0]
    assert image.width > 100 and image.height > 100


def test_recitation_citations_as_sent(client, emulator):
    path = recording("safety_and_finish/fb_stream_finishReason-RECITATION.sse")
    emulator.replay(path.read_bytes(), match="stream")
    response = client.stream("gemini-2.0-flash", "hi").until_done()
    sources = []
    for event in oracle_events(path.read_bytes()):
        for c in event["candidates"]:
            for s in (c.get("citationMetadata") or {}).get("citationSources", []):
                if s not in sources:
                    sources.append(s)
    assert response.finish_reason == "RECITATION"
    assert response.citation_sources == sources and sources


def test_url_context_empty_grounding_then_metadata(client, emulator):
    path = recording("grounding/fb_stream_url-context.sse")
    emulator.replay(path.read_bytes(), match="stream")
    response = client.stream("gemini-2.5-flash", "hi").until_done()
    assert response.url_context_metadata
    assert response.url_context_metadata == [c.get("urlContextMetadata") for e in oracle_events(path.read_bytes())
                                             for c in e["candidates"] if c.get("urlContextMetadata")][-1]


ERROR_FILES = {
    "errors/cookbook_400_INVALID_ARGUMENT_BadRequest_fieldViolations.json": (400, errors.BadRequestError),
    "errors/fb_403_PERMISSION_DENIED_api-disabled.json": (403, errors.PermissionDeniedError),
    "errors/issue_429_RESOURCE_EXHAUSTED_QuotaFailure_Help_RetryInfo.json": (429, errors.RateLimitError),
    "errors/pydantic_404_generateContent_typo-model.json": (404, errors.NotFoundError),
    "errors/vercel_400_thinking-level-unsupported.json": (400, errors.BadRequestError),
}


@pytest.mark.parametrize("relative", sorted(ERROR_FILES))
def test_error_recordings_map_to_the_hierarchy(emulator, relative):
    from conftest import TEST_KEY
    from gemini_magic import Client

    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, max_retries=0)
    path = RECORDINGS / relative
    if not path.exists():
        pytest.skip("recordings not here")
    status, cls = ERROR_FILES[relative]
    payload = json.loads(path.read_text())
    emulator.inject("status", code=status, body=path.read_text(), content_type="application/json",
                    match="generate", times=10)
    with pytest.raises(cls) as caught:
        client.generate("gemini-2.5-flash", "hello")
    error = caught.value
    assert error.status_code == payload["error"]["code"] == status
    assert error.message == payload["error"]["message"]
    assert error.status == payload["error"]["status"]
    assert error.details == payload["error"].get("details", [])
    if status == 429:
        assert error.retry_delay == 26.0
        assert error.quota_violations[0]["quotaId"].endswith("PerMinute-FreeTier")
        assert not error.is_daily_quota
    if status == 403:
        assert error.reason == "SERVICE_DISABLED" and error.help_links


def test_mid_stream_500_recording_raises_with_partial_answer(client, emulator):
    path = recording("errors/issue_500_INTERNAL_mid-stream.txt")
    first = b'data: {"candidates": [{"content": {"parts": [{"text": "Partial "}], "role": "model"}}]}\r\n\r\n'
    emulator.replay(first + path.read_bytes(), match="stream")
    stream = client.stream("gemini-2.5-flash", "hello")
    with pytest.raises(errors.ServerError) as caught:
        for _ in stream:
            pass
    assert caught.value.status == "INTERNAL"
    assert caught.value.response is stream.response
    assert stream.response.text == "Partial " and stream.response.incomplete


OTHER_JSON = [p for p in all_recordings(".json") if re.search(r"/(files|batch|models_tokens_embed_cache|interactions)/", str(p))]


@pytest.mark.parametrize("path", OTHER_JSON, ids=lambda p: p.name)
def test_other_methods_through_request(client, emulator, path):
    body = path.read_bytes()
    emulator.replay(body, content_type="application/json; charset=UTF-8", match="any")
    assert client.request("GET", "batches/some-batch") == json.loads(body)


def test_interaction_stream_events_decode(client, emulator):
    """Interactions API streams use the same SSE framing: every payload comes back intact."""
    for path in all_recordings(".chunks.txt"):
        if "interactions" not in path.parts:
            continue
        lines = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        from gemini_magic.wire.sse import SSEDecoder

        body = "".join(f"data: {json.dumps(l, ensure_ascii=False)}\r\n\r\n" for l in lines).encode()
        decoder = SSEDecoder()
        events = [e for i in range(0, len(body), 5) for e in decoder.feed(body[i:i + 5])] + decoder.close()
        assert [json.loads(e.data) for e in events] == lines


@pytest.mark.parametrize("body", list(sse_bodies()))
def test_each_chunk_text_matches_its_merged_text(client, emulator, body):
    """A streamed chunk's `.text` (read without merging) equals the text of the same chunk merged."""
    from gemini_magic.answer.response import Response

    emulator.replay(body, match="stream")
    for chunk in client.stream("gemini-2.5-flash", "hello"):
        merged = Response([chunk.raw])
        merged.candidates  # merge first, then compare
        assert chunk.text == merged.text


@pytest.mark.parametrize("path", [p for p in all_recordings(".chunks.txt", ".json") if "interactions" in p.parts],
                         ids=lambda p: p.name)
def test_interactions_recording_through_the_client(client, emulator, path):
    """Each Interactions recording, served over HTTP, merges into an Interaction with its exact text."""
    from gemini_magic.api.interactions import interact

    if path.name.endswith(".chunks.txt"):
        events = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        body = "".join(f"data: {json.dumps(e, ensure_ascii=False)}\r\n\r\n" for e in events).encode()
        emulator.replay(body, chunk_size=61, match="interactions")
        interaction = interact(client, "gemini-2.5-flash", "hello", stream=True).until_done()
        text = "".join(e["delta"]["text"] for e in events
                       if e["event_type"] == "step.delta" and e["delta"]["type"] == "text")
        final = events[-1]["interaction"]
        assert interaction.raw == events
    else:
        final = json.loads(path.read_bytes())
        emulator.replay(path.read_bytes(), content_type="application/json; charset=UTF-8", match="interactions")
        interaction = interact(client, "gemini-2.5-flash", "hello")
        text = "".join(item["text"] for step in final["steps"] if step["type"] == "model_output"
                       for item in step["content"] if item["type"] == "text")
        assert interaction.steps == final["steps"]
    assert interaction.text == text and interaction.status == final["status"]
    assert interaction.id == final.get("id") and interaction.usage == final["usage"]


# -- image_output (issue 16): the recorded images decode, are saved byte for byte, and stay out of the text --

def test_image_output_recording_decodes_and_saves_its_png(client, emulator, tmp_path):
    """The recorded gemini-2.5-flash-image answer: its text, then a real 1024x1024 PNG kept exactly as sent."""
    import base64

    path = recording("image_output/pydantic_gemini-2.5-flash-image_text+png_FULL.json")
    recorded = json.loads(path.read_bytes())
    blob = recorded["candidates"][0]["content"]["parts"][1]["inlineData"]
    emulator.replay(path.read_bytes(), content_type="application/json; charset=UTF-8", match="generate")
    response = client.generate("gemini-2.5-flash-image", "Generate an image of an axolotl.")
    assert response.text == "Here's an image of an axolotl for you! "
    image = response.images[0]
    image.load()
    assert (image.format, image.size) == ("PNG", (1024, 1024))
    paths = response.save_images(tmp_path)
    assert [p.name for p in paths] == ["image-1.png"]
    assert paths[0].read_bytes() == base64.b64decode(blob["data"])  # no re-encoding
    assert response.usage["candidatesTokensDetails"] == [{"modality": "IMAGE", "tokenCount": 1290}]
    assert response.audio is None


@pytest.mark.parametrize("chunk_size", [None, 97])
def test_image_tokens_without_image_parts_recording(client, emulator, tmp_path, chunk_size):
    """A streamed image answer whose last chunk has no parts: the text is whole, there is no image to save."""
    path = recording("image_output/fb_stream_image-tokens-but-no-parts.sse")
    events = oracle_events(path.read_bytes())
    emulator.replay(path.read_bytes(), chunk_size=chunk_size, match="stream")
    stream = client.stream("gemini-2.0-flash-preview-image-generation", "A pig with wings")
    list(stream)
    response = stream.response
    assert response.text == "".join(p["text"] for e in events for c in e["candidates"]
                                     for p in c["content"].get("parts", []))
    assert response.finish_reason == "STOP" and not response.incomplete
    assert response.images == [] and response.save_images(tmp_path) == [] and list(tmp_path.iterdir()) == []
    assert response.usage["candidatesTokensDetails"] == [{"modality": "IMAGE", "tokenCount": 1290}]
