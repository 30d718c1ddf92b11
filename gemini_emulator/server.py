"""The HTTP side: routing, request bodies, authentication, and the bytes written back.

Speaks HTTP/1.1 like the service: unary answers are pretty-printed JSON (2-space indent, trailing
newline, ``application/json; charset=UTF-8``); streams use ``Transfer-Encoding: chunked``, one HTTP
chunk per event, ``text/event-stream`` with NO charset for ``alt=sse`` (as recorded) or the
incremental JSON array (``[{`` ... ``\\n,\\r\\n`` ... ``\\n]``) without it, then close the connection.
Faults that break the wire (drops, cut streams, mid-stream errors) are carried out here.
"""

from __future__ import annotations

import errno
import logging
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from gemini_magic.constants import INLINE_REQUEST_LIMIT

from . import batches, caches, control, embeddings, history, live, models, settings_checks, validation
from .answers import prompt_tokens
from .errors import KEY_IN_URL, UNREGISTERED_CALLER, ApiError, injected, invalid_api_key, method_not_found
from .faults import Fault, Replay
from .framing import BodyReader, to_json
from .interactions import InteractionRun, StoredInteraction
from .responses import Generation
from .tool_config import tool_set
from .websocket import WebSocket, accept_value, is_upgrade
from .tool_generation import tool_generation

LOG = logging.getLogger("gemini_emulator")  # a failed request's traceback (EmulatorServer.handle_error)
API_PATH = re.compile(r"^/(v1beta|v1|v1alpha)/(.+)$")
UPLOAD_PATH = re.compile(r"^/upload/(v1beta|v1|v1alpha)/files$")
DOWNLOAD_PATH = re.compile(r"^(?:/download)?/(v1beta|v1|v1alpha)/files/([a-z0-9-]+):download$")
# Where a redirected download lands (emulator/videos.py, fault redirect_download): no key needed.
MEDIA_PATH = re.compile(r"^/media/([a-z0-9-]+)$")
# Batch API and embeddings (emulator/batches.py, emulator/embeddings.py): rpc -> (category, action)
ROWS_RPCS = {"batchGenerateContent": ("batches", "create_batch"), "embedContent": ("embed", "embed"),
             "batchEmbedContents": ("embed", "batch_embed"), "asyncBatchEmbedContent": ("batches", "create_embed_batch")}
BATCH_ACTIONS = {("GET", 1, ""): "list_batches", ("GET", 2, ""): "get_batch", ("DELETE", 2, ""): "delete_batch",
                 ("POST", 2, "cancel"): "cancel_batch"}


class Route:
    """What a request asks for: its fault-matching category and the names in its path."""

    def __init__(self, category: str, action: str = "", model: str = "", file_id: str = "",
                 interaction_id: str = ""):
        self.category, self.action, self.model, self.file_id = category, action, model, file_id
        self.interaction_id = interaction_id


def route_for(method: str, path: str, query: dict, headers: dict) -> Route:
    if UPLOAD_PATH.match(path) and method == "POST":
        if "upload_id" not in query:
            return Route("upload", "upload_start")
        command = headers.get("x-goog-upload-command", "").lower()
        if "upload" in command or "finalize" in command:
            return Route("upload_chunk", "upload_chunk")
        return Route("upload", "upload_chunk")
    download = DOWNLOAD_PATH.match(path)
    if download and method == "GET":
        return Route("download", "download_file", file_id=download.group(2))
    media = MEDIA_PATH.match(path)
    if media and method == "GET":
        return Route("download", "media_file", file_id=media.group(1))
    match = API_PATH.match(path)
    if not match:
        return Route("other")
    rest = match.group(2)
    resource, _, rpc = rest.rpartition(":") if ":" in rest else (rest, "", "")
    segments = [s for s in resource.split("/") if s]
    if segments and segments[0] == "tunedModels":
        return Route("other", "tuned_model", model="/".join(segments))
    if segments and segments[0] == "models":
        if method == "GET" and not rpc and len(segments) == 4 and segments[2] == "operations":
            return Route("videos", "get_operation", segments[1], file_id=segments[3])
        if method == "GET" and not rpc:
            return Route("models", "list_models" if len(segments) == 1 else "get_model", segments[-1])
        actions = {"generateContent": "generate", "streamGenerateContent": "stream", "countTokens": "count"}
        if method == "POST" and rpc in actions and len(segments) >= 2:
            return Route(actions[rpc], actions[rpc], segments[-1])
        if method == "POST" and rpc in ROWS_RPCS and len(segments) >= 2:
            return Route(*ROWS_RPCS[rpc], segments[-1])
        if method == "POST" and rpc == "predictLongRunning" and len(segments) == 2:
            return Route("videos", "create_video", segments[1])
        if method == "POST" and rpc == "predict" and len(segments) == 2:
            return Route("images", "predict", segments[1])
    if segments and segments[0] == "batches" and (method, len(segments), rpc) in BATCH_ACTIONS:
        return Route("batches", BATCH_ACTIONS[(method, len(segments), rpc)], file_id=segments[-1])
    if segments and segments[0] == "interactions" and not rpc:
        if len(segments) == 1 and method == "POST":
            return Route("interactions", "create_interaction")
        if len(segments) == 2 and method in ("GET", "DELETE"):
            action = "get_interaction" if method == "GET" else "delete_interaction"
            return Route("interactions", action, interaction_id=segments[1])
    if segments and segments[0] == "cachedContents" and not rpc and caches.route(method, segments):
        action, cache_id = caches.route(method, segments)
        route = Route("caches", action)
        route.cache_id = cache_id
        return route
    if segments and segments[0] == "files" and not rpc:
        if len(segments) == 1 and method == "GET":
            return Route("files", "list_files")
        if len(segments) == 2 and method in ("GET", "DELETE"):
            return Route("files", "get_file" if method == "GET" else "delete_file", file_id=segments[1])
    return Route("other")


class EmulatorServer(ThreadingHTTPServer):
    """A threading server that remembers open connections, so ``stop()`` can really stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, emulator):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.emulator = emulator
        self.open_sockets = set()
        self.sockets_lock = threading.Lock()  # handler threads discard while stop() reads
        super().__init__(address, Handler)

    def process_request(self, request, client_address):
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def close_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().close_request(request)

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        # Clients that hang up, drops the emulator causes itself and sockets closed by stop() are
        # not server errors; anything else is a bug worth a traceback, logged (debug level, logger
        # "gemini_emulator"), never printed: in a kernel, stderr is the user's cell, which already
        # has the 500's message. ``python -m gemini_emulator`` sends this logger to its terminal.
        hung_up = isinstance(error, (ConnectionError, TimeoutError)) or (
            isinstance(error, OSError) and error.errno in (errno.EBADF, errno.ENOTCONN))
        if not hung_up:
            LOG.debug("Exception occurred during processing of request from %s", client_address, exc_info=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gemini-magic-emulator"

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):
        if self.server.emulator.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        self.dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    # -- dispatch -------------------------------------------------------------------------------
    def dispatch(self):
        emulator = self.server.emulator
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in self.headers.items()}
        reader = BodyReader(self.rfile, headers)
        if path.startswith("/emulator/"):
            body, _ = reader.read_all(INLINE_REQUEST_LIMIT * 2)
            if path == "/emulator/batches":  # {"name": "batches/...", "state": "FAILED"}
                code, answer = batches.control(emulator.batches, self.command, body)
            else:
                code, answer = control.handle(emulator, self.command, path, query, body)
            return self.send_json(code, answer)
        self.started = False
        self.recorded = None
        if live.PATH.match(path):
            return self.live(path, query, headers)
        route = route_for(self.command, path, query, headers)
        try:
            if route.action == "upload_chunk":
                return self.upload_chunk(route, path, query, headers, reader)
            body, size = reader.read_all(INLINE_REQUEST_LIMIT)
            self.recorded = emulator.record(self.command, path, query, headers, body, size)
            if "key" in query:
                raise ApiError(400, KEY_IN_URL)
            item = emulator.faults.take(route.category)
            if self.act_on(item, route):
                return
            if route.action != "media_file":  # a signed media URL needs no key, as the service's
                self.check_key(headers)
            if size > INLINE_REQUEST_LIMIT:
                raise ApiError(400, f"Request payload size exceeds the limit: {INLINE_REQUEST_LIMIT} bytes.")
            self.answer(route, query, headers, body, item)
        except ApiError as error:
            self.send_error_json(error)
        except (ConnectionError, TimeoutError):
            raise
        except Exception as error:
            # An emulator bug: say so in Google's shape (when still possible) and log the traceback.
            if not self.started:
                self.send_error_json(ApiError(500, f"The gemini_magic emulator failed: {error!r}"))
            raise

    def act_on(self, item, route: Route) -> bool:
        """Carry out a replay or a request-level fault; True when the request is fully answered."""
        if item is None:
            return False
        if isinstance(item, Replay):
            self.replay(item)
            return True
        if item.kind == "drop":
            self.drop()
            return True
        if item.kind == "status":
            self.send_status_fault(item, route)
            return True
        if item.kind == "slow" and route.action != "stream":  # streams slow down per chunk instead
            time.sleep(float(item.get("delay", 1.0)))
        return False

    def check_key(self, headers: dict) -> None:
        key = headers.get("x-goog-api-key", "")
        if not key:
            raise ApiError(403, UNREGISTERED_CALLER)
        expected = self.server.emulator.api_key
        if expected is not None and key != expected:
            raise invalid_api_key()

    def answer(self, route: Route, query, headers, body: bytes, fault) -> None:
        emulator = self.server.emulator
        store = emulator.store
        action = route.action
        if action == "list_models":
            return self.send_json(200, models.list_models(query))
        if action == "get_model":
            return self.send_json(200, models.get_model(route.model))
        if action in ("generate", "stream", "count"):
            return self.generate(route, query, body, fault)
        if action in ("create_interaction", "get_interaction", "delete_interaction"):
            return self.interaction(route, query, body, fault)
        if action in ("download_file", "media_file"):
            return self.download(route, query, headers, fault)
        if route.category in ("videos", "images"):
            return self.videos(route, body, fault)
        if route.category in ("batches", "embed"):
            return self.rows(route, query, body)
        if route.category == "caches":
            return self.send_json(200, caches.answer(emulator.caches, action, route.cache_id, query,
                                                     validation.parse_json(body), store.resolve))
        if action == "tuned_model":
            raise ApiError(404, f"{route.model} is not found for API version v1beta, or is not supported "
                                "for generateContent. Call ListModels to see the list of available models "
                                "and their supported methods.")
        if action == "upload_start":
            upload_id = store.start(headers, validation.parse_json(body))
            url = f"{emulator.base_url}/upload/v1beta/files?upload_id={upload_id}&upload_protocol=resumable"
            return self.send_empty(200, {
                "X-Goog-Upload-URL": url, "X-Goog-Upload-Control-URL": url,
                "X-Goog-Upload-Status": "active",
                "X-Goog-Upload-Chunk-Granularity": str(store.granularity)})
        if action == "list_files":
            return self.send_json(200, store.list(query, emulator.base_url))
        if action == "get_file":
            return self.send_json(200, store.get(route.file_id).to_json(emulator.base_url))
        if action == "delete_file":
            store.delete(route.file_id)
            return self.send_json(200, {})
        raise method_not_found()

    def generate(self, route: Route, query, body: bytes, fault) -> None:
        row = models.find(route.model)
        method = "countTokens" if route.action == "count" else "generateContent"
        if row is None or method not in row[4]:
            raise ApiError(404, f"models/{route.model} is not found for API version v1beta, or is not "
                                f"supported for {method}. Call ListModels to see the list of available "
                                "models and their supported methods.")
        parsed = validation.parse_json(body)
        resolve = self.server.emulator.store.resolve
        if route.action == "count":
            total, details = prompt_tokens(validation.parse_count(parsed, resolve))
            return self.send_json(200, caches.count_answer(self.server.emulator.caches, parsed, route.model,
                                                           total, details))
        request = validation.parse_generate(parsed, resolve)
        settings_checks.check_thinking(request.settings, route.model)
        history.check_turns(request.contents, route.model)
        cached = validation.pick(parsed, "cachedContent")
        cache = None if cached is None else self.server.emulator.caches.use(cached, route.model, parsed)
        self.server.emulator.rate_limits.take(route.model)  # 429 RESOURCE_EXHAUSTED past a limit
        time.sleep(self.server.emulator.latency)
        # Tools (function calls, code execution, grounding) shape the answer: emulator/tool_generation.py
        generation = tool_generation(request, parsed, route.model, fault, cache) or \
            Generation(request, route.model, fault, cache, declared=tool_set(parsed).declarations)
        if self.recorded is not None:
            self.recorded.answered["responseId"] = generation.response_id
        if route.action == "generate":
            return self.send_json(200, generation.unary())
        self.stream(generation, fault, sse=query.get("alt") == "sse")

    # -- the Live API: a WebSocket on the same port and path scheme (emulator/live.py) ---------------
    def live(self, path, query, headers) -> None:
        emulator = self.server.emulator
        emulator.record(self.command, path, query, headers, b"", 0)
        try:
            if "key" in query:
                raise ApiError(400, KEY_IN_URL)
            if self.command != "GET" or not is_upgrade(headers) or not headers.get("sec-websocket-key"):
                raise ApiError(400, "BidiGenerateContent is served over a WebSocket: send a GET upgrade request.")
            self.check_key(headers)
        except ApiError as error:
            self.close_connection = True
            return self.send_error_json(error)
        faults = emulator.faults.take_all("live", live.KINDS)
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept_value(headers["sec-websocket-key"]))
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        socket_ = WebSocket(self.rfile, self.connection, max_size=INLINE_REQUEST_LIMIT)
        live.LiveConnection(emulator, socket_, faults).run()

    # -- Batch API, embeddings, downloads (emulator/batches.py, emulator/embeddings.py) ---------
    def rows(self, route: Route, query, body: bytes) -> None:
        emulator = self.server.emulator
        jobs, action = emulator.batches, route.action
        if action == "create_batch":
            return self.send_json(200, jobs.create(route.model, validation.parse_json(body)))
        if action == "create_embed_batch":
            return self.send_json(200, jobs.create(route.model, validation.parse_json(body), kind="embed"))
        if action in ("embed", "batch_embed"):
            embeddings.check_model(route.model)
            parsed = validation.parse_json(body)
            # one request of the model's per-minute limit, as generate, and its texts' tokens (tpm)
            emulator.rate_limits.take(route.model, embeddings.tokens(parsed, action == "embed"))
            answer = embeddings.embed_one(parsed, route.model) if action == "embed" else \
                embeddings.embed_batch(parsed, route.model)
            return self.send_bytes(200, embeddings.encode(answer), "application/json; charset=UTF-8")
        handlers = {"list_batches": lambda: jobs.list(query), "get_batch": lambda: jobs.get(route.file_id),
                    "cancel_batch": lambda: jobs.cancel(route.file_id),
                    "delete_batch": lambda: jobs.delete(route.file_id)}
        return self.send_json(200, handlers[action]())

    # -- videos and images (emulator/videos.py) -------------------------------------------------
    def videos(self, route: Route, body: bytes, fault) -> None:
        emulator = self.server.emulator
        store = emulator.videos
        if route.action == "get_operation":
            return self.send_json(200, store.get(route.model, route.file_id, emulator.base_url))
        parsed = validation.parse_json(body)
        if route.action == "predict":
            from .media_out import draw_png

            return self.send_json(200, store.predict(route.model, parsed, draw_png))
        return self.send_json(200, store.create(route.model, parsed, fault, emulator.base_url))

    def download(self, route: Route, query, headers, fault) -> None:
        """A stored file's bytes, streamed from disk; ``Range: bytes=N-`` answered with 206."""
        emulator = self.server.emulator
        if route.action == "download_file" and query.get("alt") != "media":
            raise ApiError(400, "Download requires the query parameter alt=media.")
        stored = emulator.store.get(route.file_id)
        if fault is not None and fault.kind == "redirect_download":
            target = f"http://localhost:{emulator.port}/media/{stored.id}?signature=emulated"
            return self.send_empty(302, {"Location": target})
        start = 0
        ranged = re.fullmatch(r"bytes=(\d+)-", headers.get("range", "").strip())
        if ranged:
            start = int(ranged.group(1))
            if start >= stored.size:
                raise ApiError(416, f"Range start {start} is past the end of the file ({stored.size} bytes).")
        cut_at = int(fault.get("at", stored.size // 2)) if fault is not None and fault.kind == "cut_download" \
            else None
        self.send_response(206 if ranged else 200)
        self.send_header("Content-Type", stored.mime_type)
        self.send_header("Content-Length", str(stored.size - start))
        self.send_header("Accept-Ranges", "bytes")
        if ranged:
            self.send_header("Content-Range", f"bytes {start}-{stored.size - 1}/{stored.size}")
        self.end_headers()
        position = start
        with stored.open() as source:
            source.seek(start)
            while True:
                size = 1024 * 1024 if cut_at is None else min(1024 * 1024, cut_at - position)
                block = source.read(size) if size > 0 else b""
                if not block:
                    break
                self.wfile.write(block)
                position += len(block)
        if cut_at is not None and position < stored.size:
            self.wfile.flush()
            self.drop()

    # -- interactions ---------------------------------------------------------------------------
    def interaction(self, route: Route, query, body: bytes, fault) -> None:
        emulator = self.server.emulator
        book = emulator.interactions
        if route.action != "create_interaction":
            self.put_back_unused(fault, ())
            if route.action == "delete_interaction":
                book.delete(route.interaction_id)
                return self.send_json(200, {})
            item = book.get(route.interaction_id)
            return self.send_json(200, item.to_json(include_input=query.get("include_input") == "true"))
        parsed_body = validation.parse_json(body)
        if isinstance(parsed_body, dict) and str(parsed_body.get("model", "")).startswith("gemini-omni"):
            self.put_back_unused(fault, ())
            answer = emulator.videos.omni(parsed_body, emulator.base_url)
            if parsed_body.get("store", True) is not False:  # kept as the service keeps it: GET re-reads it
                book.put(StoredInteraction(answer["id"], answer["model"], answer["status"], answer["created"], [],
                                           answer["steps"], answer["usage"], parsed_body.get("input")))
            return self.send_json(200, answer)
        try:
            run = InteractionRun(validation.parse_json(body), emulator.store.resolve, book,
                                 stream=query.get("alt") == "sse", fault=fault)
        except ApiError:
            self.put_back_unused(fault, ())
            raise
        if not run.stream:
            self.put_back_unused(fault, ("thoughts",))
            return self.send_json(200, run.unary())
        self.start_chunked(200, "text/event-stream", {"Content-Disposition": "attachment"})
        for event in run.wire_events():
            time.sleep(emulator.pace)
            self.write_chunk(b"data: " + to_json(event, pretty=False) + b"\r\n\r\n")
        if fault is not None and fault.kind == "drop_after":
            return self.drop()
        self.end_chunked()

    def put_back_unused(self, fault, used: tuple) -> None:
        """A fault this request cannot act on (e.g. a stream cut taken by a GET) waits for the next one."""
        if fault is not None and fault.kind not in used + ("status", "drop", "slow"):
            self.server.emulator.faults.put_back(fault)

    # -- uploads --------------------------------------------------------------------------------
    def upload_chunk(self, route: Route, path, query, headers, reader: BodyReader) -> None:
        emulator = self.server.emulator
        store = emulator.store
        emulator.record(self.command, path, query, headers, b"", reader.length or 0)
        command = headers.get("x-goog-upload-command", "")
        finalize = "finalize" in command.lower()
        try:
            if "key" in query:
                raise ApiError(400, KEY_IN_URL)
            session = store.session(query.get("upload_id", ""))
        except ApiError:
            store.count(reader.read_all(0)[1])
            raise
        item = emulator.faults.take(route.category, finalize=finalize)
        drop_at = upload_fault = None
        if isinstance(item, Fault) and item.kind == "drop_at_offset":
            drop_at = int(item.get("offset"))
        elif isinstance(item, Fault) and item.kind == "upload_status":
            upload_fault = item
        elif isinstance(item, Fault) and item.kind == "slow":
            time.sleep(float(item.get("delay", 1.0)))
        elif item is not None:
            store.count(reader.read_all(0)[1])  # the fault answers instead: nothing is stored
            if route.category == "upload_chunk":
                with store.lock:
                    store.stats["chunks"] += 1
            self.act_on(item, route)
            return
        try:
            result = store.chunk(session, command, headers.get("x-goog-upload-offset"), reader.read,
                                 reader.length, emulator.base_url, drop_at, upload_fault)
        except ApiError:
            if upload_fault is not None:
                emulator.faults.put_back(upload_fault)
            raise
        if drop_at is not None and not result.drop:
            emulator.faults.put_back(item)  # the chunk never reached the offset: keep waiting
        if result.drop:
            return self.drop()
        if result.body is not None:
            return self.send_json(result.code, result.body, result.headers)
        self.send_empty(result.code, result.headers)

    # -- writing --------------------------------------------------------------------------------
    def send_response(self, code, message=None):
        self.started = True
        super().send_response(code, message)

    def send_json(self, code: int, obj, headers: dict | None = None) -> None:
        data = to_json(obj, pretty=True) + b"\n"
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_bytes(self, code: int, data: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_empty(self, code: int, headers: dict) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def send_error_json(self, error: ApiError) -> None:
        self.send_json(error.code, error.body(), error.headers)

    def send_status_fault(self, fault: Fault, route: Route) -> None:
        code = int(fault.get("code"))
        if fault.get("body") is not None:
            data = str(fault.get("body")).encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", fault.get("content_type", "text/html; charset=UTF-8"))
            self.send_header("Content-Length", str(len(data)))
            if fault.get("retry_after") is not None:
                self.send_header("Retry-After", str(fault.get("retry_after")))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_error_json(injected(code, fault.get("message"), fault.get("status"), fault.get("retry_delay"),
                                      fault.get("quota_id"), route.model or None, fault.get("retry_after")))

    def start_chunked(self, code: int, content_type: str, headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))

    def end_chunked(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def drop(self) -> None:
        """Close the connection without another byte (FIN, so bytes already sent still arrive)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def replay(self, replay: Replay) -> None:
        self.start_chunked(replay.status, replay.content_type, replay.headers)
        for number, piece in enumerate(replay.pieces()):
            if number and replay.chunk_delay:
                time.sleep(replay.chunk_delay)
            self.write_chunk(piece)
        self.end_chunked()

    def stream(self, generation: Generation, fault, sse: bool) -> None:
        emulator = self.server.emulator
        delay = float(fault.get("delay", 1.0)) if fault is not None and fault.kind == "slow" else 0.0
        if sse:
            self.start_chunked(200, "text/event-stream", {"Content-Disposition": "attachment"})
        else:
            self.start_chunked(200, "application/json; charset=UTF-8")
        opening = b"["  # the JSON array's first element starts with "[", the others with a separator
        for event in generation.events():
            time.sleep(emulator.pace + delay)
            if sse:
                self.write_chunk(b"data: " + to_json(event, pretty=False) + b"\r\n\r\n")
            else:
                self.write_chunk(opening + to_json(event, pretty=True))
                opening = b"\n,\r\n"
        kind = generation.kind
        if kind == "drop_after":
            return self.drop()
        if kind == "error_mid_stream":
            error = to_json(injected(int(fault.get("code", 500)), fault.get("message")).body(), pretty=True)
            # Raw, not data:-framed, as the service sends it (recordings/errors/issue_500_*).
            self.write_chunk(error + b"\n" if sse else opening + error)
            opening = b""
        if not sse:
            self.write_chunk((b"[" if opening == b"[" else b"") + b"\n]")  # "[\n]" when empty
        self.end_chunked()
