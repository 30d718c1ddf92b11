"""Images and speech the emulator makes, shaped like the service's answers.

* Image output: for an image model (``gemini-2.5-flash-image``, ``gemini-3-pro-image-preview``, any
  name with ``image``; other models refuse ``responseModalities`` with ``IMAGE`` or ``AUDIO`` with the
  service's 400, as they accept TEXT only), the answer is a short
  text part, then an ``inlineData`` ``image/png`` part (recordings/image_output): a deterministic PNG
  drawn with Pillow, the prompt's first words on a background whose colour comes from the prompt,
  sized by ``imageConfig.aspectRatio`` as gemini-2.5-flash-image sizes it. Usage reports the image's
  1290 tokens in ``candidatesTokensDetails`` (as recorded).
* Speech: a TTS model (name with ``tts``) answers one ``inlineData`` part ``audio/L16;codec=pcm;
  rate=24000``: raw little-endian 16-bit mono PCM with no header, a tone of ``MS_PER_WORD`` per word
  of the text to speak, its pitch chosen by the prebuilt voice. No text part, as the service sends.

Pillow is imported only when an image is drawn, so the emulator starts without it.
"""

from __future__ import annotations

import array
import base64
import hashlib
import io
import math
import sys
from dataclasses import dataclass

from gemini_magic.constants import EMULATOR_MARKER

from .errors import ApiError, bad_request

IMAGE_TOKENS = 1290          # per generated image (recordings/image_output, both recordings)
AUDIO_TOKENS_PER_SECOND = 25
SAMPLE_RATE = 24000
PCM_MIME_TYPE = f"audio/L16;codec=pcm;rate={SAMPLE_RATE}"
MS_PER_WORD = 60
PROMPT_WORDS_DRAWN = 6
# gemini-2.5-flash-image's output sizes by aspect ratio (the API's image generation guide).
IMAGE_SIZES = {"1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184),
               "4:3": (1184, 864), "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344),
               "16:9": (1344, 768), "21:9": (1536, 672)}
VOICES = ("Zephyr", "Puck", "Charon", "Kore", "Fenrir", "Leda", "Orus", "Aoede", "Callirrhoe", "Autonoe",
          "Enceladus", "Iapetus", "Umbriel", "Algieba", "Despina", "Erinome", "Algenib", "Rasalgethi",
          "Laomedeia", "Achernar", "Alnilam", "Schedar", "Gacrux", "Pulcherrima", "Achird",
          "Zubenelgenubi", "Vindemiatrix", "Sadachbia", "Sadaltager", "Sulafat")
DEFAULT_VOICE = "Kore"
USAGE_ORDER = ("promptTokenCount", "cachedContentTokenCount", "candidatesTokenCount", "totalTokenCount",
               "promptTokensDetails", "cacheTokensDetails", "candidatesTokensDetails")


@dataclass
class MediaAnswer:
    """What a media answer adds: the text before the media ("" for none) and the inlineData part."""

    text: str
    part: dict
    modality: str
    tokens: int


def is_image_model(model: str) -> bool:
    return "image" in model.lower()


def is_tts_model(model: str) -> bool:
    return "tts" in model.lower()


def modalities(settings: dict) -> list[str]:
    value = settings.get("responseModalities") or []
    return [str(item).upper() for item in value] if isinstance(value, list) else []


def plan(request, model: str, prompt: str) -> MediaAnswer | None:
    """The media this request asks for, or None for a plain text answer.

    Raises ApiError as the service does: a TTS model asked for text, or a text model asked for audio
    or images;
    an unknown aspect ratio or voice."""
    settings = request.settings
    wanted = modalities(settings)
    if is_tts_model(model):
        if wanted and wanted != ["AUDIO"]:
            raise ApiError(400, f"The requested combination of response modalities ({', '.join(wanted)}) is "
                                f"not supported by the model. models/{model} accepts the following "
                                "combination of response modalities:\n* AUDIO\n")
        return speech(prompt, voice_name(settings))
    if "AUDIO" in wanted or ("IMAGE" in wanted and not is_image_model(model)):
        raise ApiError(400, f"The requested combination of response modalities ({', '.join(wanted)}) is not "
                            f"supported by the model. models/{model} accepts the following combination of "
                            "response modalities:\n* TEXT\n")
    if "IMAGE" in wanted or is_image_model(model):
        config = settings.get("imageConfig") or {}
        ratio = (config.get("aspectRatio") or config.get("aspect_ratio") or "1:1") if isinstance(config, dict) else "1:1"
        if ratio not in IMAGE_SIZES:
            raise bad_request(f"Unsupported aspect ratio: {ratio}. Supported aspect ratios are "
                              f"{', '.join(IMAGE_SIZES)}.",
                              [("generation_config.image_config.aspect_ratio", f"Unsupported aspect ratio: {ratio}")])
        return image(prompt, str(ratio))
    return None


# -- images -------------------------------------------------------------------------------------

def first_words(prompt: str, count: int = PROMPT_WORDS_DRAWN) -> str:
    words = prompt.split()
    shown = " ".join(words[:count])
    return shown + (" ..." if len(words) > count else "") if shown else "(no text)"


def drawable(text: str) -> str:
    """The text as Pillow's built-in font can draw it: diacritics dropped ("Hội An" → "Hoi An"), any other
    character it has no glyph for as "?" (the font covers ASCII only)."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    return "".join(char if char.isascii() else "?" for char in plain)


def background(prompt: str) -> tuple[int, int, int]:
    """A colour chosen by the prompt: the same prompt always gets the same colour."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    return 40 + digest[0] % 150, 40 + digest[1] % 150, 40 + digest[2] % 150


def draw_png(prompt: str, ratio: str) -> bytes:
    """The PNG bytes: the prompt's first words centred on a coloured background, the marker below."""
    from PIL import Image, ImageDraw, ImageFont  # late: only image answers need Pillow

    width, height = IMAGE_SIZES[ratio]
    picture = Image.new("RGB", (width, height), background(prompt))
    pen = ImageDraw.Draw(picture)
    words = drawable(first_words(prompt))
    size = max(24, min(96, int(width * 1.6 / max(8, len(words)))))
    font = ImageFont.load_default(size=size)
    pen.text((width / 2, height / 2), words, fill=(255, 255, 255), font=font, anchor="mm")
    small = ImageFont.load_default(size=max(16, width // 48))
    pen.text((width / 2, height - height // 12), f"{EMULATOR_MARKER} {width}x{height} ({ratio})",
             fill=(235, 235, 235), font=small, anchor="mm")
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def image(prompt: str, ratio: str) -> MediaAnswer:
    width, height = IMAGE_SIZES[ratio]
    text = (f"{EMULATOR_MARKER} Here is an image drawn by the local emulator, not by a Gemini model: "
            f"\"{first_words(prompt)}\" on a coloured background, {width}x{height} ({ratio}).")
    data = base64.b64encode(draw_png(prompt, ratio)).decode("ascii")
    return MediaAnswer(text, {"inlineData": {"mimeType": "image/png", "data": data}}, "IMAGE", IMAGE_TOKENS)


# -- speech -------------------------------------------------------------------------------------

def voice_name(settings: dict) -> str:
    """The prebuilt voice asked for in ``speechConfig`` (the default voice when none is named)."""
    config = settings.get("speechConfig") or {}
    if not isinstance(config, dict):
        return DEFAULT_VOICE
    voice = (config.get("voiceConfig") or config.get("voice_config") or {})
    prebuilt = voice.get("prebuiltVoiceConfig") or voice.get("prebuilt_voice_config") or {} if isinstance(voice, dict) else {}
    name = (prebuilt.get("voiceName") or prebuilt.get("voice_name")) if isinstance(prebuilt, dict) else None
    if name is None:
        return DEFAULT_VOICE
    for known in VOICES:
        if str(name).lower() == known.lower():
            return known
    raise bad_request(f"Voice name {name} is not supported. Supported voices are {', '.join(VOICES)}.",
                      [("generation_config.speech_config.voice_config.prebuilt_voice_config.voice_name",
                        f"Voice name {name} is not supported.")])


def tone(words: int, voice: str) -> bytes:
    """Little-endian 16-bit mono PCM: one short beep of MS_PER_WORD per word, pitched by the voice."""
    pitch = 220 + 20 * VOICES.index(voice)
    beep = SAMPLE_RATE * MS_PER_WORD // 1000
    fade = beep // 6  # soft edges: no clicks between words
    samples = array.array("h")
    for n in range(beep):
        envelope = min(1.0, n / fade, (beep - n) / fade)
        samples.append(int(9000 * envelope * math.sin(2 * math.pi * pitch * n / SAMPLE_RATE)))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes() * max(1, words)


def speech(text: str, voice: str) -> MediaAnswer:
    words = len(text.split())
    pcm = tone(words, voice)
    seconds = len(pcm) / 2 / SAMPLE_RATE
    part = {"inlineData": {"mimeType": PCM_MIME_TYPE, "data": base64.b64encode(pcm).decode("ascii")}}
    return MediaAnswer("", part, "AUDIO", math.ceil(seconds * AUDIO_TOKENS_PER_SECOND))


# -- events -------------------------------------------------------------------------------------

def with_media(events: list[dict], media: MediaAnswer) -> list[dict]:
    """The answer's events with the media added as the service sends it: after the text, in a last
    event of its own that carries the finishReason (speech, having no text, replaces the text event).
    Usage grows by the media's tokens, listed in ``candidatesTokensDetails``."""
    if not events:
        return events
    last = events[-1]
    usage = dict(last["usageMetadata"])
    usage["candidatesTokenCount"] = usage.get("candidatesTokenCount", 0) + media.tokens
    usage["totalTokenCount"] = usage.get("totalTokenCount", 0) + media.tokens
    usage["candidatesTokensDetails"] = [{"modality": media.modality, "tokenCount": media.tokens}]
    ordered = {key: usage[key] for key in USAGE_ORDER if key in usage}  # the service's key order
    ordered.update({key: value for key, value in usage.items() if key not in ordered})
    candidates = []
    for candidate in last["candidates"]:
        candidates.append({"content": {"parts": [media.part], "role": "model"},
                           "finishReason": candidate.get("finishReason", "STOP"), "index": candidate["index"]})
    final = {**last, "candidates": candidates, "usageMetadata": ordered}
    if not media.text:
        return events[:-1] + [final]
    before = {**last, "candidates": [{k: v for k, v in c.items() if k != "finishReason"} for c in last["candidates"]]}
    return events[:-1] + [before, final]
