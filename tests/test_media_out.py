"""Media out, without a server: PCM → WAV headers and lengths, images saved byte for byte, TTL text,
and the Response members that use them (`.audio`, `save_audio`, `save_images`)."""

from __future__ import annotations

import base64
import io
import wave

import pytest

from gemini_magic.errors import GeminiError, SettingsError
from gemini_magic.answer.media_out import audio_parameters, image_extension, is_pcm, pcm_to_wav, save_images
from gemini_magic.request.durations import duration_seconds, to_duration
from gemini_magic.answer.response import Response

PNG = bytes.fromhex("89504e470d0a1a0a") + b"not really a png, but bytes to keep exactly"
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg bytes \x00\x01\x02"


def read_wav(data: bytes):
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getframerate(), wav.getnchannels(), wav.getsampwidth(), wav.getnframes(), \
            wav.readframes(wav.getnframes())


def test_pcm_from_tts_becomes_a_wav_file_with_the_rate_from_the_mime_type():
    pcm = bytes(range(256)) * 375  # 96,000 bytes = 48,000 16-bit samples = 2 s at 24 kHz
    data = pcm_to_wav(pcm, "audio/L16;codec=pcm;rate=24000")
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    assert int.from_bytes(data[4:8], "little") == len(data) - 8 and len(data) == 44 + len(pcm)
    rate, channels, width, frames, samples = read_wav(data)
    assert (rate, channels, width, frames) == (24000, 1, 2, 48000)
    assert samples == pcm  # the samples are kept as sent (little-endian, as the service sends them)


def test_wav_rate_and_channels_follow_the_parameters_and_half_frames_are_dropped():
    data = pcm_to_wav(b"\x01\x02\x03\x04" * 10 + b"\x05\x06", "audio/pcm; rate=16000; channels=2")
    rate, channels, width, frames, samples = read_wav(data)
    assert (rate, channels, width, frames) == (16000, 2, 2, 10)
    assert samples == b"\x01\x02\x03\x04" * 10
    assert read_wav(pcm_to_wav(b"\x00\x00\x01"))[:4] == (24000, 1, 2, 1)  # default: L16 at 24 kHz, mono


def test_audio_parameters_and_pcm_detection():
    assert audio_parameters("audio/L16;codec=pcm;rate=24000") == (24000, 1)
    assert audio_parameters("AUDIO/l16") == (24000, 1)
    assert is_pcm("audio/L16;codec=pcm;rate=24000") and is_pcm("audio/pcm")
    assert not is_pcm("audio/wav") and not is_pcm("audio/mpeg") and not is_pcm(None)


@pytest.mark.parametrize("mime, words", [("audio/mpeg", "not raw 16-bit PCM"), ("image/png", "not raw 16-bit PCM"),
                                         ("audio/L16;rate=fast", "unreadable rate"),
                                         ("audio/L16;rate=0", "unreadable rate"),
                                         ("audio/L16;rate=24000;channels=0", "unreadable rate")])
def test_what_cannot_be_wrapped_into_wav_is_refused_clearly(mime, words):
    with pytest.raises(GeminiError, match=words):
        pcm_to_wav(b"\x00\x00", mime)


def test_images_are_saved_with_their_original_bytes_and_extension(tmp_path):
    folder = tmp_path / "new" / "folder"
    blobs = [{"mimeType": "image/png", "data": PNG}, {"mimeType": "audio/L16;rate=24000", "data": b"\x00\x00"},
             {"mimeType": "image/jpeg", "data": JPEG}]
    paths = save_images(blobs, folder)
    assert [p.name for p in paths] == ["image-1.png", "image-2.jpg"]
    assert paths[0].read_bytes() == PNG and paths[1].read_bytes() == JPEG


def test_saving_images_never_overwrites_files_already_there(tmp_path):
    (tmp_path / "image-1.png").write_bytes(b"keep me")
    paths = save_images([{"mimeType": "image/png", "data": PNG}, {"mimeType": "image/webp", "data": b"RIFF"}], tmp_path)
    assert [p.name for p in paths] == ["image-2.png", "image-3.webp"]
    assert (tmp_path / "image-1.png").read_bytes() == b"keep me" and paths[0].read_bytes() == PNG
    assert save_images([], tmp_path) == []


def test_image_extensions():
    assert [image_extension(m) for m in ("image/png", "image/jpeg", "IMAGE/WEBP", "image/x-unknown")] == \
        [".png", ".jpg", ".webp", ".bin"]


@pytest.mark.parametrize("value, text", [("1h", "3600s"), ("90m", "5400s"), ("3600s", "3600s"), (3600, "3600s"),
                                         ("3600", "3600s"), ("1h30m", "5400s"), (" 2 h ", "7200s"), ("2d", "172800s"),
                                         (1.5, "1.500s"), ("0.25s", "0.250s"), (0.000001, "0.000001s")])
def test_durations_become_the_api_duration_text(value, text):
    assert to_duration(value) == text


def test_durations_from_timedelta_and_their_seconds():
    import datetime

    assert to_duration(datetime.timedelta(hours=2)) == "7200s"
    assert duration_seconds("1m30s") == 90.0


@pytest.mark.parametrize("value, words", [("1 hour", "Cannot read '1 hour' as a duration"), ("h", "Cannot read"),
                                          ("", "Cannot read"), ("0s", "not positive"), (-5, "not positive"),
                                          (True, "cannot be True"), (None, "not NoneType"), ([1], "not list")])
def test_unreadable_durations_say_how_to_write_one(value, words):
    with pytest.raises(SettingsError, match=words) as caught:
        to_duration(value)
    assert '"90m"' in str(caught.value)


def test_a_duration_below_a_nanosecond_is_refused():
    with pytest.raises(SettingsError, match="shorter than a nanosecond"):
        to_duration(1e-12)


def _response(*parts) -> Response:
    return Response([{"candidates": [{"content": {"role": "model", "parts": list(parts)}, "finishReason": "STOP"}]}])


def _inline(mime: str, data: bytes) -> dict:
    return {"inlineData": {"mimeType": mime, "data": base64.b64encode(data).decode()}}


def test_response_audio_is_wav_from_the_first_audio_part(tmp_path):
    pcm = b"\x10\x00\x20\x00" * 1200
    response = _response({"text": "Here:"}, _inline("image/png", PNG), _inline("audio/L16;codec=pcm;rate=24000", pcm),
                         _inline("audio/L16;codec=pcm;rate=8000", b"\x00\x00"))
    rate, channels, _, frames, samples = read_wav(response.audio)
    assert (rate, channels, frames, samples) == (24000, 1, 2400, pcm)
    path = response.save_audio(tmp_path / "speech.wav")
    assert path == tmp_path / "speech.wav" and path.read_bytes() == response.audio
    assert [p.read_bytes() for p in response.save_images(tmp_path / "pictures")] == [PNG]


def test_response_without_audio(tmp_path):
    response = _response({"text": "No sound here."})
    assert response.audio is None and response.save_images(tmp_path) == []
    with pytest.raises(GeminiError, match="no audio to save: ask a TTS model"):
        response.save_audio(tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()
    assert _response(_inline("audio/wav", b"RIFF....WAVE")).audio == b"RIFF....WAVE"  # already a file: as sent


def test_streamed_pcm_pieces_are_joined_into_one_wav():
    """The service streams speech in pieces: `.audio` is all of them, in order, in one WAV."""
    mime = "audio/L16;codec=pcm;rate=24000"
    chunks = [{"candidates": [{"content": {"role": "model", "parts": [_inline(mime, piece)]}}]}
              for piece in (b"\x01\x00" * 100, b"\x02\x00" * 50, b"\x03\x00" * 25)]
    chunks[-1]["candidates"][0]["finishReason"] = "STOP"
    response = Response(chunks)
    _, _, _, frames, samples = read_wav(response.audio)
    assert frames == 175 and samples == b"\x01\x00" * 100 + b"\x02\x00" * 50 + b"\x03\x00" * 25


def test_thought_images_are_not_saved(tmp_path):
    """Gemini 3 image models may show draft images as thoughts: only the answer's images are saved."""
    draft = dict(_inline("image/png", b"draft"), thought=True)
    response = _response(draft, {"text": "Final:"}, _inline("image/jpeg", JPEG))
    paths = response.save_images(tmp_path)
    assert [p.name for p in paths] == ["image-1.jpg"] and paths[0].read_bytes() == JPEG
