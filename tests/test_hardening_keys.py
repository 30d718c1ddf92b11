"""The key never shows, whatever a server echoes: a tiny loopback server writes it back raw and escaped.

Each answer below is what a misbehaving server or proxy could send: the key in a 400 JSON error
written with `\\u002d`-style escapes, in a 200 body that is not JSON, in a 200 stream of non-event
text, and escaped inside an error sent in the middle of a stream. The key must not appear in the
exception's message, str, repr or args, in any form, nor in what the magic shows.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gemini_magic import Client, RetryPolicy
from gemini_magic.errors import APIError, GeminiError, redact

KEY = "AIzaSyD-hardening/test_KEY-0123456789"  # a '-' and a '/' so JSON may escape them


def json_escaped(text: str) -> str:
    """Every character as \\uXXXX, and '/' as '\\/' (both are valid JSON string escapes)."""
    return "".join("\\/" if c == "/" else f"\\u{ord(c):04x}" for c in text)


ESCAPED_FORMS = {
    "raw": KEY,
    "json_u": json_escaped(KEY),
    "json_partial": KEY.replace("-", "\\u002D").replace("/", "\\/"),
    "percent": urllib.parse.quote(KEY, safe=""),
    "percent_all": "".join(f"%{b:02X}" for b in KEY.encode()),
    "repr_x": "".join(f"\\x{ord(c):02x}" for c in KEY),
    "html": "".join(f"&#{ord(c)};" for c in KEY),
    # the key's common transforms (issue 20.3)
    "upper": KEY.upper(),
    "lower": KEY.lower(),
    "prefix": KEY[:24],  # a key cut short in a message
    "base64": base64.b64encode(KEY.encode()).decode(),
    "base64_header": base64.b64encode(f"x-goog-api-key: {KEY}".encode()).decode(),
    "base64_urlsafe": base64.urlsafe_b64encode(b"k=" + KEY.encode()).decode(),
}


class EchoServer:
    """Answers every request with `answer(handler) -> (status, content_type, body_bytes)` (or None when
    it wrote the response itself); records every request."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                outer.requests.append({"path": self.path, "headers": dict(self.headers)})
                reply = outer.answer(self)
                if reply is None:
                    return  # answer() wrote its own response
                status, content_type, body = reply
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_DELETE = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def echo_client(server: EchoServer) -> Client:
    return Client(api_key=KEY, base_url=server.base_url,
                  retry=RetryPolicy(max_retries=2, base_delay=0.001, cap_delay=0.002))


def assert_no_key(error: BaseException) -> None:
    texts = [str(error), repr(error), *map(repr, error.args)]
    for name in ("message", "body", "details", "status"):
        texts.append(repr(getattr(error, name, None)))
    texts.append(repr(getattr(error, "__cause__", None)))
    texts.append(repr(getattr(error, "__context__", None)) if not error.__suppress_context__ else "")
    for text in texts:
        for form, written in ESCAPED_FORMS.items():
            assert written not in text, f"the key ({form}) leaked into {text[:300]!r}"
        assert "aizasyd" not in text.lower() and "0123456789" not in text, text[:300]


def echo_text(form: str) -> str:
    return f"The key you sent was {ESCAPED_FORMS[form]} and it is wrong."


@pytest.mark.parametrize("form", list(ESCAPED_FORMS))
def test_key_in_a_400_json_error_in_any_escape_is_redacted(form):
    def answer(handler):
        body = '{"error": {"code": 400, "message": "%s", "status": "INVALID_ARGUMENT", "details": [' \
               '{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", ' \
               '"metadata": {"key": "%s"}}]}}' % (echo_text(form), ESCAPED_FORMS[form])
        return 400, "application/json", body.encode()

    with EchoServer(answer) as server:
        with pytest.raises(APIError) as caught:
            echo_client(server).generate("gemini-2.5-flash", "Hello")
    assert_no_key(caught.value)
    assert "[REDACTED]" in caught.value.message and caught.value.status_code == 400
    assert len(server.requests) == 1  # a 400 is not retried


@pytest.mark.parametrize("form", ["raw", "percent", "json_u", "repr_x"])
def test_key_in_a_200_body_that_is_not_json_is_redacted(form):
    with EchoServer(lambda h: (200, "text/html", f"<html>{echo_text(form)}</html>".encode())) as server:
        with pytest.raises(GeminiError) as caught:
            echo_client(server).generate("gemini-2.5-flash", "Hello")
    assert_no_key(caught.value)
    assert "not JSON" in str(caught.value)


@pytest.mark.parametrize("form", ["raw", "json_u", "percent"])
def test_key_in_a_200_stream_of_non_event_text_is_redacted(form):
    with EchoServer(lambda h: (200, "text/event-stream", f"oops\n{echo_text(form)}\n\n".encode())) as server:
        with pytest.raises(GeminiError) as caught:
            for _ in echo_client(server).stream("gemini-2.5-flash", "Hello"):
                pass
    assert_no_key(caught.value)


@pytest.mark.parametrize("form", ["raw", "json_u", "json_partial"])
def test_key_escaped_in_an_error_mid_stream_is_redacted(form):
    chunk = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Partial "}]}}]}
    error = '{"error": {"code": 500, "message": "%s", "status": "INTERNAL"}}' % echo_text(form)
    body = f"data: {json.dumps(chunk)}\n\n{error}\n".encode()
    with EchoServer(lambda h: (200, "text/event-stream", body)) as server:
        stream = echo_client(server).stream("gemini-2.5-flash", "Hello")
        with pytest.raises(GeminiError) as caught:
            for _ in stream:
                pass
    assert_no_key(caught.value)
    assert stream.response.text == "Partial "  # what arrived is kept
    assert len(server.requests) == 1  # data had arrived: not retried


@pytest.mark.parametrize("form", ["json_u", "raw"])
def test_key_echoed_to_the_magic_never_reaches_the_screen(shell, monkeypatch, capsys, form):
    from IPython.core.error import UsageError

    body = '{"error": {"code": 400, "message": "%s", "status": "INVALID_ARGUMENT"}}' % echo_text(form)
    with EchoServer(lambda h: (400, "application/json", body.encode())) as server:
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url)
        with pytest.raises(UsageError) as caught:
            shell.run_cell_magic("gemini", "--no-stream", "Hello")
    shown = str(caught.value) + capsys.readouterr().out
    for written in ESCAPED_FORMS.values():
        assert written not in shown
    assert "[REDACTED]" in shown


def test_the_key_sent_is_exactly_the_stripped_key():
    with EchoServer(lambda h: (200, "application/json", b'{"candidates": []}')) as server:
        Client(api_key=f"  {KEY}\r\n", base_url=server.base_url).generate("gemini-2.5-flash", "Hi")
    assert server.requests[0]["headers"]["x-goog-api-key"] == KEY
    assert KEY not in server.requests[0]["path"]


def test_redact_finds_every_form_and_leaves_other_text():
    for form, written in ESCAPED_FORMS.items():
        out = redact(f"a {written} b", KEY)
        if form.startswith("base64_"):  # what was encoded before the key is no secret and stays
            assert out.startswith("a ") and out.endswith("[REDACTED] b") and len(out) < 40, out
        else:
            assert out == "a [REDACTED] b", form
    doubled = json.dumps(json.dumps({"k": KEY.replace("-", "\u002d")}, ensure_ascii=True))
    assert KEY not in redact(doubled, KEY) and "[REDACTED]" in redact(doubled, KEY)
    assert redact({"m": [KEY, 3]}, KEY) == {"m": ["[REDACTED]", 3]}
    assert redact("nothing secret here", KEY) == "nothing secret here"


def test_redact_leaves_short_prefixes_and_ordinary_base64_alone():
    assert redact(f"key starts {KEY[:6]}", KEY) == f"key starts {KEY[:6]}"
    other = base64.b64encode(b"an ordinary attachment of some length").decode()
    assert redact(other, KEY) == other


@pytest.mark.parametrize("form", ["upper", "base64_header", "prefix", "json_u"])
def test_the_retry_log_line_never_shows_the_key(caplog, form):
    body = ('{"error": {"code": 503, "message": "%s", "status": "UNAVAILABLE"}}' % echo_text(form)).encode()
    answers = iter([(503, "application/json", body), (200, "application/json", b'{"candidates": []}')])
    with EchoServer(lambda h: next(answers)) as server, caplog.at_level(logging.DEBUG, logger="gemini_magic"):
        echo_client(server).generate("gemini-2.5-flash", "Hi")
    assert "Retrying in" in caplog.text and "[REDACTED]" in caplog.text
    for written in ESCAPED_FORMS.values():
        assert written not in caplog.text
    assert "aizasyd" not in caplog.text.lower()


def test_every_gemini_error_scrubs_a_registered_key():
    from gemini_magic.errors import StreamProtocolError, register_secret

    register_secret(KEY)
    error = StreamProtocolError(f"text {json_escaped(KEY)} and {KEY!r}")
    assert_no_key(error)


def test_an_upload_url_on_another_host_never_receives_the_key():
    """A start answer pointing X-Goog-Upload-URL at another origin: refused, nothing sent there."""
    from gemini_magic.errors import RequestError

    with EchoServer(lambda handler: (200, "application/json", b"{}")) as elsewhere:
        def start(handler):
            handler.send_response(200)
            handler.send_header("X-Goog-Upload-URL", f"{elsewhere.base_url}/upload?upload_id=1")
            handler.send_header("X-Goog-Upload-Status", "active")
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        with EchoServer(start) as api:
            with pytest.raises(RequestError) as caught:
                echo_client(api).upload_file(b"minutes", mime_type="text/plain", reuse=False)
            assert elsewhere.base_url in str(caught.value) and "Nothing was sent" in str(caught.value)
            assert elsewhere.requests == []
            assert len(api.requests) == 1 and api.requests[0]["headers"]["x-goog-api-key"] == KEY
            assert_no_key(caught.value)


def test_a_request_sent_without_the_key_to_another_origin_carries_no_key():
    with EchoServer(lambda handler: (200, "application/json", b"{}")) as elsewhere, \
            EchoServer(lambda handler: (200, "application/json", b"{}")) as api:
        transport = echo_client(api)._transport
        transport.send("GET", f"{elsewhere.base_url}/download", with_key=False)
        assert [r for r in elsewhere.requests if "x-goog-api-key" in {k.lower() for k in r["headers"]}] == []
        assert len(elsewhere.requests) == 1
