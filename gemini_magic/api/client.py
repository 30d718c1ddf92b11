"""`Client`: the plain-Python face of gemini_magic. Everything the magics do goes through it.

    from gemini_magic import Client
    client = Client()                                   # key from GOOGLE_API_KEY / GEMINI_API_KEY
    response = client.generate("gemini-2.5-flash", "Why is the sky blue?")
    print(response.text, response.usage)

    for chunk in client.stream("gemini-2.5-flash", ["Describe", photo]):
        print(chunk.text, end="")

    client.request("GET", "cachedContents")             # any method of the API reference

Kernel objects in `contents` (images, DataFrames, figures, paths, ...) are converted to parts by
`gemini_magic.parts.to_part`; wire dicts pass through unchanged.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..constants import DEFAULT_API_VERSION
from ..errors import APIConnectionError, APITimeoutError, GeminiError, MissingAPIKeyError, error_from_text
from ..request.body import build_contents, build_generate_request, model_path
from ..response import Response
from ..wire.sse import JSONArrayDecoder, RawEvent, SSEDecoder
from ..wire.endpoint import resolve_api_key, resolve_base_url
from ..wire.transport import RetryPolicy, Transport, decode_json

DEFAULT_TIMEOUT = (10.0, 600.0)  # connect, read: thinking models can be silent for minutes


@dataclass
class ModelInfo:
    """A model as `models.list` / `models.get` describe it."""

    name: str
    display_name: str = ""
    description: str = ""
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    supported_methods: list[str] = field(default_factory=list)
    thinking: bool | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict) -> "ModelInfo":
        return cls(name=data.get("name", ""), display_name=data.get("displayName", ""),
                   description=data.get("description", ""), input_token_limit=data.get("inputTokenLimit"),
                   output_token_limit=data.get("outputTokenLimit"),
                   supported_methods=list(data.get("supportedGenerationMethods", [])),
                   thinking=data.get("thinking"), raw=data)

    @property
    def id(self) -> str:
        """The name without its `models/` prefix, as you would pass it to `-m`."""
        return self.name.split("/", 1)[-1]


@dataclass
class TokenCount:
    """What countTokens answered."""

    total: int
    cached: int = 0
    details: list = field(default_factory=list)
    raw: dict = field(default_factory=dict, repr=False)


class Client:
    """A connection to the Gemini API (or anything that speaks it, such as the local emulator).

    Arguments: `api_key` (default: GOOGLE_API_KEY, then GEMINI_API_KEY), `base_url` (default:
    GOOGLE_GEMINI_BASE_URL, then the public endpoint), `api_version`, `timeout` (seconds, or a
    (connect, read) pair), `max_retries`, `retry` (a RetryPolicy for finer control).
    """

    def __init__(self, api_key: str | None = None, base_url: str | None = None,
                 api_version: str = DEFAULT_API_VERSION, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 max_retries: int = 4, retry: RetryPolicy | None = None) -> None:
        key, self.key_source = resolve_api_key(api_key)
        if not key:
            raise MissingAPIKeyError()
        self.base_url, self.base_url_source = resolve_base_url(base_url)
        if not isinstance(timeout, tuple):
            timeout = (min(float(timeout), DEFAULT_TIMEOUT[0]), float(timeout))
        retry = retry or RetryPolicy(max_retries=max_retries)
        self._transport = Transport(key, self.base_url, api_version, timeout, retry)

    def __repr__(self) -> str:
        return (f"Client(base_url={self.base_url!r}, api_version={self._transport.api_version!r}, "
                f"api_key=<set from {self.key_source}>)")

    @property
    def transport(self) -> Transport:
        return self._transport

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- any method -------------------------------------------------------------------------------

    def request(self, method: str, path: str, json: Any = None, params: dict | None = None) -> Any:
        """Call any method of the API reference with the same auth, retries and errors.

        `path` is relative to the version (`"cachedContents"`, `"models/gemini-2.5-flash:embedContent"`)
        or absolute from the host (`"/upload/v1beta/files"`). Returns the decoded JSON ({} when empty).
        """
        response = self._transport.send(method.upper(), path, json=json, params=params)
        return decode_json(response.content)

    # --- generation -------------------------------------------------------------------------------

    def build_request(self, contents: Any, **options: Any) -> dict:
        """The GenerateContentRequest body `generate` would send (see request_body.build_generate_request).

        Kernel objects become parts; when the whole request would be over the 20 MB inline limit,
        its largest inline parts are uploaded through the Files API and sent as fileData."""
        from ..parts import fit_request

        body = build_generate_request(contents, convert=self._convert, **options)
        fit_request(body, client=self)
        return body

    def generate(self, model: str, contents: Any = None, *, request: dict | None = None,
                 **options: Any) -> Response:
        """One answer, in one piece. Options: `system`, `config`, `safety_settings`, `tools`,
        `tool_config`, `cached_content`, and generation settings such as `temperature=0.2`.
        `request=` sends a body built before (by `build_request`) as it is."""
        body = self._body(contents, request, options)
        started = time.monotonic()
        http = self._transport.send("POST", f"{model_path(model)}:generateContent", json=body)
        response = Response([decode_json(http.content)], model=model, request=body)
        response.elapsed = response.time_to_first_chunk = time.monotonic() - started
        return response

    def stream(self, model: str, contents: Any = None, *, request: dict | None = None,
               **options: Any) -> "ResponseStream":
        """The answer as it is generated: iterate for per-chunk Responses; `.response` holds the whole."""
        return ResponseStream(self._transport, model, self._body(contents, request, options))

    def count_tokens(self, model: str, contents: Any = None, *, request: dict | None = None,
                     **options: Any) -> TokenCount:
        """How many tokens the prompt costs. With a system instruction, settings or `request=`, counts
        the whole GenerateContentRequest."""
        if request is None and not options:
            body = {"contents": build_contents(contents, self._convert)}
        else:
            body = {"generateContentRequest": {"model": model_path(model), **self._body(contents, request, options)}}
        data = self.request("POST", f"{model_path(model)}:countTokens", json=body)
        return TokenCount(total=int(data.get("totalTokens", 0)), cached=int(data.get("cachedContentTokenCount", 0)),
                          details=data.get("promptTokensDetails", []), raw=data)

    def _body(self, contents: Any, request: dict | None, options: dict) -> dict:
        if request is not None:
            if contents is not None or options:
                raise TypeError("Pass either request= or contents and options, not both.")
            return request
        if contents is None:
            raise TypeError("Nothing to send: pass contents (a string, objects, or a list of turns).")
        return self.build_request(contents, **options)

    # --- models -----------------------------------------------------------------------------------

    def list_models(self, page_size: int = 1000) -> list[ModelInfo]:
        """Every model the key can use (all pages)."""
        return [ModelInfo.from_json(m) for m in self.paginate("models", "models", page_size)]

    def get_model(self, model: str) -> ModelInfo:
        return ModelInfo.from_json(self.request("GET", model_path(model)))

    def paginate(self, path: str, key: str, page_size: int = 100) -> Iterator[dict]:
        """Items of a paged list method, following nextPageToken."""
        params: dict[str, Any] = {"pageSize": page_size}
        while True:
            page = self.request("GET", path, params=params)
            yield from page.get(key, [])
            token = page.get("nextPageToken")
            if not token:
                return
            params = {"pageSize": page_size, "pageToken": token}

    # --- files (resumable uploads) ----------------------------------------------------------------

    def upload_file(self, source: Any, mime_type: str | None = None, display_name: str | None = None,
                    progress: Any = None, wait: bool = True, timeout: float = 600.0, reuse: bool = True,
                    session: Any = None):
        """Upload a path, bytes or binary file object through the resumable Files API (see upload.py).

        Waits until the file is ACTIVE (unless `wait=False`). When a live file already has the same
        sha256, it is returned instead (its `.reused` is True) unless `reuse=False`.
        `progress(sent_bytes, total_bytes, phase)` is called as the upload goes. Pass the same
        `upload.UploadSession()` again to continue an interrupted upload where it stopped."""
        from ..wire.upload import upload_file

        return upload_file(self._transport, source, mime_type=mime_type, display_name=display_name,
                           progress=progress, wait=wait, timeout=timeout, reuse=reuse,
                           list_files=self.list_files, session=session)

    def get_file(self, name: str):
        from ..wire.upload import File

        return File.from_json(self.request("GET", _file_path(name)))

    def list_files(self, page_size: int = 100) -> list:
        from ..wire.upload import File

        return [File.from_json(f) for f in self.paginate("files", "files", page_size)]

    def delete_file(self, name: str) -> None:
        self.request("DELETE", _file_path(name))

    # --- helpers ----------------------------------------------------------------------------------

    def _convert(self, obj: Any) -> dict:
        from ..parts import to_part

        return to_part(obj, client=self)


def _is_read_timeout(exc: Exception) -> bool:
    """requests reports a read timeout inside a stream as a ConnectionError wrapping urllib3's."""
    import requests
    from urllib3.exceptions import ReadTimeoutError

    return isinstance(exc, requests.Timeout) or any(isinstance(arg, ReadTimeoutError) for arg in exc.args)


def _file_path(name: str) -> str:
    name = getattr(name, "name", name)
    return name if name.startswith("files/") else f"files/{name}"


class ResponseStream:
    """A streamed answer. Iterate for one `Response` per chunk; `.response` is the whole answer so far.

    The connection opens on first iteration and closes when the stream ends, fails, is closed or
    the kernel is interrupted. Any error raised carries the partial answer in `error.response`, and
    `.response` keeps it too (`incomplete` True, `interrupted` True after Ctrl-C / kernel interrupt).
    """

    def __init__(self, transport: Transport, model: str, body: dict) -> None:
        self._transport = transport
        self.model = model
        self.response = Response(streamed=True, model=model, request=body)
        self._http = None
        self._started = False

    def __iter__(self) -> Iterator[Response]:
        if self._started:
            raise GeminiError("A stream can be iterated once; use .response for the whole answer.")
        self._started = True
        retry, attempt, waited = self._transport.retry, 0, 0.0
        started = time.monotonic()
        while True:
            try:
                yield from self._receive(started)
                return
            except KeyboardInterrupt:
                self.response.interrupted = True
                raise
            except GeminiError as error:
                wait = retry.delay(attempt, error, waited) if not self.response.chunk_count else None
                if wait is None:
                    error.response = self.response
                    self.response.error = error
                    raise
                self._transport.sleep(wait)
                waited += wait
                attempt += 1
            finally:
                self.close()
                self.response.elapsed = time.monotonic() - started

    def _receive(self, started: float) -> Iterator[Response]:
        import requests

        self._http = http = self._transport.send(
            "POST", f"{model_path(self.model)}:streamGenerateContent", json=self.response.request,
            params={"alt": "sse"}, stream=True, retry=False)  # retried by __iter__, before any data only
        content_type = http.headers.get("Content-Type", "")
        decoder = JSONArrayDecoder() if "json" in content_type else SSEDecoder()
        response = self.response
        try:
            for piece in http.iter_content(chunk_size=None if http.raw.chunked else 1024):
                for event in decoder.feed(piece):
                    chunk = self._chunk(event)
                    if response.time_to_first_chunk is None:
                        response.time_to_first_chunk = time.monotonic() - started
                    response.add_received(chunk, event.data)
                    yield Response((chunk,), streamed=True, model=self.model)
            for event in decoder.close():
                chunk = self._chunk(event)
                response.add_received(chunk, event.data)
                yield Response((chunk,), streamed=True, model=self.model)
        except requests.RequestException as exc:
            received = response.chunk_count
            if _is_read_timeout(exc):
                error = APITimeoutError(
                    f"No data from {self._transport.base_url} for {self._transport.timeout[1]:.0f} s after "
                    f"{received} chunk(s) of the answer; the partial answer is kept.")
                error.retryable = False  # it already cost the whole read timeout
                raise error from None
            raise APIConnectionError(self._transport.redact(
                f"The connection dropped after {received} chunk(s) of the answer "
                f"({exc.__class__.__name__}); the partial answer is kept.")) from None

    def _chunk(self, event) -> dict:
        try:
            chunk = json.loads(event.data.decode("utf-8"))  # UTF-8 by the SSE spec: skip json's detection
        except ValueError:
            raise GeminiError(f"The stream sent an event that is not JSON: {event.data[:200]!r}") from None
        if isinstance(chunk, dict) and "error" in chunk or isinstance(event, RawEvent):
            # Parsed from the redacted text, so no field of the error can carry the key.
            raise error_from_text(self._transport.redact(event.data.decode("utf-8", "replace")))
        return chunk

    def close(self) -> None:
        """Close the connection (the answer so far stays in `.response`)."""
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> "ResponseStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def until_done(self) -> Response:
        """Consume the stream and return the whole answer."""
        for _ in self:
            pass
        return self.response

    @property
    def text(self) -> str:
        return self.response.text
