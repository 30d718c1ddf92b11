"""Video generation: Veo through `:predictLongRunning` and an operation, Omni through the Interactions API.

    operation = client.generate_videos("A lighthouse at dawn, waves rolling in", aspect_ratio="16:9")
    operation.name                       # "models/veo-3.1-generate-preview/operations/..."
    operation.wait()                     # polls with backoff; progress(operation) after each read
    video = operation.videos[0]          # a Video: .save("clip.mp4"), .bytes, .mime_type, inline display
    client.get_operation(operation.name) # re-attach later, even after a kernel restart

Veo (`veo-*`): the body (request/videos.py) goes to `models/{veo}:predictLongRunning`; the answer is
an operation polled with `GET /v1beta/{name}` until `done`, then `response.generateVideoResponse`
holds `generatedSamples[].video.uri` (Files download URIs), or the operation holds `error`, or zero
samples with `raiMediaFilteredCount`/`raiMediaFilteredReasons`. Omni (`gemini-omni-*`): one
Interactions API create with a video `response_format`; its `model_output` step holds the video
(`data`, or a `uri` to download). Both give the same `VideoOperation` and `Video` objects.

`wait()` raises VideoGenerationError (the service's message) when the operation failed and
VideoFilteredError (the filters' reasons) when every video was filtered; both carry the operation
name. Ctrl-C while waiting raises KeyboardInterrupt and loses nothing: the operation goes on at
the service, and `client.get_operation(name)` picks it up again.
"""

from __future__ import annotations

from typing import Any, Callable

from ..constants import DEFAULT_VIDEO_MODEL
from ..errors import SettingsError, VideoFilteredError, VideoGenerationError
from ..request.body import model_path
from ..request.videos import OMNI, omni_body, veo_body, video_family
from .video import Video

DEFAULT_POLL_SECONDS = 10.0   # the first wait between reads; Veo takes seconds to minutes
MAX_POLL_SECONDS = 60.0
BACKOFF = 1.5


class VideoOperation:
    """A video generation as last read.

    `.name` (re-attach with `client.get_operation(name)`), `.model`, `.done`, `.progress_percent`
    (when the service reports one), `.videos` (list of Video, once done), `.error` (the service's
    error dict of a failed operation), `.filtered` (the safety filters' reasons, when videos were
    held back), `.filtered_count`, `.raw` (the operation or interaction JSON), `.request` (the body sent).
    """

    def __init__(self, client: Any, raw: dict, model: str, request: dict | None = None) -> None:
        self.client = client
        self.model = model
        self.request = request
        self.reads = 0
        self._update(raw)

    @property
    def is_interaction(self) -> bool:
        return self.name.startswith("interactions/")

    def _update(self, raw: dict) -> None:
        self.raw = raw
        if "steps" in raw or "status" in raw:  # an Interactions API answer (Omni)
            self.name = f"interactions/{raw.get('id', '')}"
            status = str(raw.get("status", ""))
            self.done = status not in ("in_progress", "queued", "")
            self.error = raw.get("error") or ({"message": f"The interaction ended {status}."}
                                              if self.done and status != "completed" else None)
            self.progress_percent = 100 if self.done else None
            self.filtered, self.filtered_count = [], 0
            self.videos = [self._video(item) for step in raw.get("steps") or [] if step.get("type") == "model_output"
                           for item in step.get("content") or [] if item.get("type") == "video"]
            return
        self.name = str(raw.get("name", ""))
        self.done = bool(raw.get("done"))
        self.error = raw.get("error")
        meta = raw.get("metadata") or {}
        percent = meta.get("progressPercent")
        self.progress_percent = 100 if self.done else (int(percent) if isinstance(percent, (int, float)) else None)
        answer = (raw.get("response") or {}).get("generateVideoResponse") or {}
        self.filtered = [str(reason) for reason in answer.get("raiMediaFilteredReasons") or []]
        self.filtered_count = int(answer.get("raiMediaFilteredCount") or 0)
        self.videos = [self._video(sample.get("video") or {}) for sample in answer.get("generatedSamples") or []]

    def _video(self, item: dict) -> Video:
        data = item.get("data") or item.get("videoBytes") or item.get("bytesBase64Encoded")
        mime = item.get("mime_type") or item.get("mimeType") or "video/mp4"
        return Video(self.client.transport, uri=item.get("uri"), data=data, mime_type=mime, operation=self.name)

    def __repr__(self) -> str:
        state = ("failed" if self.error else "filtered" if self.filtered and not self.videos else
                 f"{len(self.videos)} video(s)") if self.done else (
            f"running, {self.progress_percent}%" if self.progress_percent is not None else "running")
        return f"VideoOperation({self.name!r}, {state})"

    @property
    def state(self) -> str:
        """"running", "failed", "filtered" (no video, every one held back) or "succeeded"."""
        if not self.done:
            return "running"
        if self.error:
            return "failed"
        return "filtered" if not self.videos else "succeeded"

    def poll(self) -> "VideoOperation":
        """Read the operation once more (one GET); returns self. Does nothing once done."""
        if self.done:
            return self
        transport = self.client.transport
        http = transport.send("GET", self.name, headers=_headers(self.name))  # models/{veo}/operations/{id}
        self.reads += 1
        self._update(transport.json(http))
        return self

    def wait(self, progress: Callable[["VideoOperation"], None] | None = None, poll: float = DEFAULT_POLL_SECONDS,
             max_poll: float = MAX_POLL_SECONDS, timeout: float | None = None) -> "VideoOperation":
        """Poll until done: first after `poll` seconds, each wait `BACKOFF` times longer up to `max_poll`;
        one read per wait. `progress(operation)` is called before the first wait and after each read.

        Returns self when there are videos. Raises VideoGenerationError (failed), VideoFilteredError
        (every video filtered), TimeoutError after `timeout` seconds (the operation goes on; wait again
        or re-attach), and the client's errors; KeyboardInterrupt passes through with nothing lost."""
        if not poll > 0 or not max_poll > 0:
            raise SettingsError("poll and max_poll are seconds, more than 0.")
        sleep = self.client.transport.sleep
        delay, slept = float(poll), 0.0
        while True:
            if progress is not None:
                progress(self)
            if self.done:
                return self.check()
            if timeout is not None and slept + delay > timeout:
                raise TimeoutError(f"{self.name} is still running after {timeout:g} s; call wait() again, or "
                                   f"re-attach later with client.get_operation({self.name!r}).")
            sleep(delay)
            slept += delay
            delay = min(float(max_poll), delay * BACKOFF)
            self.poll()

    def check(self) -> "VideoOperation":
        """Self when the operation made videos; VideoGenerationError / VideoFilteredError when not."""
        if not self.done:
            raise VideoGenerationError(f"{self.name} is still running; call wait() first.", self.name)
        if self.error:
            message = str(self.error.get("message") or self.error)
            raise VideoGenerationError(f"The video generation {self.name} failed: {message}", self.name, self.error)
        if not self.videos:
            reasons = "; ".join(self.filtered) or "no reason given"
            count = self.filtered_count or len(self.filtered)
            raise VideoFilteredError(f"The video generation {self.name} made no video: {count or 'every'} "
                                     f"video(s) filtered by the safety filters ({reasons}). Change the prompt "
                                     "or image and try again.", self.name, self.filtered, count)
        return self


def generate_videos(client: Any, prompt: str, *, model: str = DEFAULT_VIDEO_MODEL, image: Any = None,
                    last_frame: Any = None, reference_images: Any = None, video: Any = None,
                    aspect_ratio: str | None = None, resolution: str | None = None,
                    duration_seconds: int | None = None, negative_prompt: str | None = None,
                    number_of_videos: int = 1, person_generation: str | None = None) -> VideoOperation:
    """Start a video generation; returns its VideoOperation (Veo: running; Omni: usually done).

    Everything is checked before sending (SettingsError names the allowed values). Raises the
    client's errors from the service (a 404 NotFoundError for an unknown model), and CostLimitError
    when the client has `max_cost` set: videos are billed by the second and have no price in the
    table (pricing.py), so their cost cannot be checked against it."""
    if getattr(client, "max_cost", None) is not None:
        from ..errors import CostLimitError
        from ..pricing import format_usd

        raise CostLimitError(f"max_cost is {format_usd(client.max_cost)}, but a video's cost cannot be checked "
                             "against it (videos are billed by the second and have no price in the table); "
                             "unset max_cost to generate videos. Nothing was sent.")
    family = video_family(model)
    model = model.strip().removeprefix("models/")
    if family is OMNI:
        body = omni_body(model, prompt, image=image, aspect_ratio=aspect_ratio, resolution=resolution,
                         duration_seconds=duration_seconds, number_of_videos=number_of_videos,
                         last_frame=last_frame, reference_images=reference_images, video=video,
                         negative_prompt=negative_prompt, person_generation=person_generation)
        from .interactions import HEADERS

        http = client.transport.send("POST", "interactions", json=body, headers=HEADERS)
        return VideoOperation(client, client.transport.json(http), model, body)
    body = veo_body(prompt, image=image, last_frame=last_frame, reference_images=reference_images, video=video,
                    aspect_ratio=aspect_ratio, resolution=resolution, duration_seconds=duration_seconds,
                    negative_prompt=negative_prompt, number_of_videos=number_of_videos,
                    person_generation=person_generation)
    http = client.transport.send("POST", f"{model_path(model)}:predictLongRunning", json=body)
    return VideoOperation(client, client.transport.json(http), model, body)


def get_operation(client: Any, name: str) -> VideoOperation:
    """The operation `name` ("models/{veo}/operations/{id}" or "interactions/{id}"), read now.

    Raises SettingsError for a name of another shape, NotFoundError when the service has none."""
    text = str(name or "").strip()
    if not (text.startswith("interactions/") or ("/operations/" in text and text.startswith("models/"))):
        raise SettingsError(f"{name!r} is not a video operation name; it looks like "
                            "models/veo-3.1-generate-preview/operations/ID (operation.name shows it).")
    http = client.transport.send("GET", text, headers=_headers(text))
    model = text.split("/")[1] if text.startswith("models/") else ""
    operation = VideoOperation(client, client.transport.json(http), model)
    operation.model = operation.model or str(operation.raw.get("model", ""))
    return operation


def _headers(name: str) -> dict | None:
    """The Interactions API's revision header for an Omni operation (interactions/{id}); none for Veo."""
    if not name.startswith("interactions/"):
        return None
    from .interactions import HEADERS

    return HEADERS
