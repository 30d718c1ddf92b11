"""Images and speech of an answer as standard display data a saved notebook keeps.

- `image_bundle(part)`: `{"image/png": <the part's own base64>, "text/plain": ...}` (no re-encoding),
  or None for a type frontends do not show (then the answer names it in its text instead).
- `audio_bundle(wav)`: an `<audio controls>` player with the WAV inline as a data URL, and a text/plain
  line with the duration and sample rate.

    >>> from gemini_magic.answer.media_out import pcm_to_wav
    >>> audio_bundle(pcm_to_wav(b"\\x00\\x00" * 36000))["text/plain"]
    '<audio: 1.5 s, 24,000 Hz, mono WAV>'
"""

from __future__ import annotations

import base64
import io
import wave

from ..escape import html_text
from ..answer.part_kinds import DISPLAYABLE_IMAGES, kind_of
from ..units import human_size

__all__ = ["image_bundle", "audio_bundle", "wav_facts"]


def image_bundle(part: dict) -> dict | None:
    """The image part as display data of its original bytes, or None when it is no displayable image."""
    kind = kind_of(part)
    image = kind.image(part)
    if image is None or image[0] not in DISPLAYABLE_IMAGES:
        return None
    mime, data = image
    return {mime: data, "text/plain": f"<{mime} image, {human_size(kind.size(part))}>"}


def wav_facts(wav: bytes) -> tuple[float, int, int]:
    """(duration in seconds, sample rate in Hz, channels) of WAV bytes. Raises wave.Error for others."""
    with wave.open(io.BytesIO(wav)) as reader:
        rate, frames, channels = reader.getframerate(), reader.getnframes(), reader.getnchannels()
    return (frames / rate if rate else 0.0), rate, channels


def audio_bundle(audio: bytes, mime_type: str = "audio/wav") -> dict:
    """An audio player (`text/html`, the bytes inline as a data URL) and a plain line describing it."""
    data = base64.b64encode(audio).decode("ascii")
    try:
        seconds, rate, channels = wav_facts(audio) if mime_type == "audio/wav" else (None, None, None)
    except (wave.Error, EOFError):
        seconds = rate = channels = None
    if seconds is not None:
        layout = "mono" if channels == 1 else f"{channels}-channel"
        plain = f"<audio: {seconds:.1f} s, {rate:,} Hz, {layout} WAV>"
    else:
        plain = f"<audio: {mime_type}, {human_size(len(audio))}>"
    player = f'<audio controls src="data:{html_text(mime_type)};base64,{data}"></audio>'
    return {"text/html": player, "text/plain": plain}
