"""The Live wire against a small hostile loopback WebSocket server: text frames, pretty-printed JSON,
several keys in one frame, frames that are no message, and a close reason that echoes the key."""

from __future__ import annotations

import json
import threading

import pytest

from gemini_magic import Client
from gemini_magic.errors import APIError, LiveError, StreamProtocolError
from gemini_magic.wire.live import decode_message, live_url

from conftest import TEST_KEY

MODEL = "gemini-live-2.5-flash-preview"


@pytest.fixture
def hostile():
    """A websockets server on 127.0.0.1 that answers in text frames and misbehaves on request."""
    from websockets.sync.server import serve

    seen: dict = {"paths": [], "keys": []}

    def handler(socket):
        seen["paths"].append(socket.request.path)
        key = socket.request.headers.get("x-goog-api-key", "")
        seen["keys"].append(key)
        socket.recv()  # the setup
        socket.send(json.dumps({"setupComplete": {"sessionId": "s1"},
                                "sessionResumptionUpdate": {"newHandle": "h1", "resumable": True}}, indent=2))
        for raw in socket:
            text = json.loads(raw)["realtimeInput"]["text"]
            if text == "garbage":
                socket.send("this is <html> not json")
            elif text == "close":
                socket.close(1011, f"Internal error while serving key {key}")
                return
            else:
                socket.send(json.dumps({"serverContent": {"modelTurn": {"parts": [{"text": "hel"}]}}}, indent=4))
                socket.send(json.dumps({"serverContent": {"modelTurn": {"parts": [{"text": "lo"}]},
                                                          "turnComplete": True},
                                        "usageMetadata": {"responseTokenCount": 2, "totalTokenCount": 5}}))

    server = serve(handler, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    seen["base_url"] = f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    yield seen
    server.shutdown()
    thread.join(5)


def test_text_frames_pretty_printed_with_several_keys_are_read(hostile):
    client = Client(api_key=TEST_KEY, base_url=hostile["base_url"], max_retries=0)
    with client.live(MODEL, response="text") as session:
        turn = session.send("hi")
        assert session.handle == "h1" and session.session_id == "s1"  # read beside setupComplete
    assert turn.text == "hello" and turn.complete
    assert turn.usage == {"responseTokenCount": 2, "totalTokenCount": 5}  # beside the turnComplete
    assert hostile["keys"] == [TEST_KEY]
    assert hostile["paths"] == ["/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"]


def test_a_close_reason_that_echoes_the_key_is_redacted(hostile):
    client = Client(api_key=TEST_KEY, base_url=hostile["base_url"], max_retries=0)
    with client.live(MODEL, response="text") as session:
        with pytest.raises(LiveError) as raised:
            session.send("close")
    error = raised.value
    assert error.code == 1011 and TEST_KEY not in str(error) and TEST_KEY not in error.reason
    assert "Internal error while serving key [REDACTED]" in str(error)
    assert "1011 internal error or unavailable" in str(error)


def test_a_frame_that_is_no_message_ends_the_session_with_one_error(hostile):
    client = Client(api_key=TEST_KEY, base_url=hostile["base_url"], max_retries=0)
    with client.live(MODEL, response="text") as session:
        with pytest.raises(LiveError, match="not JSON: 'this is <html> not json'"):
            session.send("garbage")
        with pytest.raises(LiveError, match="has ended"):
            session.send("hi")


def test_decoding_frames():
    pretty = json.dumps({"serverContent": {"turnComplete": True}, "usageMetadata": {"totalTokenCount": 3}},
                        indent=2).encode("utf-8")
    assert decode_message(pretty) == {"serverContent": {"turnComplete": True}, "usageMetadata": {"totalTokenCount": 3}}
    assert decode_message('{"text": "Huế"}'.encode("utf-8")) == {"text": "Huế"}
    with pytest.raises(StreamProtocolError, match="not an object"):
        decode_message(b"[1, 2]")
    with pytest.raises(StreamProtocolError, match="not JSON"):
        decode_message(b"\xff\xfe")
    with pytest.raises(APIError, match="INVALID_ARGUMENT: bad"):
        decode_message(b'{"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}')


def test_the_live_url_follows_the_base_url():
    assert live_url("https://generativelanguage.googleapis.com", "v1beta") == (
        "wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.GenerativeService"
        ".BidiGenerateContent")
    assert live_url("http://127.0.0.1:8080/gateway/", "v1alpha").startswith(
        "ws://127.0.0.1:8080/gateway/ws/google.ai.generativelanguage.v1alpha.")


def test_a_drop_whose_resumption_is_refused_ends_the_session_with_one_error():
    """The connection drops and every resumption's upgrade is refused (HTTP 503): the session ends with
    one LiveError (no reader thread dying, no send left waiting), and a send after it says so at once."""
    import socket as sockets

    from websockets.http11 import Response
    from websockets.datastructures import Headers
    from websockets.sync.server import serve

    connections: list[int] = []

    def refuse_resumptions(connection, request):
        if not request.path.startswith("/ws/"):
            return None  # the models listing: not a WebSocket, refused by websockets itself
        connections.append(1)
        if len(connections) > 1:
            body = b'{"error": {"code": 503, "message": "The service is unavailable.", "status": "UNAVAILABLE"}}'
            return Response(503, "Service Unavailable", Headers([("Content-Type", "application/json")]), body)
        return None

    def handler(socket):
        socket.recv()  # the setup
        socket.send(json.dumps({"setupComplete": {}, "sessionResumptionUpdate": {"newHandle": "h1"}}))
        socket.recv()  # the first turn: answered, then the TCP connection goes without a close frame
        socket.send(json.dumps({"serverContent": {"modelTurn": {"parts": [{"text": "hi"}]}, "turnComplete": True}}))
        socket.socket.shutdown(sockets.SHUT_RDWR)

    server = serve(handler, "127.0.0.1", 0, process_request=refuse_resumptions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Client(api_key=TEST_KEY, base_url=f"http://127.0.0.1:{server.socket.getsockname()[1]}",
                        max_retries=0)
        session = client.live(MODEL, response="text")
        assert session.send("hello", timeout=5).text == "hi"
        session._reader.join(10)
        assert not session._reader.is_alive() and session.closed
        assert session.error is not None and session.error.code == 1006 and len(connections) == 4
        with pytest.raises(LiveError, match="has ended"):
            session.send("are you there?", timeout=5)
        session.close()
        assert not session._worker.is_alive()
    finally:
        server.shutdown()
        thread.join(5)
