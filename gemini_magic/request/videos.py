"""Request bodies for video and image generation, checked before anything is sent. No I/O.

- Veo: `veo_body(prompt, ...)` → `{instances: [{prompt, image?, lastFrame?, referenceImages?, video?}],
  parameters: {sampleCount, aspectRatio, resolution, durationSeconds, negativePrompt,
  personGeneration}}` for `models/{veo}:predictLongRunning` (images as `{bytesBase64Encoded, mimeType}`).
- Omni: `omni_body(prompt, ...)` → an Interactions API create with `response_format {type: "video",
  aspect_ratio, resolution, duration, delivery}`.
- Images: `image_config(...)` → `generationConfig` fields for Gemini image models (responseModalities
  and `imageConfig {aspectRatio, imageSize}`); `imagen_body(...)` → the retired Imagen `:predict` body.

Every value is checked against the values the models take (`VEO`, `OMNI`, `IMAGE_ASPECT_RATIOS`,
`IMAGE_SIZES`); a bad one is a SettingsError naming the allowed values. Images for `image=`,
`last_frame=` and `reference_images=` are any kernel object `{name}` accepts (converted by
`parts.to_part`), or an image file's path as text; one that is not an image, or is over `INPUT_IMAGE_LIMIT` bytes, is a SettingsError.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConversionError, SettingsError


@dataclass(frozen=True)
class VideoModelFamily:
    """The values one family of video models accepts."""

    name: str
    aspect_ratios: tuple
    resolutions: tuple
    durations: tuple
    max_videos: int


VEO = VideoModelFamily("Veo", ("16:9", "9:16"), ("720p", "1080p"), (4, 6, 8), 4)
OMNI = VideoModelFamily("Omni", ("16:9", "9:16"), ("360p", "720p", "1080p", "4k"), tuple(range(3, 11)), 1)
PERSON_GENERATION = ("allow_all", "allow_adult", "dont_allow")
IMAGE_ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
IMAGE_SIZES = ("1K", "2K", "4K")
INPUT_IMAGE_LIMIT = 20 * 1000 * 1000  # bytes of one input image (the inline request limit)
VIDEO_MODEL_HINT = "veo-3.1-generate-preview (Veo) or gemini-omni-1.1-flash (Omni)"


def video_family(model: str) -> VideoModelFamily:
    """VEO for `veo-*`, OMNI for `gemini-omni-*`; SettingsError for a model that does not make video."""
    if not isinstance(model, str) or not model.strip():
        raise SettingsError(f"Name a video model, such as {VIDEO_MODEL_HINT}.")
    name = model.strip().removeprefix("models/")
    if name.startswith("veo-"):
        return VEO
    if name.startswith("gemini-omni"):
        return OMNI
    raise SettingsError(f"{name} does not make videos; use a video model: {VIDEO_MODEL_HINT}. Nothing was sent.")


def veo_body(prompt: str, *, image: Any = None, last_frame: Any = None, reference_images: Any = None,
             video: Any = None, aspect_ratio: str | None = None, resolution: str | None = None,
             duration_seconds: int | None = None, negative_prompt: str | None = None, number_of_videos: int = 1,
             person_generation: str | None = None) -> dict:
    """The predictLongRunning body. Raises SettingsError for a value Veo does not take."""
    instance: dict = {"prompt": _prompt(prompt)}
    if image is not None:
        instance["image"] = image_input(image, "image")
    if last_frame is not None:
        if image is None:
            raise SettingsError("last_frame= needs image= too (the first frame): Veo interpolates between them.")
        instance["lastFrame"] = image_input(last_frame, "last_frame")
    if reference_images is not None:
        items = list(reference_images) if isinstance(reference_images, (list, tuple)) else [reference_images]
        if not 1 <= len(items) <= 3:
            raise SettingsError(f"reference_images takes 1 to 3 images, got {len(items)}.")
        instance["referenceImages"] = [{"image": image_input(item, f"reference_images[{n}]"),
                                        "referenceType": "asset"} for n, item in enumerate(items)]
    if video is not None:
        instance["video"] = {"uri": _video_uri(video)}
    parameters: dict = {"sampleCount": _count(number_of_videos, VEO)}
    _settings(parameters, VEO, aspect_ratio, resolution, duration_seconds,
              names=("aspectRatio", "resolution", "durationSeconds"))
    if parameters.get("resolution") == "1080p" and parameters.get("durationSeconds", 8) != 8:
        raise SettingsError("Veo makes 1080p videos 8 seconds long: use duration_seconds=8, or resolution='720p'.")
    if negative_prompt is not None:
        parameters["negativePrompt"] = _text(negative_prompt, "negative_prompt")
    if person_generation is not None:
        if person_generation not in PERSON_GENERATION:
            raise SettingsError(f"person_generation {person_generation!r} is not one Veo takes; use one of "
                                f"{', '.join(PERSON_GENERATION)}.")
        parameters["personGeneration"] = person_generation
    return {"instances": [instance], "parameters": parameters}


def omni_body(model: str, prompt: str, *, image: Any = None, aspect_ratio: str | None = None,
              resolution: str | None = None, duration_seconds: int | None = None, number_of_videos: int = 1,
              delivery: str = "uri", previous_interaction_id: str | None = None, **unsupported: Any) -> dict:
    """The Interactions API create for an Omni model. Raises SettingsError for what Omni does not take."""
    given = sorted(name for name, value in unsupported.items() if value is not None)
    if given:
        raise SettingsError(f"{model} (Omni) does not take {', '.join(given)}; use a Veo model "
                            "(veo-3.1-generate-preview) for those.")
    _count(number_of_videos, OMNI)
    fmt: dict = {"type": "video", "delivery": delivery}
    if delivery not in ("inline", "uri"):
        raise SettingsError(f"delivery {delivery!r}: use 'uri' (downloaded when needed) or 'inline'.")
    _settings(fmt, OMNI, aspect_ratio, resolution, duration_seconds, names=("aspect_ratio", "resolution", "duration"))
    text = _prompt(prompt)
    content: Any = text
    if image is not None:
        picture = image_input(image, "image")
        content = [{"type": "text", "text": text},
                   {"type": "image", "data": picture["bytesBase64Encoded"], "mime_type": picture["mimeType"]}]
    body = {"model": model, "input": content, "response_format": fmt}
    if previous_interaction_id:
        body["previous_interaction_id"] = previous_interaction_id
    return body


def image_config(aspect_ratio: str | None = None, image_size: str | None = None) -> dict:
    """generationConfig fields for a Gemini image model: IMAGE output, and imageConfig when asked."""
    config: dict = {"responseModalities": ["TEXT", "IMAGE"]}
    image: dict = {}
    if aspect_ratio is not None:
        image["aspectRatio"] = check_image_aspect_ratio(aspect_ratio)
    if image_size is not None:
        if str(image_size).upper() not in IMAGE_SIZES:
            raise SettingsError(f"image_size {image_size!r} is not one image models take; use one of "
                                f"{', '.join(IMAGE_SIZES)}.")
        image["imageSize"] = str(image_size).upper()
    if image:
        config["imageConfig"] = image
    return config


def check_image_aspect_ratio(value: Any) -> str:
    """The aspect ratio when an image model takes it; SettingsError listing the ones it does."""
    text = str(value).strip()
    if text not in IMAGE_ASPECT_RATIOS:
        raise SettingsError(f"aspect ratio {value!r} is not one image models take; use one of these W:H "
                            f"values: {', '.join(IMAGE_ASPECT_RATIOS)}.")
    return text


def imagen_body(prompt: str, *, number_of_images: int = 1, aspect_ratio: str | None = None,
                image_size: str | None = None) -> dict:
    """The Imagen `:predict` body (retired on the Gemini API in 2026; kept for services that still speak it)."""
    parameters: dict = {"sampleCount": _count(number_of_images, VideoModelFamily("Imagen", (), (), (), 4))}
    if aspect_ratio is not None:
        parameters["aspectRatio"] = check_image_aspect_ratio(aspect_ratio)
    if image_size is not None:
        parameters["sampleImageSize"] = str(image_size).upper()
    return {"instances": [{"prompt": _prompt(prompt)}], "parameters": parameters}


def image_input(obj: Any, what: str) -> dict:
    """A kernel object as `{bytesBase64Encoded, mimeType}`; SettingsError when it is no image or too big."""
    from ..parts import to_part

    named = obj if isinstance(obj, str) else None
    if named is not None and "\n" not in named and 0 < len(named) < 4096 and Path(named).expanduser().is_file():
        obj = Path(named).expanduser()  # a path given as text: that file, as `{name}` takes a Path
    try:
        part = to_part(obj)
    except ConversionError as error:
        raise SettingsError(f"{what}: {error}") from None
    blob = part.get("inlineData") if isinstance(part, dict) else None
    if not blob or not str(blob.get("mimeType", "")).startswith("image/"):
        got = f"a str that names no file ({named[:200]!r})" if named is not None else (
            f"a {type(obj).__name__}")
        raise SettingsError(f"{what} must be an image (a PIL image, a figure, an image file's path or bytes, ...); "
                            f"got {got}.")
    try:
        size = len(base64.b64decode(blob["data"], validate=False))
    except (binascii.Error, ValueError):
        size = len(blob["data"]) * 3 // 4
    if size > INPUT_IMAGE_LIMIT:
        raise SettingsError(f"{what} is {size:,} bytes; an input image may be at most {INPUT_IMAGE_LIMIT:,} bytes. "
                            "Make it smaller (photo.thumbnail((2048, 2048)) for a PIL image). Nothing was sent.")
    return {"bytesBase64Encoded": blob["data"], "mimeType": blob["mimeType"]}


def _settings(target: dict, family: VideoModelFamily, aspect_ratio, resolution, duration, names) -> None:
    checks = ((aspect_ratio, family.aspect_ratios, "aspect ratio"), (resolution, family.resolutions, "resolution"),
              (duration, family.durations, "duration (seconds)"))
    for name, (value, allowed, label) in zip(names, checks):
        if value is None:
            continue
        if label.startswith("duration") and isinstance(value, str) and value.strip().rstrip("s").isdigit():
            value = int(value.strip().rstrip("s"))  # "8" or "8s" as a magic option gives it
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        elif isinstance(value, str):
            value = value.strip()
        if value not in allowed:
            raise SettingsError(f"{family.name} takes the {label} {', '.join(str(a) for a in allowed)}; "
                                f"got {value!r}. Nothing was sent.")
        target[name] = value


def _count(value: Any, family: VideoModelFamily) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= family.max_videos:
        raise SettingsError(f"{family.name} makes 1 to {family.max_videos} at a time; got {value!r}.")
    return value


def _prompt(prompt: Any) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise SettingsError("Write a prompt: what the video or image should show.")
    return prompt.strip()


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{what} must be text.")
    return value.strip()


def _video_uri(video: Any) -> str:
    uri = getattr(video, "uri", video)
    if not isinstance(uri, str) or not uri:
        raise SettingsError("video= takes a Video made before (to extend it) or its Files URI.")
    return uri
