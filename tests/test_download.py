"""Downloads (wire/download.py) against a small hostile loopback server: redirects, cuts, sizes, refusals.

The server listens on 127.0.0.1; redirects to `localhost` are another origin (another host name),
which must never receive the key.
"""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gemini_magic.errors import APIError, DownloadError
from gemini_magic.wire.download import download

from conftest import TEST_KEY

BODY = bytes(range(256)) * 400  # 102,400 bytes


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        port = self.server.server_address[1]
        Hostile.seen.append((self.headers.get("Host", ""), self.path, dict(self.headers)))
        path = self.path.split("?")[0]
        if path == "/away":      # to another host name, which redirects back to the base URL's origin
            return self._redirect(f"http://localhost:{port}/back")
        if path == "/back":
            return self._redirect(f"http://127.0.0.1:{port}/whole")
        if path == "/loop":
            return self._redirect("/loop")
        if path == "/nolocation":
            self.send_response(302)
            self.send_header("Content-Length", "0")
            return self.end_headers()
        if path == "/huge":
            self.send_response(200)
            self.send_header("Content-Length", str(10 ** 12))
            self.end_headers()
            return self.wfile.write(b"x" * 1000)
        if path == "/missing":
            data = b'{"error": {"code": 404, "message": "No file here for ' + TEST_KEY.encode() + b'", "status": "NOT_FOUND"}}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        ranged = self.headers.get("Range")
        start = int(ranged[6:-1]) if ranged and path == "/ranges" else 0
        cut = path in ("/cut", "/ignores-range") or (path == "/ranges" and not ranged)
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(BODY) - start))
        if path in ("/ranges", "/ignores-range"):
            self.send_header("Accept-Ranges", "bytes")
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(BODY) - 1}/{len(BODY)}")
        self.end_headers()
        self.wfile.write(BODY[start:start + 30000] if cut else BODY[start:])
        if cut:
            self.wfile.flush()
            self.close_connection = True

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def hostile():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    Hostile.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def transport(hostile):
    from gemini_magic import Client, RetryPolicy

    return Client(api_key=TEST_KEY, base_url=hostile, retry=RetryPolicy(max_retries=0)).transport


def _keys():
    return [(host.split(":")[0], path, headers.get("x-goog-api-key")) for host, path, headers in Hostile.seen]


def test_redirects_are_followed_and_the_key_goes_only_to_its_origin(transport, hostile):
    sink = io.BytesIO()
    result = download(transport, f"{hostile}/away", sink)
    assert sink.getvalue() == BODY and result.redirects == 2 and result.mime_type == "video/mp4"
    assert _keys() == [("127.0.0.1", "/away", TEST_KEY), ("localhost", "/back", None),
                       ("127.0.0.1", "/whole", TEST_KEY)]


def test_a_cut_download_resumes_from_the_bytes_received(transport, hostile):
    sink = io.BytesIO(b"kept")
    sink.seek(4)
    result = download(transport, "/ranges", sink)
    assert sink.getvalue() == b"kept" + BODY and result.resumed == 1
    assert [headers.get("Range") for _, _, headers in Hostile.seen] == [None, "bytes=30000-"]


def test_a_cut_without_ranges_says_how_much_arrived(transport):
    with pytest.raises(DownloadError, match=r"broke off after 30,000 of 102,400 bytes|ended after 30,000 of 102,400") \
            as caught:
        download(transport, "/cut", io.BytesIO())
    assert caught.value.received == 30000 and caught.value.total == len(BODY)


def test_a_server_that_ignores_the_range_is_not_trusted(transport):
    with pytest.raises(DownloadError, match=r"did not resume it \(it answered 200 to a Range request\)"):
        download(transport, "/ignores-range", io.BytesIO())


def test_the_size_limit_refuses_before_writing(transport):
    sink = io.BytesIO()
    with pytest.raises(DownloadError, match=r"1,000,000,000,000 bytes, more than the limit of 1,000,000"):
        download(transport, "/huge", sink, max_bytes=1_000_000)
    assert sink.getvalue() == b""


def test_redirect_loops_and_missing_locations_stop(transport):
    with pytest.raises(DownloadError, match="redirected more than 5 times"):
        download(transport, "/loop", io.BytesIO())
    with pytest.raises(DownloadError, match="without a Location"):
        download(transport, "/nolocation", io.BytesIO())


def test_a_refused_download_is_the_api_error_without_the_key(transport):
    with pytest.raises(APIError, match="No file here for") as caught:
        download(transport, "/missing", io.BytesIO())
    assert TEST_KEY not in str(caught.value)


def test_progress_reports_bytes_and_total(transport):
    seen = []
    download(transport, "/whole", io.BytesIO(), progress=lambda got, total: seen.append((got, total)))
    assert seen[-1] == (len(BODY), len(BODY)) and all(total == len(BODY) for _, total in seen)


class FullDisk(io.BytesIO):
    """A sink that fails as a full disk does, after the first block."""

    def write(self, block):
        if self.tell():
            raise OSError(28, "No space left on device")
        return super().write(block)


def test_a_sink_that_cannot_be_written_is_a_local_error_not_a_cut(transport):
    with pytest.raises(OSError, match="No space left on device") as caught:
        download(transport, "/ranges", FullDisk())
    assert not isinstance(caught.value, DownloadError) and "broke off" not in str(caught.value)
