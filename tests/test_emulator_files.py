"""The Files API: resumable uploads over loopback, File resources, states, expiry and upload faults."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import socket
import threading
import time
from datetime import datetime

import pytest

from gemini_magic.constants import MAX_FILE_SIZE
from gemini_emulator import Emulator

try:
    from .test_emulator_support import (GENERATE, GRANULE, KEY, answer_text, call, running_emulator, query_upload, send_chunk,
                                        upload, upload_path, upload_start)
except ImportError:
    from test_emulator_support import (GENERATE, GRANULE, KEY, answer_text, call, running_emulator, query_upload, send_chunk,
                                       upload, upload_path, upload_start)


@pytest.fixture
def emu():
    yield from running_emulator()

DATA = bytes(range(256)) * (GRANULE * 3 // 256) + b"tail bytes"  # three granules and a bit


def parse_time(text: str) -> datetime:
    assert text.endswith("Z") and "." in text
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def test_resumable_upload_full_cycle(emu):
    start = upload_start(emu, len(DATA), "application/octet-stream", "three granules")
    assert start.status == 200 and start.body == b""
    assert start.headers["x-goog-upload-status"] == "active"
    assert start.headers["x-goog-upload-chunk-granularity"] == str(GRANULE)
    url = start.headers["x-goog-upload-url"]
    assert url.startswith(emu.base_url + "/upload/v1beta/files?upload_id=") and "upload_protocol=resumable" in url
    path = upload_path(start)

    first = send_chunk(emu, path, DATA[:GRANULE], 0)
    assert first.status == 200 and first.body == b"" and first.headers["x-goog-upload-status"] == "active"
    wrong_offset = send_chunk(emu, path, DATA[GRANULE:2 * GRANULE], 5)
    assert wrong_offset.status == 400 and wrong_offset.headers["x-goog-upload-status"] == "active"
    assert "offset" in wrong_offset.error()["message"].lower()
    ragged = send_chunk(emu, path, DATA[GRANULE:GRANULE + 1000], GRANULE)
    assert ragged.status == 400 and "multiple" in ragged.error()["message"]
    status = query_upload(emu, path)
    assert status.headers["x-goog-upload-status"] == "active"
    assert status.headers["x-goog-upload-size-received"] == str(GRANULE)

    assert send_chunk(emu, path, DATA[GRANULE:3 * GRANULE], GRANULE).status == 200
    short = send_chunk(emu, path, DATA[3 * GRANULE:-1], 3 * GRANULE, finalize=True)
    assert short.status == 400 and "declared" in short.error()["message"]
    final = send_chunk(emu, path, DATA[3 * GRANULE:], 3 * GRANULE, finalize=True)
    assert final.status == 200 and final.headers["x-goog-upload-status"] == "final"
    assert final.headers["content-type"] == "application/json; charset=UTF-8"
    file = final.json["file"]
    file_id = file["name"].split("/")[1]
    assert len(file_id) == 12 and file_id.isalnum() and file_id == file_id.lower()
    assert file["displayName"] == "three granules" and file["mimeType"] == "application/octet-stream"
    assert file["sizeBytes"] == str(len(DATA))
    assert file["sha256Hash"] == base64.b64encode(hashlib.sha256(DATA).hexdigest().encode()).decode()
    assert file["uri"] == f"{emu.base_url}/v1beta/files/{file_id}"
    assert file["state"] == "ACTIVE" and file["source"] == "UPLOADED"
    lifetime = parse_time(file["expirationTime"]) - parse_time(file["createTime"])
    assert abs(lifetime.total_seconds() - 48 * 3600) < 1
    assert emu.files[file["name"]].data() == DATA
    assert query_upload(emu, path).headers["x-goog-upload-status"] == "final"
    assert call(emu, "GET", f"/v1beta/files/{file_id}").json == file
    assert emu.upload_stats["chunks"] == 6
    assert emu.upload_stats["bytes_received"] == len(DATA) + GRANULE + 1000 + len(DATA) - 3 * GRANULE - 1


def test_start_needs_a_size_within_the_limit(emu):
    headers = {"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start"}
    assert call(emu, "POST", "/upload/v1beta/files", {}, headers=headers).status == 400
    too_big = upload_start(emu, MAX_FILE_SIZE + 1)
    assert too_big.status == 400 and too_big.error()["status"] == "INVALID_ARGUMENT"
    assert upload_start(emu, 10, key=None).status == 403


def test_list_pages_newest_first_and_delete(emu):
    assert call(emu, "GET", "/v1beta/files").json == {}
    names = [upload(emu, f"file {i}".encode(), "text/plain", f"n{i}")["name"] for i in range(3)]
    first = call(emu, "GET", "/v1beta/files?pageSize=2").json
    assert [f["name"] for f in first["files"]] == names[::-1][:2]
    second = call(emu, "GET", f"/v1beta/files?pageSize=2&pageToken={first['nextPageToken']}").json
    assert [f["name"] for f in second["files"]] == [names[0]] and "nextPageToken" not in second
    file_id = names[1].split("/")[1]
    deleted = call(emu, "DELETE", f"/v1beta/files/{file_id}")
    assert deleted.status == 200 and deleted.json == {}
    gone = call(emu, "GET", f"/v1beta/files/{file_id}")
    assert gone.status == 403 and gone.error()["status"] == "PERMISSION_DENIED"
    assert gone.error()["message"] == f"You do not have permission to access the File {file_id} or it may not exist."
    assert call(emu, "DELETE", f"/v1beta/files/{file_id}").status == 403
    assert len(call(emu, "GET", "/v1beta/files").json["files"]) == 2


def test_processing_then_active_and_use_in_generate():
    with Emulator(file_processing_delay=0.4, upload_granularity=GRANULE) as slow:
        file = upload(slow, b"alpha\nbeta\ngamma\n", "text/plain", "notes")
        assert file["state"] == "PROCESSING"
        request = {"contents": [{"parts": [{"text": "Read this"},
                                           {"fileData": {"mimeType": "text/plain", "fileUri": file["uri"]}}]}]}
        early = call(slow, "POST", GENERATE, request)
        assert early.status == 400 and early.error()["status"] == "FAILED_PRECONDITION"
        file_id = file["name"].split("/")[1]
        assert early.error()["message"] == f"The File {file_id} is not in an ACTIVE state and usage is not allowed."
        time.sleep(0.45)
        polled = call(slow, "GET", f"/v1beta/files/{file_id}").json
        assert polled["state"] == "ACTIVE" and polled["updateTime"] > polled["createTime"]
        text = answer_text(call(slow, "POST", GENERATE, request).json)
        assert f"[text 1: 3 lines] file {file['name']} (text/plain, 17 bytes): text, 3 lines" in text


def test_unknown_file_in_generate_is_permission_denied(emu):
    request = {"contents": [{"parts": [{"fileData": {"fileUri": f"{emu.base_url}/v1beta/files/nosuchfile12"}}]}]}
    reply = call(emu, "POST", GENERATE, request)
    assert reply.status == 403
    assert reply.error()["message"] == "You do not have permission to access the File nosuchfile12 or it may not exist."


def test_upload_status_fault_makes_the_next_file_failed(emu):
    emu.inject("upload_status", state="FAILED", message="Video could not be processed.")
    assert call(emu, "GET", "/v1beta/models").status == 200  # not consumed by other requests
    file = upload(emu, b"\x00" * 100, "video/mp4")
    assert file["state"] == "FAILED"
    assert file["error"] == {"code": 400, "message": "Video could not be processed."}
    reply = call(emu, "POST", GENERATE, {"contents": [{"parts": [{"fileData": {"fileUri": file["uri"]}}]}]})
    assert reply.status == 400 and reply.error()["status"] == "FAILED_PRECONDITION"


def test_drop_at_offset_keeps_whole_granules_then_resumes(emu):
    path = upload_path(upload_start(emu, len(DATA)))
    emu.inject("drop_at_offset", match="upload_chunk", offset=GRANULE + GRANULE // 2)
    with pytest.raises((ConnectionError, http.client.HTTPException, socket.error)):
        send_chunk(emu, path, DATA[:3 * GRANULE], 0)
    status = query_upload(emu, path)
    assert status.status == 200 and status.headers["x-goog-upload-size-received"] == str(GRANULE)
    assert send_chunk(emu, path, DATA[GRANULE:3 * GRANULE], GRANULE).status == 200
    file = send_chunk(emu, path, DATA[3 * GRANULE:], 3 * GRANULE, finalize=True).json["file"]
    assert emu.files[file["name"]].data() == DATA
    assert file["sha256Hash"] == base64.b64encode(hashlib.sha256(DATA).hexdigest().encode()).decode()
    stats = emu.upload_stats
    assert stats["chunks"] == 3
    assert len(DATA) + GRANULE // 2 <= stats["bytes_received"] <= len(DATA) + 2 * GRANULE


def test_drop_at_offset_waits_for_the_chunk_that_reaches_it(emu):
    path = upload_path(upload_start(emu, len(DATA)))
    emu.inject("drop_at_offset", offset=2 * GRANULE + 10)
    assert send_chunk(emu, path, DATA[:GRANULE], 0).status == 200
    assert emu.pending() == 1
    with pytest.raises((ConnectionError, http.client.HTTPException, socket.error)):
        send_chunk(emu, path, DATA[GRANULE:3 * GRANULE], GRANULE)
    assert query_upload(emu, path).headers["x-goog-upload-size-received"] == str(2 * GRANULE)


def test_status_fault_on_a_chunk_stores_nothing(emu):
    path = upload_path(upload_start(emu, len(DATA)))
    emu.inject("status", match="upload_chunk", code=503)
    assert query_upload(emu, path).status == 200  # a query is not an upload command
    refused = send_chunk(emu, path, DATA[:GRANULE], 0)
    assert refused.status == 503 and refused.error()["status"] == "UNAVAILABLE"
    assert query_upload(emu, path).headers["x-goog-upload-size-received"] == "0"
    assert send_chunk(emu, path, DATA[:GRANULE], 0).status == 200
    assert emu.upload_stats == {"bytes_received": 2 * GRANULE, "chunks": 2}


def test_concurrent_chunks_at_one_offset_one_wins_and_the_bytes_stay_intact(emu):
    first, second = bytes([1]) * GRANULE, bytes([2]) * GRANULE
    tail = b"the last bytes"
    path = upload_path(upload_start(emu, GRANULE + len(tail)))
    both_half_sent = threading.Barrier(2, timeout=10)
    replies = {}

    def send(data: bytes) -> None:
        # Both requests are in flight, each with half its body sent, before either body completes.
        connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=20)
        try:
            connection.putrequest("POST", path)
            for name, value in {"X-Goog-Upload-Command": "upload", "X-Goog-Upload-Offset": "0",
                                "Content-Type": "application/octet-stream", "x-goog-api-key": KEY,
                                "Content-Length": str(len(data))}.items():
                connection.putheader(name, value)
            connection.endheaders()
            connection.send(data[:len(data) // 2])
            both_half_sent.wait()
            connection.send(data[len(data) // 2:])
            response = connection.getresponse()
            replies[data[0]] = (response.status, dict(response.getheaders()), response.read())
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(data,)) for data in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(replies) == 2, replies
    statuses = sorted(status for status, _, _ in replies.values())
    assert statuses == [200, 400], replies
    winner = first if replies[1][0] == 200 else second
    loser_status, loser_headers, loser_body = replies[2 if winner is first else 1]
    assert "offset" in json.loads(loser_body)["error"]["message"].lower()
    assert {k.lower(): v for k, v in loser_headers.items()}["x-goog-upload-size-received"] == str(GRANULE)
    assert query_upload(emu, path).headers["x-goog-upload-size-received"] == str(GRANULE)
    final = send_chunk(emu, path, tail, GRANULE, finalize=True)
    assert final.status == 200, final.body
    file = final.json["file"]
    assert file["sizeBytes"] == str(GRANULE + len(tail))
    assert emu.files[file["name"]].data() == winner + tail
    assert file["sha256Hash"] == base64.b64encode(hashlib.sha256(winner + tail).hexdigest().encode()).decode()


def test_chunked_transfer_encoding_request_bodies(emu):
    payload = b"chunked body " * 1000
    path = upload_path(upload_start(emu, len(payload), "text/plain"))
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    pieces = (payload[i:i + 777] for i in range(0, len(payload), 777))
    connection.request("POST", path, body=pieces, encode_chunked=True, headers={
        "X-Goog-Upload-Command": "upload, finalize", "X-Goog-Upload-Offset": "0", "Transfer-Encoding": "chunked"})
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 200 and body["file"]["sizeBytes"] == str(len(payload))
    assert emu.files[body["file"]["name"]].data() == payload


def test_expired_files_are_gone():
    with Emulator(file_ttl=0.3, upload_granularity=GRANULE) as short_lived:
        file = upload(short_lived, b"short-lived", "text/plain")
        assert call(short_lived, "GET", f"/v1beta/{file['name']}").status == 200
        time.sleep(0.35)
        assert call(short_lived, "GET", f"/v1beta/{file['name']}").status == 403
        assert call(short_lived, "GET", "/v1beta/files").json == {}
        assert short_lived.files == {}


def test_reset_forgets_files_and_counters(emu):
    upload(emu, b"abc", "text/plain")
    assert len(emu.files) == 1 and emu.upload_stats["chunks"] == 1
    emu.reset()
    assert emu.files == {} and emu.upload_stats == {"bytes_received": 0, "chunks": 0}
    assert call(emu, "GET", "/v1beta/files", key=KEY).json == {}
