"""Image generation: Gemini image models through generateContent (the default), Imagen through `:predict`.

    images = client.generate_images("A watercolour fox", aspect_ratio="3:2")
    images[0]                       # a PIL image (shown inline in a notebook, as all of `images` is)
    images.save("out/")             # the original bytes as out/image-1.png, ...
    images.responses                # the Responses behind them (Gemini models)

Gemini image models (`gemini-2.5-flash-image`, ...) take `generationConfig.responseModalities`
["TEXT", "IMAGE"] and `imageConfig {aspectRatio, imageSize}` (request/videos.py `image_config`, the
same fields `%%gemini --image --aspect-ratio` sends): one generateContent call per image. An
`imagen-*` model speaks `:predict`, which the Gemini API switched off in 2026: its 404 becomes a
NotFoundError that says so and names the image model to use instead.
"""

from __future__ import annotations

import base64
from typing import Any

from ..constants import DEFAULT_IMAGE_MODEL
from ..errors import GeminiError, NotFoundError
from ..request.body import model_path
from ..request.videos import image_config, imagen_body

IMAGEN_RETIRED = ("Imagen's :predict was switched off for the Gemini API in 2026, so {model} is not served "
                  "there; use a Gemini image model instead: generate_images(prompt, model=\"{replacement}\").")


class GeneratedImages(list):
    """PIL images, in order, with `.blobs` (`{"mimeType", "data": bytes}`, the bytes as they came),
    `.responses` (Gemini models: one Response per image), `.model` and `save(folder)`."""

    def __init__(self, images: list, blobs: list[dict], model: str, responses: list | None = None) -> None:
        super().__init__(images)
        self.blobs, self.model, self.responses = blobs, model, list(responses or [])

    def save(self, folder: Any = ".", prefix: str = "image") -> list:
        """Write each image's original bytes to `folder` (image-1.png, ...; nothing overwritten); the Paths."""
        from ..answer.media_out import save_images

        return save_images(self.blobs, folder, prefix)

    def __repr__(self) -> str:
        return f"<{len(self)} image(s) from {self.model}>"


def generate_images(client: Any, prompt: Any, *, model: str = DEFAULT_IMAGE_MODEL, number_of_images: int = 1,
                    aspect_ratio: str | None = None, image_size: str | None = None) -> GeneratedImages:
    """Make `number_of_images` images for `prompt` (text, or a list with kernel images to edit).

    Raises SettingsError (an aspect ratio or size no image model takes, a count out of 1..4),
    NotFoundError (for imagen-*: says Imagen is retired and what to use), GeminiError when an answer
    holds no image (the model's text says why), and the client's errors from the service."""
    if isinstance(number_of_images, bool) or not isinstance(number_of_images, int) or not 1 <= number_of_images <= 4:
        from ..errors import SettingsError

        raise SettingsError(f"number_of_images must be 1 to 4; got {number_of_images!r}.")
    name = str(model).strip().removeprefix("models/")
    if name.startswith("imagen-"):
        return _imagen(client, name, prompt, number_of_images, aspect_ratio, image_size)
    config = image_config(aspect_ratio, image_size)
    blobs, responses = [], []
    for _ in range(number_of_images):
        response = client.generate(name, prompt, config=config)
        found = [blob for blob in response.inline_data if str(blob["mimeType"]).startswith("image/")]
        if not found:
            reason = (response.text or response.finish_reason or "no reason given").strip()
            raise GeminiError(f"{name} answered without an image: {reason[:300]}")
        blobs.extend(found)
        responses.append(response)
    return GeneratedImages(_pil(blobs), blobs, name, responses)


def _imagen(client, model, prompt, count, aspect_ratio, image_size) -> GeneratedImages:
    if not isinstance(prompt, str):
        from ..errors import SettingsError

        raise SettingsError(f"{model} (Imagen) takes a text prompt only; use {DEFAULT_IMAGE_MODEL} to edit images.")
    body = imagen_body(prompt, number_of_images=count, aspect_ratio=aspect_ratio, image_size=image_size)
    try:
        data = client.request("POST", f"{model_path(model)}:predict", json=body)
    except NotFoundError as error:
        raise NotFoundError(IMAGEN_RETIRED.format(model=model, replacement=DEFAULT_IMAGE_MODEL),
                            status_code=error.status_code, status=error.status) from None
    predictions = data.get("predictions") or []
    blobs = [{"mimeType": item.get("mimeType", "image/png"), "data": base64.b64decode(item["bytesBase64Encoded"])}
             for item in predictions if item.get("bytesBase64Encoded")]
    if not blobs:
        reasons = "; ".join(str(item.get("raiFilteredReason")) for item in predictions if item.get("raiFilteredReason"))
        raise GeminiError(f"{model} made no image: {reasons or 'the answer held none'}.")
    return GeneratedImages(_pil(blobs), blobs, model)


def _pil(blobs: list[dict]) -> list:
    import io

    from PIL import Image

    images = []
    for blob in blobs:
        image = Image.open(io.BytesIO(blob["data"]))
        image.load()
        images.append(image)
    return images
