"""The key never shows when a server echoes it inside a successful answer (issue 20, leftover 1).

A hostile loopback server takes the key from the request's `x-goog-api-key` header and writes it
back in 200 answers: in the text (raw, JSON-escaped, upper case, split across two chunks), a function
call's name and args, a citation URI, the model version, a file's name/uri/display name, an
interaction's output and a Live serverContent. The wire decoders scrub it before anything is built
from the answer, so it is nowhere in the Response, its repr, `.text`, `.raw`, the raw chunks, the
rendered display data or a chat's history.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gemini_magic import Client, RetryPolicy
from gemini_magic.redaction import SecretScan
from gemini_magic.render.final import final_bundle

KEY = "AIzaSyD-echo-test_KEY-0123456789abcdef"  # 38 characters; a '-' that JSON may escape
MODEL = "gemini-2.5-flash"


def forms(key: str) -> dict:
    return {"raw": key, "escaped": key.replace("-", "\\u002d").replace("A", "\\u0041"),
            "upper": key.upper(), "lower": key.lower()}


def generate_chunks(key: str) -> list[dict]:
    """An answer in five chunks that echoes the key in every place a server controls."""
    def chunk(parts, **extra):
        candidate = {"content": {"role": "model", "parts": parts}, "index": 0, **extra}
        return {"candidates": [candidate], "modelVersion": f"gemini-{key}", "responseId": key}
    return [
        chunk([{"text": f"Your key is {key}. "}]),
        chunk([{"text": f"Upper {key.upper()} lower {key.lower()}. Split: {key[:19]}"}]),
        chunk([{"text": key[19:] + " done. "}]),
        chunk([{"functionCall": {"name": f"leak_{key}", "args": {"key": key, key: [key]}}}]),
        {**chunk([{"text": "The end."}], finishReason="STOP",
                 citationMetadata={"citations": [{"uri": f"https://example.test/?key={key}", "startIndex": 0,
                                                  "endIndex": 4}]}),
         "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 9, "totalTokenCount": 12}},
    ]


def escaped_json(value) -> str:
    """JSON with every '-' and 'A' written as a \\u escape (valid JSON a server may send)."""
    return json.dumps(value).replace("-", "\\u002d").replace("A", "\\u0041")


def interaction(key: str) -> dict:
    return {"id": f"v1_{key}", "status": "completed", "model": f"gemini-{key}",
            "steps": [{"type": "model_output", "content": [{"type": "text", "text": f"Interaction knows {key}."}]}],
            "usage": {"total_tokens": 5}}


def file_metadata(key: str) -> dict:
    return {"name": f"files/{key.lower()}", "displayName": f"notes {key}.txt", "mimeType": "text/plain",
            "sizeBytes": "12", "uri": f"https://example.test/v1beta/files/x?key={key}", "state": "ACTIVE"}


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        key = self.headers.get("x-goog-api-key", "")
        Echo.seen.append(key)
        if self.path.startswith("/v1beta/files?"):
            return self._send("application/json", json.dumps({"files": [file_metadata(key)]}).encode())
        if self.path.startswith("/v1beta/files/"):
            return self._send("application/json", escaped_json(file_metadata(key)).encode())
        self._send("application/json", b'{"error": {"code": 404, "message": "no", "status": "NOT_FOUND"}}', 404)

    def do_POST(self):
        key = self.headers.get("x-goog-api-key", "")
        Echo.seen.append(key)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        chunks = generate_chunks(key)
        if ":generateContent" in self.path:
            merged = chunks[-1]
            merged["candidates"][0]["content"]["parts"] = [p for c in chunks for p in c["candidates"][0]["content"]["parts"]]
            return self._send("application/json", escaped_json(merged).encode())
        if ":streamGenerateContent" in self.path:
            if "json-array" in self.path:  # the stream sent without SSE framing, pretty-printed
                text = "[" + ",\r\n".join(json.dumps(c, indent=2) for c in chunks) + "]"
                return self._send("application/json; charset=UTF-8", text.encode())
            events = [json.dumps(c) if i % 2 else escaped_json(c) for i, c in enumerate(chunks)]
            return self._send("text/event-stream", "".join(f"data: {e}\r\n\r\n" for e in events).encode())
        if self.path.startswith("/v1beta/interactions"):
            if not body.get("stream"):
                return self._send("application/json", json.dumps(interaction(key)).encode())
            events = [{"event_type": "interaction.created", "interaction": {"id": f"v1_{key}", "status": "in_progress"}},
                      {"event_type": "step.start", "index": 0, "step": {"type": "model_output"}},
                      {"event_type": "step.delta", "index": 0, "delta": {"type": "text", "text": f"Streamed {key}."}},
                      {"event_type": "step.stop", "index": 0},
                      {"event_type": "interaction.completed",
                       "interaction": {"id": f"v1_{key}", "status": "completed", "usage": {"total_tokens": 5}}}]
            text = "".join(f"event: {e['event_type']}\ndata: {escaped_json(e)}\n\n" for e in events)
            return self._send("text/event-stream", text.encode())
        self._send("application/json", b'{"error": {"code": 404, "message": "no", "status": "NOT_FOUND"}}', 404)

    def _send(self, content_type: str, data: bytes, status: int = 200):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def hostile():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    Echo.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(hostile):
    return Client(api_key=KEY, base_url=hostile, retry=RetryPolicy(max_retries=0))


def assert_no_key(*texts) -> None:
    for text in texts:
        for name, written in forms(KEY).items():
            assert written not in text, f"the key ({name}) in {text[:300]!r}"
        assert KEY[:19] not in text and KEY[19:] not in text  # neither half of the split key


def shown(response) -> list[str]:
    bundle = final_bundle(response)
    return [repr(response), response.text, json.dumps(response.raw), bundle["text/markdown"], bundle["text/plain"],
            repr(response.function_calls), str(response.usage)]


def test_a_unary_answer_that_echoes_the_key_escaped_is_scrubbed(client):
    response = client.generate(MODEL, "Hello")
    assert Echo.seen == [KEY]  # the server did get the key, and wrote it back
    assert_no_key(*shown(response))
    assert response.text.startswith("Your key is [REDACTED]. Upper [REDACTED] lower [REDACTED].")
    assert response.function_calls[0]["args"] == {"key": "[REDACTED]", "[REDACTED]": ["[REDACTED]"]}


@pytest.mark.parametrize("model", [MODEL, "json-array"])
def test_a_streamed_answer_that_echoes_the_key_is_scrubbed_in_every_chunk(client, model):
    stream = client.stream(model, "Hello")
    chunks = list(stream)
    response = stream.response
    assert len(chunks) == 5 and response.finish_reason == "STOP"
    assert_no_key(*shown(response), *(json.dumps(c.raw) + c.text for c in chunks),
                  bytes(response._buffer).decode("utf-8"))  # the raw chunk bytes the response keeps
    assert "Your key is [REDACTED]." in response.text and response.text.endswith("done. The end.")


def test_a_chat_history_never_holds_the_echoed_key(client):
    chat = client.chat(MODEL)
    chat.send("Hello")
    for _ in chat.stream("Again"):
        pass
    assert len(chat.history) == 4
    assert_no_key(json.dumps(chat.history), repr(chat))


def test_an_interaction_that_echoes_the_key_is_scrubbed(client):
    answer = client.interact(MODEL, "Hello")
    assert answer.text == "Interaction knows [REDACTED]."
    assert_no_key(repr(answer), answer.text, json.dumps(answer.raw if hasattr(answer, "raw") else answer.steps),
                  str(answer.id), answer._repr_markdown_())
    stream = client.interact(MODEL, "Hello", stream=True)
    events = list(stream)
    assert stream.interaction.text == "Streamed [REDACTED]."
    assert_no_key(json.dumps([e.data for e in events]), repr(stream.interaction), stream.interaction.text,
                  str(stream.interaction.id))


def test_file_metadata_that_echoes_the_key_is_scrubbed(client):
    file = client.get_file("files/x")
    listed = client.list_files()
    for each in (file, *listed):
        assert_no_key(repr(each), each.name, each.uri, each.display_name, json.dumps(each.raw))
    assert file.display_name == "notes [REDACTED].txt"


def test_the_magic_shows_no_echoed_key(hostile, monkeypatch, capsys):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", hostile)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "gemini_magic")
    magics = shell.magics_manager.registry["GeminiMagics"]
    magics.backend.mode = "auto"
    try:
        with capture_output() as captured:
            shell.run_cell_magic("gemini", f"-m {MODEL} --chat leak", "Hello")
            shell.run_cell_magic("gemini", f"-m {MODEL} --no-stream", "Hello")
        outputs = [json.dumps(o.data) for o in captured.outputs] + [captured.stdout, captured.stderr,
                                                                    capsys.readouterr().out]
        assert any("[REDACTED]" in text for text in outputs)
        assert_no_key(*outputs, repr(shell.user_ns["_gemini"]), json.dumps(shell.user_ns["leak"].history))
    finally:
        shell.user_ns.pop("leak", None)
        shell.user_ns.pop("_gemini", None)


def test_a_live_server_content_that_echoes_the_key_is_scrubbed():
    from websockets.sync.server import serve

    def handler(socket):
        key = socket.request.headers.get("x-goog-api-key", "")
        socket.recv()
        socket.send(json.dumps({"setupComplete": {}}))
        for _ in socket:
            socket.send(escaped_json({"serverContent": {"modelTurn": {"parts": [{"text": f"Live {key}."}]}}}))
            socket.send(json.dumps({"serverContent": {"outputTranscription": {"text": key.upper()},
                                                      "turnComplete": True}}))

    server = serve(handler, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Client(api_key=KEY, base_url=f"http://127.0.0.1:{server.socket.getsockname()[1]}", max_retries=0)
        with client.live("gemini-live-2.5-flash-preview", response="text") as session:
            turn = session.send("hi")
        assert turn.text == "Live [REDACTED]."
        assert_no_key(turn.text, repr(turn), json.dumps(getattr(turn, "messages", []), default=str))
    finally:
        server.shutdown()
        thread.join(5)


def test_the_scan_finds_every_decoded_form_and_passes_ordinary_answers():
    scan = SecretScan(KEY)
    for name, written in forms(KEY).items():
        assert scan.found(json.dumps({"text": f"a {written} b"}).replace("\\\\", "\\").encode()), name
    assert scan.found(escaped_json({"t": KEY}).encode()) and scan.found(json.dumps({"t": KEY[-19:]}).encode())
    ordinary = json.dumps({"text": "<b>x</b> & y = z\n", "n": 3}).encode()  # json.dumps escapes no <, but Google does:
    assert not scan.found(ordinary) and not scan.found(ordinary.replace(b"<", b"\\u003c"))
    assert scan.scrub_json(b'{"a": "' + KEY.encode() + b'"}') == b'{"a": "[REDACTED]"}'
    assert scan.scrub_json(b"not json " + KEY.encode()) == b"not json [REDACTED]"
    assert repr(scan) == "SecretScan(<hidden>)"


@pytest.mark.parametrize("size", [1, 7, 19, 64, 333, 100_000])
@pytest.mark.parametrize("kind", ["sse", "json"])
def test_the_stream_decoders_scrub_a_key_split_between_network_reads(kind, size):
    """Every piece size: the key, or an escape of one of its characters, across the end of a read."""
    chunks = [{"text": "plain words " * 20}, {"text": f"echo {KEY} here"}, {"text": "more plain words"},
              {"text": escaped_json(f"again {KEY}")}, {"text": "the end"}]
    if kind == "sse":
        body = "".join(f"data: {json.dumps(c) if i != 3 else escaped_json({'text': f'again {KEY}'})}\r\n\r\n"
                       for i, c in enumerate(chunks)).encode()
        content_type = "text/event-stream"
    else:
        body = ("[" + ",\n".join(json.dumps(c, indent=1) for c in chunks[:3]) + ","
                + escaped_json({"text": f"again {KEY}"}) + "," + json.dumps(chunks[4]) + "]").encode()
        content_type = "application/json"
    decoder = Client(api_key=KEY, base_url="http://127.0.0.1:9").transport.stream_decoder(content_type)
    events = []
    for start in range(0, len(body), size):
        events += decoder.feed(body[start:start + size])
    events += decoder.close()
    texts = [json.loads(event.data)["text"] for event in events]
    assert texts == ["plain words " * 20, "echo [REDACTED] here", "more plain words", "again [REDACTED]", "the end"]
