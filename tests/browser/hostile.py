"""A hostile Gemini server on loopback: every string it sends is a payload that runs script if a view
puts it into the page as HTML.

Each payload `payload(tag)` is an `<img onerror>` and a `<script>`, both of which push `tag` onto
`window.top.__pwned` when they run (JupyterLab runs the scripts of trusted HTML outputs, so both
matter). The answer carries one per place the service controls: thoughts, text (with a
`javascript:` link), MIME types, a file URI, a code language and outcome, the finish reason and
message, the model version, grounding titles, URIs and queries, the search entry point; the file,
model and batch lists carry them in their names and states; a request with tools gets a call of an
undeclared function with a payload for a name.

    with hostile_server() as base_url:
        ...  # point GOOGLE_GEMINI_BASE_URL at it
"""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def payload(tag: str) -> str:
    push = f"(window.top.__pwned=window.top.__pwned||[]).push('{tag}')"
    return f'<img src=x onerror="{push}"><script>{push}</script>'


def hostile_link(tag: str) -> str:
    return f"[click](javascript:(window.top.__pwned=window.top.__pwned||[]).push('{tag}'))"


def answer_chunks() -> list[dict]:
    """The streamed answer: thoughts, text, media parts, code, and a final chunk of metadata."""
    grounding = {
        "searchEntryPoint": {"renderedContent": payload("search-entry")},
        "groundingChunks": [{"web": {"uri": "javascript:alert(1)", "title": payload("source-title")}}],
        "groundingSupports": [{"segment": {"startIndex": 0, "endIndex": 5}, "groundingChunkIndices": [0]}],
        "webSearchQueries": [payload("query")],
    }
    return [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Think " + payload("thought"),
                                                                 "thought": True}]}}]},
        {"candidates": [{"content": {"role": "model", "parts": [
            {"text": "Hello " + payload("text") + " and " + hostile_link("text-link") + " end.\n\n"}]}}]},
        {"candidates": [{"content": {"role": "model", "parts": [
            {"inlineData": {"mimeType": payload("inline-mime"), "data": "AAAA"}},
            {"inlineData": {"mimeType": 'audio/x"><img src=x onerror="window.top.__pwned=[\'audio-mime\']">',
                            "data": "AAAA"}},
            {"fileData": {"mimeType": payload("file-mime"), "fileUri": "javascript:" + payload("file-uri")}},
            {"executableCode": {"language": payload("code-language"), "code": "print(1)"}},
            {"codeExecutionResult": {"outcome": payload("code-outcome"), "output": "1"}},
        ]}}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Done."}]},
                         "finishReason": payload("finish-reason"), "finishMessage": payload("finish-message"),
                         "groundingMetadata": grounding}],
         "modelVersion": payload("model-version"),
         "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 5, "totalTokenCount": 8}},
    ]


def call_chunks() -> list[dict]:
    """An answer to a request with tools: a call of a function nobody declared, named with a payload."""
    return [{"candidates": [{"content": {"role": "model", "parts": [
        {"functionCall": {"name": payload("function-name"), "args": {"city": payload("function-args")}}}]},
        "finishReason": "STOP"}], "modelVersion": "gemini-2.5-flash"}]


LISTS = {
    "files": {"files": [{"name": "files/" + payload("file-name"), "displayName": payload("file-display"),
                         "mimeType": payload("file-list-mime"), "sizeBytes": "10", "state": payload("file-state"),
                         "uri": "https://x/files/a", "expirationTime": payload("file-expiry")}]},
    "models": {"models": [{"name": "models/" + payload("model-name"), "displayName": payload("model-display"),
                           "inputTokenLimit": 1, "outputTokenLimit": 1,
                           "supportedGenerationMethods": [payload("model-method")]}]},
    "batches": {"operations": [{"name": "batches/" + payload("batch-name"), "metadata": {
        "state": payload("batch-state"), "displayName": payload("batch-display"), "model": payload("batch-model"),
        "batchStats": {"requestCount": "1"}}}]},
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _json(self, payload_: dict) -> None:
        body = json.dumps(payload_).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        collection = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        if collection in LISTS:
            return self._json(LISTS[collection])
        self.send_error(404)

    def do_POST(self) -> None:  # noqa: N802
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        chunks = call_chunks() if request.get("tools") else answer_chunks()
        if ":countTokens" in self.path:
            return self._json({"totalTokens": 3})
        if ":streamGenerateContent" not in self.path:
            merged = chunks[-1] if len(chunks) == 1 else _merged(chunks)
            return self._json(merged)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            data = f"data: {json.dumps(chunk)}\r\n\r\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


def _merged(chunks: list[dict]) -> dict:
    """The unary answer: every chunk's parts in one candidate, the last chunk's metadata."""
    parts = [p for c in chunks for p in c["candidates"][0]["content"]["parts"]]
    last = json.loads(json.dumps(chunks[-1]))
    last["candidates"][0]["content"]["parts"] = parts
    return last


@contextlib.contextmanager
def hostile_server():
    """Serve the hostile API on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
