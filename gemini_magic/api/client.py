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

import time
from typing import Any, Iterator

from ..constants import DEFAULT_API_VERSION, DEFAULT_IMAGE_MODEL, DEFAULT_VIDEO_MODEL
from ..errors import MissingAPIKeyError, SettingsError
from ..request.body import count_tokens_body, model_path
from ..request.pipeline import PreparedTurn, prepare_turn
from ..request.settings import GenerationSettings, check_model
from ..answer.response import Response
from ..wire.endpoint import resolve_api_key, resolve_base_url, validate_api_version, validate_timeout
from ..wire.transport import RetryPolicy, Transport
from .models import ModelInfo, TokenCount
from .stream import ResponseStream

DEFAULT_TIMEOUT = (10.0, 600.0)  # connect, read: thinking models can be silent for minutes


class Client:
    """A connection to the Gemini API (or anything that speaks it, such as the local emulator).

    Arguments: `api_key` (default: GOOGLE_API_KEY, then GEMINI_API_KEY), `base_url` (default:
    GOOGLE_GEMINI_BASE_URL, then the public endpoint), `api_version`, `timeout` (seconds, or a
    (connect, read) pair), `max_retries`, `retry` (a RetryPolicy for finer control), `prices` (price
    overrides for `Response.cost`, {model: {"input": ..., "output": ...}} in US dollars per 1M tokens,
    see pricing.py) and `max_cost` (US dollars: a prompt whose estimate is above it is refused before
    sending, see `check_cost`).
    """

    def __init__(self, api_key: str | None = None, base_url: str | None = None,
                 api_version: str = DEFAULT_API_VERSION, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
                 max_retries: int = 4, retry: RetryPolicy | None = None, prices: dict | None = None,
                 max_cost: float | None = None) -> None:
        key, self.key_source = resolve_api_key(api_key)
        if not key:
            raise MissingAPIKeyError()
        self.base_url, self.base_url_source = resolve_base_url(base_url)
        api_version, timeout = validate_api_version(api_version), validate_timeout(timeout)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise SettingsError(f"max_retries must be a whole number, 0 or more; got {max_retries!r}.")
        retry = retry or RetryPolicy(max_retries=max_retries)
        self.prices, self.max_cost = check_cost_settings(prices, max_cost)
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
        return self._transport.json(response)

    # --- generation: the turn pipeline (request/pipeline.py) ----------------------------------------

    def prepare(self, model: str, contents: Any = None, *, request: dict | PreparedTurn | None = None,
                settings: GenerationSettings | None = None, system: Any = None, history: list | None = None,
                tools: list | None = None, tool_config: dict | None = None, cached_content: str | None = None,
                config: dict | None = None, safety_settings: list | None = None, upload_progress: Any = None,
                dry_run: bool = False, schema: Any = None, cache: Any = None, tool_mode: str | None = None,
                **generation: Any) -> PreparedTurn:
        """The request `generate`/`stream` would send, as a `PreparedTurn` (`.body`, `.notes`).

        Kernel objects become parts; when the request would be over the 20 MB inline limit, its largest
        inline parts are uploaded through the Files API (notes say which). Generation settings come as
        keyword arguments in the API's terms (`temperature=0.2`, `max_output_tokens=100`,
        `thinking_level="low"`), as `config=` (a generationConfig dict) or as `settings=` (a
        GenerationSettings); all are validated once (SettingsError). `schema=` asks for an answer of a
        Python type (a dataclass, pydantic model, TypedDict, Enum, Literal, list[...] of those, or a JSON
        Schema dict): the response's `.parsed` and `.to_pandas()` read it back. `cache=` uses a cached
        content (what `create_cache` returned, or its name; the model must be the cache's). `tools=` lists
        kernel functions (declared from their signatures), built-in tool names ("google_search",
        "url_context", "code_execution", "google_maps") and Tool dicts; `tool_mode=` "auto" | "any" |
        "none" | "manual" becomes the toolConfig (request/tools.py). `request=` passes a body (or a
        PreparedTurn) built before, as it is."""
        if request is not None:
            if contents is not None or generation or any(v is not None for v in (
                    settings, system, history, tools, tool_config, cached_content, config, safety_settings, schema,
                    cache, tool_mode)):
                raise TypeError("Pass either request= or contents and options, not both.")
            turn = request if isinstance(request, PreparedTurn) else PreparedTurn(check_model(model), request)
            self._transport.refuse_key_in(turn.body)
            return turn
        if tools is not None or tool_mode is not None:
            from .tools import resolve_tools

            found, tool_config, _ = resolve_tools(tools, tool_config, tool_mode)
            tools = found.tools or None
        if cache is not None:
            from .caches import CachedContent, cache_name

            if isinstance(cache, CachedContent):
                cache.check_model(model)
            cached_content = cache_name(cache)
        merged = GenerationSettings.from_options(config=config, safety_settings=safety_settings, **generation)
        if settings is not None:
            merged = settings.merged(merged)
        turn = prepare_turn(contents, model=model, settings=merged, system=system, history=history, tools=tools,
                            tool_config=tool_config, cached_content=cached_content, client=self,
                            upload_progress=upload_progress, dry_run=dry_run, schema=schema)
        self._transport.refuse_key_in(turn.body)  # before the turn is shown (--raw, a dry run) or sent
        return turn

    def generate(self, model: str, contents: Any = None, **options: Any) -> Response:
        """One answer, in one piece. Options as for `prepare`: `system`, `history`, `tools`, `tool_config`,
        `tool_mode`, `cached_content`, `safety_settings`, `config`, `settings`, and generation settings
        such as `temperature=0.2`. With kernel functions in `tools` (and tool_mode "auto" or "any"), the
        model's calls run and their results go back until an answer, at most `max_calls` calls (default
        10); `on_call(record)` sees each call. Then the last Response is returned, with `.steps` and
        `.history_contents` (api/tools.py). Raises SettingsError/ConversionError before sending, APIError
        and APIConnectionError from the service (after retries)."""
        if "tools" in options or "max_calls" in options or "on_call" in options:
            from .tools import generate_with_tools, tooling_for

            tooling = tooling_for(options)
            if tooling is not None:
                return generate_with_tools(self, model, contents, tooling, options)
        turn = self.prepare(model, contents, **options)
        self.check_cost(turn)
        started = time.monotonic()
        http = self._transport.send("POST", f"{model_path(turn.model)}:generateContent", json=turn.body)
        response = Response([self._transport.json(http)], model=turn.model, request=turn.body,
                            answer_type=turn.answer_type, prices=self.prices)
        elapsed = time.monotonic() - started
        response.close(elapsed=elapsed, first_chunk=elapsed)  # a unary answer: whole on arrival
        return response

    def stream(self, model: str, contents: Any = None, **options: Any) -> ResponseStream:
        """The answer as it is generated: iterate for per-chunk Responses; `.response` holds the whole.
        Options as for `generate`; the request is prepared (and checked) now, sent on first iteration.
        With kernel functions in `tools`, a `ToolStream` (api/tools.py) yields the chunks of each model
        turn and runs the calls between turns."""
        if "tools" in options or "max_calls" in options or "on_call" in options:
            from .tools import ToolStream, tooling_for

            tooling = tooling_for(options)
            if tooling is not None:
                return ToolStream(self, model, self.prepare(model, contents, **options), tooling)
        turn = self.prepare(model, contents, **options)
        self.check_cost(turn)
        return ResponseStream(self._transport, turn, prices=self.prices)

    def estimate_cost(self, model: str, contents: Any = None, **options: Any):
        """What sending the prompt would cost at most, before sending it: a `pricing.Cost` of the prompt
        (counted by countTokens) plus, when `max_output_tokens` bounds the answer, the most the answer
        can cost, and for an image model the least its images cost (`pricing.IMAGE_TOKENS` each); None
        when the model has no price. Options as for `prepare` (or `request=`)."""
        from ..pricing import IMAGE_TOKENS, estimate_prompt

        turn = self.prepare(model, contents, **options)
        count = self.count_tokens(turn.model, request=turn)
        config = turn.body.get("generationConfig") or {}
        images = 0  # an image model's answer holds at least one image, billed at the image output rate
        if "IMAGE" in (config.get("responseModalities") or ()) or "-image" in turn.model:
            images = IMAGE_TOKENS * max(1, int(config.get("candidateCount") or 1))
        return estimate_prompt(count.total, turn.model, max_output_tokens=config.get("maxOutputTokens"),
                               cached_tokens=count.cached, prices=self.prices, image_tokens=images)

    def check_cost(self, turn: PreparedTurn) -> None:
        """With `max_cost` set: CostLimitError, before anything is generated, when the prompt's estimate
        (`estimate_cost`) is above it, or when the model has no price to check against. One countTokens
        request; nothing when `max_cost` is None."""
        if self.max_cost is None:
            return
        from ..errors import CostLimitError
        from ..pricing import format_usd

        cost = self.estimate_cost(turn.model, request=turn)
        if cost is None:
            raise CostLimitError(f"max_cost is {format_usd(self.max_cost)} but {turn.model} has no price in the "
                                 "table, so the cost cannot be checked; add its prices (prices={...}) or unset "
                                 "max_cost. Nothing was sent.")
        if cost.total > self.max_cost:
            bound = "" if (turn.body.get("generationConfig") or {}).get("maxOutputTokens") else \
                " for the prompt alone"
            raise CostLimitError(f"This request would cost about {cost}{bound} (prices of {cost.date}), above "
                                 f"max_cost {format_usd(self.max_cost)}; nothing was sent. Shorten the prompt, "
                                 "lower the answer's token limit, or raise max_cost.", cost=cost)

    def count_tokens(self, model: str, contents: Any = None, **options: Any) -> TokenCount:
        """How many tokens the prompt costs. With a system instruction, settings or `request=`, counts
        the whole GenerateContentRequest. Options as for `prepare`."""
        turn = self.prepare(model, contents, **options)
        data = self.request("POST", f"{model_path(turn.model)}:countTokens", json=count_tokens_body(turn.model, turn.body))
        return TokenCount(total=int(data.get("totalTokens", 0)), cached=int(data.get("cachedContentTokenCount", 0)),
                          details=data.get("promptTokensDetails", []), raw=data)

    # --- conversations -------------------------------------------------------------------------------

    def chat(self, model: str, system: Any = None, interactions: bool = False, store: bool = True,
             **settings: Any):
        """A `Chat` with `model`: `chat.send(prompt)`, `chat.stream(prompt)`, `chat.history`, `chat.undo()`,
        `chat.save(path)` (see api/chat.py). A turn enters the history only when its answer completed."""
        from .chat import Chat

        return Chat(self, model, system, interactions=interactions, store=store, **settings)

    def interact(self, model: str, input: Any, *, previous_interaction_id: str | None = None, store: bool = True,
                 stream: bool = False, system_instruction: str | None = None,
                 generation_config: dict | None = None, tools: list | None = None):
        """One call of the Interactions API (`POST /v1beta/interactions`): an `Interaction` (`.id`,
        `.status`, `.steps`, `.text`, `.usage`), or with `stream=True` an event stream whose
        `.interaction` is the answer so far. See api/interactions.py."""
        from .interactions import interact

        return interact(self, model, input, previous_interaction_id=previous_interaction_id, store=store,
                        stream=stream, system_instruction=system_instruction,
                        generation_config=generation_config, tools=tools)

    def get_interaction(self, interaction_id: str, *, include_input: bool = False):
        """A stored interaction by id (`NotFoundError` when the service has none)."""
        from .interactions import get_interaction

        return get_interaction(self, interaction_id, include_input=include_input)

    def delete_interaction(self, interaction_id: str) -> None:
        from .interactions import delete_interaction

        delete_interaction(self, interaction_id)

    # --- Live sessions (api/live.py) ------------------------------------------------------------------

    def live(self, model: str | None = None, *, response: str = "audio", voice: str | None = None,
             system_instruction: Any = None, tools: list | None = None, transcripts: bool = True,
             history: Any = None, resume: bool = True, context_window_compression: Any = None,
             **options: Any):
        """A `LiveSession`: a real-time conversation over one WebSocket (the Live API). A context manager.

            with client.live(tools=[get_rainfall]) as session:
                turn = session.send("Is Huế wetter than Hà Nội in October?")
                turn.text, turn.wav(), turn.tool_calls

        `model`: a Live model (default: the first native-audio one the backend lists). `response`:
        "audio" (speech, its transcript in `.text`) or "text". `voice`: a prebuilt voice. `tools`: kernel
        functions (run when called), built-in tool names, Tool dicts. `history`: Contents (or a Chat) to
        start from. `resume`: ask for resumption handles and reconnect on goAway or a drop.
        `context_window_compression`: True or its dict, for sessions longer than the window. Also
        `realtime_input_config`, `language`, `max_calls`, `on_call`, `name`, `connect_timeout` and
        generation settings (`temperature=...`). Raises SettingsError (not a Live model: the message
        names the Live models; text on an audio-only model; an unknown voice) before connecting, and
        LiveError / APIError / APIConnectionError from the connection. See api/live.py."""
        from .live import open_session

        return open_session(self, model, response=response, voice=voice, system_instruction=system_instruction,
                            tools=tools, transcripts=transcripts, history=history, resume=resume,
                            context_window_compression=context_window_compression, **options)

    # --- context caching (api/caches.py) --------------------------------------------------------------

    def create_cache(self, model: str, contents: Any, system: Any = None, ttl: Any = "3600s",
                     display_name: str | None = None, **options: Any):
        """Cache `contents` (converted exactly as a prompt) for `model`; returns a CachedContent to pass as
        `generate(..., cache=handle)`. `ttl`: "1h", "90m", "3600s" or seconds. Below the model's minimum
        token count for caching, SettingsError before anything is created. See api/caches.py."""
        from .caches import create_cache

        return create_cache(self, model, contents, system=system, ttl=ttl, display_name=display_name, **options)

    def get_cache(self, cache: Any):
        from .caches import get_cache

        return get_cache(self, cache)

    def list_caches(self) -> list:
        from .caches import list_caches

        return list_caches(self)

    def update_cache(self, cache: Any, ttl: Any = None, **options: Any):
        """A new lifetime for a cache (`ttl="2h"` or `expire_time=datetime`); returns it updated."""
        from .caches import update_cache

        return update_cache(self, cache, ttl, **options)

    def delete_cache(self, cache: Any) -> None:
        from .caches import delete_cache

        delete_cache(self, cache)

    # --- rows at scale: one prompt per row, the Batch API, embeddings (api/rows.py, batches.py, ...) ---

    def map(self, template_or_prompts: Any, rows: Any = None, *, model: str, concurrency: int = 8,
            rpm: float | None = None, schema: Any = None, cache_dir: Any = None, progress: Any = True,
            **settings: Any) -> list[Response]:
        """One answer per row, concurrently, in row order: `template_or_prompts` (`{row.col}` fields) over
        `rows` (DataFrame, Series, list), or a list of prompts. Answers are cached for this client's life
        (and in `cache_dir` on disk), so a re-run after Ctrl-C sends no request twice. `progress`: True
        (a progress view under IPython), False, or a callable(done, total, errors, tokens). A failed row's
        Response has `.error`. Raises RowsInterrupted (`.responses`) on Ctrl-C. See api/rows.py."""
        from .row_runs import map_rows

        return map_rows(self, template_or_prompts, rows, model=model, concurrency=concurrency, rpm=rpm,
                        schema=schema, cache_dir=cache_dir, progress=progress, **settings)

    def batch(self, requests_or_prompts: Any, *, model: str, display_name: str | None = None, **settings: Any):
        """Start a Batch API job (half price, within 24 h): a BatchJob with `.name`, `.state`, `.counts`,
        `.wait()`, `.results()`, `.cancel()`. Prompts are prepared with `settings`. See api/batches.py."""
        from .batches import create_batch

        return create_batch(self, requests_or_prompts, model=model, display_name=display_name, **settings)

    def get_batch(self, name: str):
        """The batch job `name` ("batches/..."), read now: re-attach after a kernel restart."""
        from .batches import get_batch

        return get_batch(self, name)

    def list_batches(self) -> list:
        from .batches import list_batches

        return list_batches(self)

    def embed(self, texts: Any, model: str = "gemini-embedding-001", task_type: str | None = None,
              dimensions: int | None = None, **options: Any):
        """Embed every text: a float32 numpy array of shape (len(texts), dimensions), in input order,
        through batchEmbedContents in groups of 100 (`rpm=`, `tpm=` caps), or `batch=True` through one
        Batch API job (asyncBatchEmbedContent; re-run re-attaches). See api/embeddings.py."""
        from .embeddings import embed

        return embed(self, texts, model=model, task_type=task_type, dimensions=dimensions, **options)

    # --- videos and images (api/videos.py, api/images.py) ------------------------------------------

    def generate_videos(self, prompt: str, *, model: str = DEFAULT_VIDEO_MODEL, image: Any = None,
                        last_frame: Any = None, reference_images: Any = None, video: Any = None,
                        aspect_ratio: str | None = None, resolution: str | None = None,
                        duration_seconds: int | None = None, negative_prompt: str | None = None,
                        number_of_videos: int = 1, person_generation: str | None = None):
        """Start a video generation (Veo `:predictLongRunning`, or Omni through the Interactions API);
        returns a VideoOperation: `.wait()` polls with backoff, then `.videos[0].save("clip.mp4")`.
        `image=` (first frame), `last_frame=`, `reference_images=`: any kernel image `{name}` accepts.
        Values are checked first (SettingsError names the allowed ones); see api/videos.py."""
        from .videos import generate_videos

        return generate_videos(self, prompt, model=model, image=image, last_frame=last_frame,
                               reference_images=reference_images, video=video, aspect_ratio=aspect_ratio,
                               resolution=resolution, duration_seconds=duration_seconds,
                               negative_prompt=negative_prompt, number_of_videos=number_of_videos,
                               person_generation=person_generation)

    def get_operation(self, name: str):
        """Re-attach to a video operation started earlier (after Ctrl-C or a kernel restart) by its name."""
        from .videos import get_operation

        return get_operation(self, name)

    def generate_images(self, prompt: Any, *, model: str = DEFAULT_IMAGE_MODEL, number_of_images: int = 1,
                        aspect_ratio: str | None = None, image_size: str | None = None):
        """Images for `prompt` (text, or a list with kernel images to edit) from a Gemini image model
        (generateContent with imageConfig); `imagen-*` speaks `:predict`, and its 404 says Imagen is
        retired on the Gemini API. Returns GeneratedImages (a list of PIL images); see api/images.py."""
        from .images import generate_images

        return generate_images(self, prompt, model=model, number_of_images=number_of_images,
                               aspect_ratio=aspect_ratio, image_size=image_size)

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
        from ..wire.upload import get_file

        return get_file(self._transport, name)

    def list_files(self, page_size: int = 100) -> list:
        from ..wire.upload import File

        return [File.from_json(f) for f in self.paginate("files", "files", page_size)]

    def delete_file(self, name: str) -> None:
        from ..wire.upload import delete_file

        delete_file(self._transport, name)


def check_cost_settings(prices: Any, max_cost: Any) -> tuple[dict | None, float | None]:
    """`prices` (pricing.check_prices) and `max_cost` (dollars, above 0, or None) checked: SettingsError."""
    import math

    from ..pricing import check_prices

    if prices:
        try:
            check_prices(prices)
        except ValueError as error:
            raise SettingsError(str(error)) from None
    if max_cost is not None and (isinstance(max_cost, bool) or not isinstance(max_cost, (int, float))
                                 or not math.isfinite(max_cost) or max_cost <= 0):
        raise SettingsError(f"max_cost must be a number of US dollars above 0, or None; got {max_cost!r}.")
    return (dict(prices) if prices else None), (float(max_cost) if max_cost is not None else None)


def _file_path(name: str) -> str:
    from ..wire.upload import file_path

    return file_path(name)
