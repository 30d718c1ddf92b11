"""Videos (Veo, Omni) and Imagen as the service makes them, shaped like its answers.

* Veo: ``POST models/{veo}:predictLongRunning`` ``{instances: [{prompt, image?, lastFrame?,
  referenceImages?, video?}], parameters: {sampleCount, aspectRatio, resolution, durationSeconds,
  personGeneration, negativePrompt, enhancePrompt}}`` answers an operation ``{name:
  "models/{veo}/operations/{id}"}``. ``GET /v1beta/{name}`` answers ``done: false`` (with a progress
  percentage in ``metadata``) for ``polls`` reads, then ``done: true`` with
  ``response.generateVideoResponse.generatedSamples[].video.uri``: a Files download URI of a real
  two-second H.264/AAC MP4 (``assets/sample.mp4``, made once with ffmpeg; no encoder runs here).
  Faults: ``video_failed`` (the operation ends with ``error``), ``video_filtered`` (zero samples,
  ``raiMediaFilteredCount`` and ``raiMediaFilteredReasons``).
* Downloads (``GET /v1beta/files/{id}:download?alt=media``, also under ``/download/``) stream the
  file from disk, announce ``Accept-Ranges: bytes`` and answer ``Range: bytes=N-`` with 206. Faults:
  ``cut_download`` (``at=`` bytes, then the connection closes), ``redirect_download`` (a 302 to the
  same file on ``localhost`` instead of ``127.0.0.1``: another origin, which must get no key).
* Omni: ``POST interactions`` with a ``gemini-omni-*`` model and ``response_format {type: "video",
  aspect_ratio, resolution, duration, delivery: "inline" | "uri"}`` answers a completed interaction
  whose ``model_output`` step holds ``{type: "video", data | uri, mime_type: "video/mp4"}``.
* Imagen: ``POST models/imagen-*:predict`` answers 404, as the Gemini API does since Imagen was
  switched off there in 2026; with ``imagen_retired=False`` it answers ``predictions[]`` of
  deterministic PNGs instead (the old behaviour, for testing a client's ``:predict`` path).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import shutil
import string
import threading
import time

from .errors import ApiError, bad_request
from .files import StoredFile

ASSET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", "sample.mp4")
VIDEO_MIME = "video/mp4"
OPERATION_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
VEO_ASPECT_RATIOS = ("16:9", "9:16")
VEO_RESOLUTIONS = ("720p", "1080p")
VEO_DURATIONS = (4, 6, 8)
OMNI_RESOLUTIONS = ("360p", "720p", "1080p", "4k")
OMNI_DURATIONS = tuple(range(3, 11))
PERSON_GENERATION = ("allow_all", "allow_adult", "dont_allow")
INSTANCE_FIELDS = {"prompt", "image", "lastFrame", "referenceImages", "video"}
PARAMETER_FIELDS = {"sampleCount", "aspectRatio", "resolution", "durationSeconds", "personGeneration",
                    "negativePrompt", "enhancePrompt", "seed", "numberOfVideos"}
IMAGE_LIMIT = 20 * 1000 * 1000
_ID = string.ascii_lowercase + string.digits
FILTER_REASON = ("Your current safety settings for person generation prevented one or more videos from "
                 "being generated. Consider relaxing them. Support codes: 58061214")


def is_veo(model: str) -> bool:
    return model.startswith("veo-")


def is_omni(model: str) -> bool:
    return model.startswith("gemini-omni")


class VideoStore:
    """Video operations by id, and the settings that script them (``polls`` reads until done)."""

    def __init__(self, files, polls: int = 2, imagen_retired: bool = True):
        self.files = files
        self.polls = self._initial_polls = int(polls)
        self.imagen_retired = self._initial_retired = bool(imagen_retired)
        self.operations: dict[str, dict] = {}
        self.stats = {"operation_reads": 0}
        self.lock = threading.Lock()

    def clear(self) -> None:
        """Forget every operation; the settings go back to the constructor's."""
        with self.lock:
            self.operations.clear()
            self.stats["operation_reads"] = 0
            self.polls, self.imagen_retired = self._initial_polls, self._initial_retired

    # -- Veo ------------------------------------------------------------------------------------
    def create(self, model: str, body: dict, fault, base_url: str) -> dict:
        """Start an operation for a predictLongRunning body; raises ApiError as the service does."""
        if not is_veo(model):
            raise ApiError(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                                "predictLongRunning. Call ListModels to see the list of available models and "
                                "their supported methods.")
        instance, parameters = _check_veo(body)
        count = int(parameters.get("sampleCount", 1))
        op_id = "".join(secrets.choice(_ID) for _ in range(12))
        outcome = fault.kind if fault is not None and fault.kind in ("video_failed", "video_filtered") else "ok"
        with self.lock:
            self.operations[op_id] = {"model": model, "reads": 0, "outcome": outcome, "count": count,
                                      "prompt": instance["prompt"], "message": getattr(fault, "params", {}).get(
                                          "message") if fault is not None else None, "files": []}
        return {"name": f"models/{model}/operations/{op_id}"}

    def get(self, model: str, op_id: str, base_url: str) -> dict:
        """The operation as read now: each read brings it one step closer to done."""
        with self.lock:
            self.stats["operation_reads"] += 1
            op = self.operations.get(op_id)
            if op is None or op["model"] != model:
                raise ApiError(404, f"Operation models/{model}/operations/{op_id} was not found.",
                               status="NOT_FOUND")
            op["reads"] += 1
            reads, done = op["reads"], op["reads"] > self.polls
        name = f"models/{model}/operations/{op_id}"
        if not done:
            percent = int(100 * reads / (self.polls + 1))
            return {"name": name, "metadata": {"progressPercent": percent}}
        if op["outcome"] == "video_failed":
            return {"name": name, "done": True, "error": {
                "code": 13, "message": op["message"] or "Video generation failed due to an internal error. "
                                                       "Please try again later.", "status": "INTERNAL"}}
        response: dict = {"@type": OPERATION_TYPE}
        if op["outcome"] == "video_filtered":
            response["generateVideoResponse"] = {"raiMediaFilteredCount": op["count"],
                                                 "raiMediaFilteredReasons": [FILTER_REASON]}
        else:
            with self.lock:
                if not op["files"]:
                    op["files"] = [self.store_video(f"{op_id}-{n}") for n in range(op["count"])]
                files = list(op["files"])
            response["generateVideoResponse"] = {"generatedSamples": [
                {"video": {"uri": f"{base_url}/v1beta/files/{file_id}:download?alt=media"}} for file_id in files]}
        return {"name": name, "done": True, "response": response}

    def store_video(self, file_id: str) -> str:
        """Put a copy of the sample MP4 into the file store as ``files/{file_id}``; returns the id."""
        store = self.files
        path = os.path.join(store.directory, f"file-{file_id}")
        shutil.copyfile(ASSET, path)
        size = os.path.getsize(path)
        with open(path, "rb") as stream:
            digest = hashlib.sha256(stream.read()).hexdigest()
        now = time.time()
        stored = StoredFile(file_id, f"video-{file_id}.mp4", VIDEO_MIME, size, path, digest, now, now,
                            now + store.ttl)
        with store.lock:
            store.files[stored.name] = stored
        return file_id

    # -- Omni (Interactions API) ----------------------------------------------------------------
    def omni(self, body: dict, base_url: str) -> dict:
        """A completed interaction holding one video, for a create with a gemini-omni-* model."""
        model = str(body.get("model", ""))
        fmt = body.get("response_format") or {}
        if not isinstance(fmt, dict) or fmt.get("type") != "video":
            raise bad_request(f"{model} makes videos: set response_format to {{\"type\": \"video\"}}.",
                              [("response_format.type", "must be video")])
        _choice(fmt, "aspect_ratio", VEO_ASPECT_RATIOS, "response_format.")
        _choice(fmt, "resolution", OMNI_RESOLUTIONS, "response_format.")
        _choice(fmt, "duration", OMNI_DURATIONS, "response_format.")
        _choice(fmt, "delivery", ("inline", "uri"), "response_format.")
        prompt = body.get("input")
        if not prompt:
            raise bad_request("input is required.", [("input", "is required")])
        interaction_id = "v_" + "".join(secrets.choice(_ID) for _ in range(16))
        if fmt.get("delivery", "inline") == "uri":
            file_id = self.store_video(interaction_id.replace("_", "-"))
            video = {"type": "video", "uri": f"{base_url}/v1beta/files/{file_id}:download?alt=media",
                     "mime_type": VIDEO_MIME}
        else:
            with open(ASSET, "rb") as stream:
                video = {"type": "video", "data": base64.b64encode(stream.read()).decode("ascii"),
                         "mime_type": VIDEO_MIME}
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return {"id": interaction_id, "status": "completed", "model": model, "created": stamp, "updated": stamp,
                "steps": [{"type": "model_output", "content": [video]}],
                "usage": {"total_tokens": 0, "total_input_tokens": 0, "total_output_tokens": 0}}

    # -- Imagen ---------------------------------------------------------------------------------
    def predict(self, model: str, body: dict, draw_png) -> dict:
        """``:predict`` for an imagen-* model: the retirement 404, or predictions when not retired."""
        if not model.startswith("imagen-") or self.imagen_retired:
            raise ApiError(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                                "predict. Call ListModels to see the list of available models and their "
                                "supported methods.")
        instances = body.get("instances")
        if not isinstance(instances, list) or not instances or not isinstance(instances[0], dict) \
                or not instances[0].get("prompt"):
            raise bad_request("instances[0].prompt is required.", [("instances[0].prompt", "is required")])
        parameters = body.get("parameters") or {}
        ratio = str(parameters.get("aspectRatio", "1:1"))
        count = int(parameters.get("sampleCount", 1))
        png = base64.b64encode(draw_png(str(instances[0]["prompt"]), ratio)).decode("ascii")
        return {"predictions": [{"bytesBase64Encoded": png, "mimeType": "image/png"} for _ in range(count)]}


def _check_veo(body: dict) -> tuple[dict, dict]:
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        raise bad_request("instances must hold exactly one instance.", [("instances", "must hold one instance")])
    instance = instances[0]
    for key in instance:
        if key not in INSTANCE_FIELDS:
            raise bad_request(f'Invalid JSON payload received. Unknown name "{key}" at \'instances[0]\': '
                              "Cannot find field.")
    if not isinstance(instance.get("prompt"), str) or not instance["prompt"].strip():
        raise bad_request("instances[0].prompt is required.", [("instances[0].prompt", "is required")])
    for key in ("image", "lastFrame"):
        if key in instance:
            _check_image(instance[key], f"instances[0].{key}")
    for number, reference in enumerate(instance.get("referenceImages") or []):
        _check_image((reference or {}).get("image"), f"instances[0].referenceImages[{number}].image")
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise bad_request("parameters must be an object.")
    for key in parameters:
        if key not in PARAMETER_FIELDS:
            raise bad_request(f'Invalid JSON payload received. Unknown name "{key}" at \'parameters\': '
                              "Cannot find field.")
    _choice(parameters, "aspectRatio", VEO_ASPECT_RATIOS, "parameters.")
    _choice(parameters, "resolution", VEO_RESOLUTIONS, "parameters.")
    _choice(parameters, "durationSeconds", VEO_DURATIONS, "parameters.")
    _choice(parameters, "personGeneration", PERSON_GENERATION, "parameters.")
    count = parameters.get("sampleCount", 1)
    if not isinstance(count, int) or not 1 <= count <= 4:
        raise bad_request(f"parameters.sampleCount must be 1 to 4, got {count!r}.",
                          [("parameters.sampleCount", "must be 1 to 4")])
    if parameters.get("resolution") == "1080p" and parameters.get("durationSeconds", 8) != 8:
        raise bad_request("1080p videos are 8 seconds long: set durationSeconds to 8.",
                          [("parameters.durationSeconds", "must be 8 at 1080p")])
    return instance, parameters


def _check_image(image, path: str) -> None:
    if not isinstance(image, dict) or not image.get("bytesBase64Encoded") or not image.get("mimeType"):
        raise bad_request(f"{path} needs bytesBase64Encoded and mimeType.", [(path, "needs bytes and a type")])
    if not str(image["mimeType"]).startswith("image/"):
        raise bad_request(f"{path}.mimeType must be an image type, got {image['mimeType']!r}.")
    try:
        data = base64.b64decode(image["bytesBase64Encoded"], validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"Invalid value at '{path}.bytesBase64Encoded': not base64.") from None
    if len(data) > IMAGE_LIMIT:
        raise bad_request(f"{path} is {len(data):,} bytes; images may be at most {IMAGE_LIMIT:,} bytes.")


def _choice(values: dict, key: str, allowed: tuple, prefix: str) -> None:
    if key in values and values[key] not in allowed:
        raise bad_request(f"{prefix}{key} {values[key]!r} is not supported; use one of "
                          f"{', '.join(str(a) for a in allowed)}.", [(prefix + key, "unsupported value")])
