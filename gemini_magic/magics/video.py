"""`%%gemini --video`: the cell's text becomes a video, through `Client.generate_videos` (api/videos.py).

    %%gemini --video --image {photo} --aspect-ratio 9:16 --duration 8 -o clip
    The waves roll in slowly; the camera pulls back.

The view shows the operation's progress, then the video (render/video.py). Ctrl-C stops waiting and
keeps the operation (its name is shown, with how to re-attach); running the cell again picks it up.
Re-running a cell that already made a video with the same options shows that video again and says
so: a second paid generation needs `--new`. A re-run after a failed or filtered generation tries again. `_gemini` is the VideoOperation, `-o NAME` the Video.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError

from ..errors import GeminiError, VideoGenerationError
from . import explain
from .display import show_markdown
from .names import check_out_name

#: Options of %%gemini that have no meaning for a video (refused, never silently ignored).
_NOT_FOR_VIDEO = ("chat", "live", "text", "voice", "interactions", "no_store", "over", "into", "rpm", "cache_dir",
                  "tools", "tool_mode", "max_calls", "schema", "json", "speak", "cache", "search", "code", "maps",
                  "url_context", "batch", "dry_run", "attach", "system", "temperature", "top_p", "top_k",
                  "max_tokens", "stop", "seed", "candidates", "thinking_budget", "thinking_level", "show_thoughts",
                  "format", "raw")


@dataclass
class MadeVideo:
    """What a cell started: the request's fingerprint and its operation."""

    fingerprint: str
    operation: Any


def run_video(magics, args, prompt_text: str):
    """Make (or pick up) the cell's video, show its progress and the video, bind the results."""
    refused = [name for name in _NOT_FOR_VIDEO if getattr(args, name, None) is not None
               and getattr(args, name) is not False]  # -t 0 is given too
    if refused:
        flags = ", ".join("--" + name.replace("_", "-") for name in refused)
        raise UsageError(f"{flags} do(es) not go with --video: a video is made from the cell's text and the "
                         "--image {name}, --aspect-ratio, --resolution, --duration and --negative options.")
    namespace = magics.shell.user_ns if magics.shell is not None else {}
    check_out_name(args.out, namespace)
    prompt = _prompt(prompt_text, magics.context.namespace(namespace))
    image = _image(args.image, namespace)
    model = args.model or magics.video_model
    options = {"model": model, "image": image, "aspect_ratio": args.aspect_ratio, "resolution": args.resolution,
               "duration_seconds": args.duration, "negative_prompt": args.negative}
    client = magics.backend.client()
    made: dict = magics.__dict__.setdefault("made_videos", {})  # by cell id: what each cell started
    cell = magics.context.cell_id or prompt
    fingerprint = _fingerprint(prompt, options)
    earlier = made.get(cell)
    if earlier is not None and earlier.fingerprint == fingerprint and earlier.operation.state in ("failed",
                                                                                                "filtered"):
        show_markdown("ℹ️ {0} made no video, so this run makes a new one.", earlier.operation.name)
        earlier = None  # nothing was made to show again: try again
    if earlier is not None and earlier.fingerprint == fingerprint and not args.new:
        operation = earlier.operation
        if operation.done:
            show_markdown("ℹ️ This cell already made this video ({0}); it is shown again and nothing new was "
                          "generated. Add `--new` to make another (a new, paid generation).", operation.name)
        else:
            show_markdown("ℹ️ Picking up {0}, started by an earlier run of this cell.", operation.name)
    else:
        try:
            operation = client.generate_videos(prompt, **options)
        except (GeminiError, TypeError, ValueError) as error:
            raise UsageError(explain.message(error)) from None
        made[cell] = MadeVideo(fingerprint, operation)
    return _wait_and_show(magics, args, operation)


def _wait_and_show(magics, args, operation):
    from IPython.display import display

    from ..render.video import OperationProgress, video_bundle

    namespace = magics.shell.user_ns if magics.shell is not None else {}
    namespace["_gemini"] = operation
    progress = OperationProgress(f"Video ({operation.model})")
    started = time.monotonic()
    try:
        operation.wait(progress=progress, poll=magics.video_poll)
    except KeyboardInterrupt:
        progress.finish(f"Stopped waiting for {operation.name}.")
        show_markdown("⏸️ Stopped waiting; the video goes on being made at the service, and nothing is lost. "
                      "Run this cell again to pick it up, or in Python: {0:code}, then `operation.wait()`.",
                      f"operation = client.get_operation(\"{operation.name}\")")
        return None
    except VideoGenerationError as error:
        progress.finish(f"No video from {operation.name}.")
        raise UsageError(str(error)) from None
    except GeminiError as error:
        progress.finish(f"Stopped waiting for {operation.name}.")
        raise UsageError(f"{explain.message(error)} The operation is {operation.name}: run the cell again to pick "
                         "it up.") from None
    count = len(operation.videos)
    progress.finish(f"{operation.model}: {count} video{'s' if count != 1 else ''} in "
                    f"{time.monotonic() - started:.0f} s · {operation.name}")
    if args.out:  # bound before the download, so that a failed one can be saved again from it
        namespace[args.out] = operation.videos[0] if count == 1 else list(operation.videos)
    again = f", or `{args.out}.save(path)`" if args.out and count == 1 else ""
    for video in operation.videos:
        try:  # downloaded here, not inside display() (IPython would print a formatter's error as a traceback)
            bundle = video_bundle(video)
        except KeyboardInterrupt:
            show_markdown("⏸️ Stopped downloading the video of {0}; it is made and stays at the service. Run "
                          f"this cell again to download it (nothing new is generated){again}.", operation.name)
            return None
        except (GeminiError, OSError) as error:
            raise UsageError(f"{explain.message(error)} The video of {operation.name} is made and stays at the "
                             f"service: run this cell again to download it (nothing new is generated){again}.") from None
        display(bundle, raw=True)
    return None


def _prompt(prompt_text: str, namespace) -> str:
    from ..prompt import split_template

    try:
        pieces = split_template(prompt_text.strip("\n"), namespace)
    except GeminiError as error:
        raise UsageError(explain.message(error)) from None
    objects = [piece for piece in pieces if not isinstance(piece, str)]
    if objects:
        raise UsageError(f"A video prompt is text; a {type(objects[0]).__name__} in it cannot go in. Give an image "
                         "with --image {name} (it becomes the first frame).")
    text = "".join(pieces).strip()
    if not text:
        raise UsageError("The prompt is empty: describe the video in the cell below %%gemini --video.")
    return text


def _image(value, namespace: dict):
    if value is None:
        return None
    if value is True:
        raise UsageError("--image needs a kernel image with --video: --image {photo} (it becomes the first "
                         "frame); leave --image out for a video from the text alone.")
    name = str(value).strip()
    if not (name.startswith("{") and name.endswith("}")):
        raise UsageError(f"--image {value}: name a kernel image in braces, such as --image {{photo}}.")
    key = name.strip("{} ")
    if key not in namespace:
        raise UsageError(f"--image {name}: there is no variable {key} in the kernel.")
    return namespace[key]


def _fingerprint(prompt: str, options: dict) -> str:
    """The same for a re-run with the same prompt, options and image (its converted bytes' hash)."""
    described = {key: value for key, value in options.items() if key != "image"}
    image = options.get("image")
    if image is not None:
        from ..parts import to_part

        try:
            part = to_part(image)
            described["image"] = hashlib.sha256(json.dumps(part, sort_keys=True).encode()).hexdigest()
        except GeminiError:
            described["image"] = repr(type(image))  # refused later, with its own message
    return hashlib.sha256(json.dumps([prompt, described], sort_keys=True, default=str).encode()).hexdigest()
