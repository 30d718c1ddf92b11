"""Kernel objects as a Live session's realtime input: 16 kHz mono PCM audio, video frames, text.

    pcm16(samples, rate=44100)        # bytes: 16-bit little-endian mono PCM at 16 kHz (resampled)
    realtime_messages(parts)          # [{"realtimeInput": {...}}, ...] for a turn's parts

Audio comes as a numpy array (float in [-1, 1] or int16; 1-D, or (frames, channels) averaged to
mono), a list of floats, raw 16-bit PCM bytes at `rate`, WAV bytes or a WAV path (its own rate and
channels), or an IPython Audio object (its WAV). Anything else, or audio of an unusable shape, is a
ConversionError saying what to pass. numpy is only used for an array already given (never imported
for bytes: linear interpolation in plain Python then).

A turn's parts (as `{name}` converts them) become realtimeInput messages in the order the service
reads best: video frames first, then audio (in chunks of at most a second, then `audioStreamEnd`),
then the text, which ends the turn.
"""

from __future__ import annotations

import base64
import io
import sys
import wave
from array import array
from pathlib import Path
from typing import Any

from ..constants import LIVE_INPUT_RATE
from ..errors import ConversionError

INPUT_MIME = f"audio/pcm;rate={LIVE_INPUT_RATE}"
CHUNK_BYTES = LIVE_INPUT_RATE * 2  # one second of 16 kHz 16-bit mono audio per realtimeInput message
_TEXT_LIKE = ("text/", "application/json", "application/xml")


def pcm16(samples: Any, rate: int | None = None) -> bytes:
    """`samples` as 16-bit little-endian mono PCM at 16 kHz.

    `rate` is the samples' rate in Hz (required for arrays, lists and raw PCM bytes; WAV brings its
    own). Raises ConversionError for another type, an array of more than two dimensions, an empty
    sound, or a missing or impossible rate."""
    if isinstance(samples, (str, Path)):
        return _wav(_read_path(samples))
    if isinstance(samples, (bytes, bytearray, memoryview)):
        data = bytes(samples)
        if data[:4] == b"RIFF":
            return _wav(data)
        return resample(data, _rate(rate, "raw PCM bytes"), LIVE_INPUT_RATE)
    data = getattr(samples, "data", None)
    if type(samples).__name__ == "Audio" and isinstance(data, (bytes, bytearray)):
        return pcm16(bytes(data))  # IPython.display.Audio: its WAV
    if type(samples).__module__ == "numpy" and hasattr(samples, "shape"):
        return _from_array(samples, _rate(rate, "an array"))
    if isinstance(samples, (list, tuple)) and samples and all(isinstance(x, (int, float)) for x in samples):
        values = [max(-1.0, min(1.0, float(x))) for x in samples]
        pcm = array("h", (int(round(v * 32767)) for v in values))
        return resample(_little_endian(pcm), _rate(rate, "a list of samples"), LIVE_INPUT_RATE)
    raise ConversionError(
        f"A {type(samples).__name__} cannot be sent as audio. Pass a numpy array of samples (float in [-1, 1] "
        "or int16) with rate=, raw 16-bit PCM bytes with rate=, WAV bytes or a path to a .wav file.")


def _rate(rate: Any, what: str) -> int:
    if rate is None:
        raise ConversionError(f"Say the sample rate of {what}: send_audio(samples, rate=44100).")
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 1000 <= rate <= 384000:
        raise ConversionError(f"rate={rate!r} is not a sample rate; give Hz such as 16000, 44100 or 48000.")
    return int(rate)


def _read_path(path: Any) -> bytes:
    target = Path(path).expanduser()
    if target.suffix.lower() not in (".wav", ".wave"):
        raise ConversionError(f"{target.name}: a Live session takes WAV audio (or samples with their rate); "
                              "convert other formats first (e.g. ffmpeg -i in.mp3 -ac 1 -ar 16000 out.wav).")
    try:
        return target.read_bytes()
    except OSError as error:
        raise ConversionError(f"Cannot read {target}: {error.strerror or error}.") from None


def _wav(data: bytes) -> bytes:
    try:
        with wave.open(io.BytesIO(data)) as reader:
            width, channels, rate = reader.getsampwidth(), reader.getnchannels(), reader.getframerate()
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as error:
        raise ConversionError(f"These bytes are not a WAV file that can be read ({error}); send 16-bit PCM WAV, "
                              "or samples with their rate.") from None
    if width not in (1, 2, 4):
        raise ConversionError(f"This WAV has {8 * width}-bit samples; send 8-, 16- or 32-bit PCM WAV.")
    samples = _to_int16(frames, width)
    if channels > 1:
        samples = array("h", (sum(samples[i:i + channels]) // channels for i in range(0, len(samples), channels)))
    return resample(_little_endian(samples), rate, LIVE_INPUT_RATE)


def _to_int16(frames: bytes, width: int) -> array:
    if width == 2:
        samples = array("h")
        samples.frombytes(frames[:len(frames) - len(frames) % 2])
        if sys.byteorder == "big":
            samples.byteswap()
        return samples
    if width == 1:  # unsigned 8-bit
        return array("h", ((b - 128) << 8 for b in frames))
    wide = array("i")
    wide.frombytes(frames[:len(frames) - len(frames) % 4])
    if sys.byteorder == "big":
        wide.byteswap()
    return array("h", (v >> 16 for v in wide))


def _from_array(samples: Any, rate: int) -> bytes:
    import numpy as np  # the caller passed a numpy array: numpy is loaded already

    values = np.asarray(samples)
    if values.ndim == 2:
        values = values.mean(axis=1 if values.shape[1] <= 8 else 0)
    if values.ndim != 1:
        raise ConversionError(f"An audio array must be 1-D (mono) or 2-D (frames, channels); this one has shape "
                              f"{values.shape}.")
    if values.size == 0:
        raise ConversionError("The audio array is empty: there is nothing to send.")
    if values.dtype.kind == "f":
        values = np.clip(np.nan_to_num(values), -1.0, 1.0) * 32767
    elif values.dtype.kind not in "iu":
        raise ConversionError(f"An audio array must hold numbers (float in [-1, 1] or int16), not {values.dtype}.")
    elif values.dtype.itemsize > 2:
        values = values / (1 << (8 * values.dtype.itemsize - 16))
    if rate != LIVE_INPUT_RATE:
        count = int(round(values.size * LIVE_INPUT_RATE / rate))
        values = np.interp(np.arange(count) * (rate / LIVE_INPUT_RATE), np.arange(values.size), values)
    return np.round(values).astype("<i2").tobytes()


def _little_endian(samples: array) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def resample(pcm: bytes, rate: int, target: int = LIVE_INPUT_RATE) -> bytes:
    """16-bit little-endian mono PCM from `rate` to `target` Hz by linear interpolation (as is when equal).

        >>> len(resample(b"\\x00\\x00" * 48000, 48000, 16000))
        32000
    """
    if len(pcm) < 2:
        raise ConversionError("The audio is empty: there is nothing to send.")
    pcm = pcm[:len(pcm) - len(pcm) % 2]
    if rate == target:
        return pcm
    source = array("h")
    source.frombytes(pcm)
    if sys.byteorder == "big":
        source.byteswap()
    count = max(1, int(round(len(source) * target / rate)))
    step, last = rate / target, len(source) - 1
    out = array("h", bytes(2 * count))
    for index in range(count):
        position = index * step
        left = int(position)
        if left >= last:
            out[index] = source[last]
            continue
        fraction = position - left
        out[index] = int(source[left] + (source[left + 1] - source[left]) * fraction)
    return _little_endian(out)


def audio_messages(pcm: bytes, *, end: bool = False) -> list[dict]:
    """realtimeInput audio messages for 16 kHz PCM, a second at most each; then audioStreamEnd if `end`."""
    messages = [{"realtimeInput": {"audio": {"mimeType": INPUT_MIME, "data": base64.b64encode(
        pcm[start:start + CHUNK_BYTES]).decode("ascii")}}} for start in range(0, len(pcm), CHUNK_BYTES)]
    if end:
        messages.append({"realtimeInput": {"audioStreamEnd": True}})
    return messages


def video_message(part: dict) -> dict:
    """A realtimeInput video frame from an image part (`inlineData` image/*)."""
    blob = part.get("inlineData") or {}
    return {"realtimeInput": {"video": {"mimeType": blob.get("mimeType"), "data": blob.get("data")}}}


def realtime_messages(parts: list[dict]) -> tuple[list[dict], str | None]:
    """The realtimeInput messages of one turn's parts, and the turn's text (None when there is none).

    Images become video frames, audio (WAV or raw PCM with its rate) 16 kHz PCM then audioStreamEnd,
    text-like data its text. Raises ConversionError for uploaded files, other audio encodings and
    media a Live session cannot take (PDF, video files)."""
    frames: list[dict] = []
    sound = b""
    texts: list[str] = []
    for part in parts:
        if "text" in part:
            texts.append(part["text"])
            continue
        if "fileData" in part:
            raise ConversionError("A Live session takes inline media only, not uploaded files; pass the image or "
                                  "audio itself (or its path).")
        blob = part.get("inlineData")
        if not isinstance(blob, dict):
            raise ConversionError(f"A Live session cannot take a {', '.join(part)} part; send text, images or audio.")
        mime = str(blob.get("mimeType") or "").lower()
        data = base64.b64decode(blob.get("data") or "")
        if mime.startswith("image/"):
            frames.append(video_message(part))
        elif mime in ("audio/wav", "audio/x-wav", "audio/wave"):
            sound += _wav(data)
        elif mime.startswith(("audio/l16", "audio/pcm")):
            from ..answer.media_out import audio_parameters

            rate, channels = audio_parameters(mime)
            if channels != 1:
                raise ConversionError(f"{mime}: send mono PCM (one channel) to a Live session.")
            sound += resample(data, rate, LIVE_INPUT_RATE)
        elif mime.startswith(_TEXT_LIKE):
            texts.append(data.decode("utf-8", "replace"))
        elif mime.startswith("audio/"):
            raise ConversionError(f"{mime} audio cannot be streamed to a Live session; send WAV or samples with "
                                  "their rate (e.g. ffmpeg -i in.mp3 -ac 1 -ar 16000 out.wav).")
        else:
            raise ConversionError(f"A Live session takes text, images and audio; {mime or 'this data'} cannot be "
                                  "sent in one. Use client.generate for documents and video files.")
    messages = frames + (audio_messages(sound, end=True) if sound else [])
    text = "".join(texts).strip()
    return messages, text or None


__all__ = ["INPUT_MIME", "audio_messages", "pcm16", "realtime_messages", "resample", "video_message"]
