"""Images and speech out of the emulator, over loopback: the answers' shape (as recorded in
recordings/image_output), the PNG it draws, the aspect ratio, the PCM tone and its length, the refusals."""

from __future__ import annotations

import base64
import io
import json
import wave

import pytest

from gemini_magic.constants import EMULATOR_MARKER
from gemini_magic.errors import BadRequestError

IMAGE_MODEL = "gemini-2.5-flash-image"
TTS_MODEL = "gemini-2.5-flash-preview-tts"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (read without Pillow, as an independent check)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def speech_config(voice: str = "Kore") -> dict:
    return {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": voice}}}


def test_an_image_model_answers_text_then_a_png_of_the_prompt(client, emulator):
    response = client.generate(IMAGE_MODEL, "An axolotl wearing a tiny hat, watercolour")
    parts = response.candidate.parts
    assert [list(p) for p in parts] == [["text"], ["inlineData"]]
    assert parts[0]["text"].startswith(EMULATOR_MARKER) and '"An axolotl wearing a tiny hat, ..."' in parts[0]["text"]
    assert parts[1]["inlineData"]["mimeType"] == "image/png"
    data = response.inline_data[0]["data"]
    assert png_size(data) == (1024, 1024)
    image = response.images[0]
    assert image.format == "PNG" and image.size == (1024, 1024)
    colours = dict((colour, count) for count, colour in image.convert("RGB").getcolors(maxcolors=1 << 20))
    background = image.convert("RGB").getpixel((5, 5))
    assert colours[background] > 0.8 * 1024 * 1024  # mostly background ...
    assert colours.get((255, 255, 255), 0) > 500  # ... with the prompt's words drawn in white
    usage = response.usage
    assert usage["candidatesTokensDetails"] == [{"modality": "IMAGE", "tokenCount": 1290}]
    assert usage["candidatesTokenCount"] > 1290 and usage["totalTokenCount"] == usage["promptTokenCount"] + \
        usage["candidatesTokenCount"]
    assert response.finish_reason == "STOP"


def test_the_picture_is_deterministic_and_its_colour_follows_the_prompt(client, emulator):
    first = client.generate(IMAGE_MODEL, "A red lighthouse").inline_data[0]["data"]
    again = client.generate(IMAGE_MODEL, "A red lighthouse").inline_data[0]["data"]
    other = client.generate(IMAGE_MODEL, "A blue submarine").inline_data[0]["data"]
    assert first == again and first != other
    from PIL import Image

    colours = [Image.open(io.BytesIO(d)).convert("RGB").getpixel((3, 3)) for d in (first, other)]
    assert colours[0] != colours[1]


@pytest.mark.parametrize("ratio, size", [("16:9", (1344, 768)), ("9:16", (768, 1344)), ("4:3", (1184, 864)),
                                         ("1:1", (1024, 1024)), ("21:9", (1536, 672))])
def test_the_aspect_ratio_sets_the_image_size(client, emulator, ratio, size):
    response = client.generate(IMAGE_MODEL, "A wide valley", image_config={"aspectRatio": ratio})
    assert png_size(response.inline_data[0]["data"]) == size
    assert f"{size[0]}x{size[1]} ({ratio})" in response.text
    assert emulator.requests[-1].json["generationConfig"]["imageConfig"] == {"aspectRatio": ratio}


def test_an_unknown_aspect_ratio_is_refused(client, emulator):
    with pytest.raises(BadRequestError, match="Unsupported aspect ratio: 7:5"):
        client.generate(IMAGE_MODEL, "A valley", image_config={"aspectRatio": "7:5"})


def test_response_modalities_with_image_draw_on_an_image_model_only(client, emulator):
    response = client.generate(IMAGE_MODEL, "A small boat", response_modalities=["TEXT", "IMAGE"])
    assert [blob["mimeType"] for blob in response.inline_data] == ["image/png"]
    # A text model refuses IMAGE as the service does (and as it refuses AUDIO): 400, nothing drawn.
    with pytest.raises(BadRequestError) as caught:
        client.generate("gemini-2.5-flash", "A small boat", response_modalities=["TEXT", "IMAGE"])
    assert caught.value.status == "INVALID_ARGUMENT"
    assert str(caught.value).endswith(
        "The requested combination of response modalities (TEXT, IMAGE) is not supported by the model. "
        "models/gemini-2.5-flash accepts the following combination of response modalities:\n* TEXT\n")
    assert emulator.requests[-1].json["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]
    plain = client.generate("gemini-2.5-flash", "A small boat")
    assert plain.inline_data == [] and '**Prompt:** "A small boat"' in plain.text


def test_a_streamed_image_arrives_after_the_text_in_the_last_chunk(client, emulator):
    stream = client.stream(IMAGE_MODEL, "A kite over the sea")
    list(stream)
    whole = stream.response
    chunks = whole.raw  # the chunk dicts as received
    kinds = [[next(iter(p)) for c in chunk.get("candidates", []) for p in c["content"].get("parts", [])]
             for chunk in chunks]
    assert kinds[-1] == ["inlineData"] and all(k == ["text"] for k in kinds[:-1]) and len(kinds) > 2
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert all("finishReason" not in c for chunk in chunks[:-1] for c in chunk["candidates"])
    assert png_size(whole.inline_data[0]["data"]) == (1024, 1024)
    assert whole.usage["candidatesTokensDetails"] == [{"modality": "IMAGE", "tokenCount": 1290}]
    unary = client.generate(IMAGE_MODEL, "A kite over the sea")
    assert unary.text == whole.text and unary.inline_data == whole.inline_data


def test_saved_images_are_the_bytes_that_arrived(client, emulator, tmp_path):
    response = client.generate(IMAGE_MODEL, "A lemon tree")
    paths = response.save_images(tmp_path)
    sent = json.loads(emulator_answer(client, IMAGE_MODEL, "A lemon tree"))
    assert [p.name for p in paths] == ["image-1.png"]
    assert paths[0].read_bytes() == base64.b64decode(sent["candidates"][0]["content"]["parts"][1]["inlineData"]["data"])


def emulator_answer(client, model: str, prompt: str) -> bytes:
    """The raw answer body, through `Client.request` (no Response merging)."""
    return json.dumps(client.request("POST", f"models/{model}:generateContent",
                                     json={"contents": [{"role": "user", "parts": [{"text": prompt}]}]}))


def test_a_tts_model_answers_pcm_whose_length_follows_the_words(client, emulator):
    text = "Say cheerfully: have a wonderful day in the park"
    response = client.generate(TTS_MODEL, text, response_modalities=["AUDIO"], speech_config=speech_config())
    parts = response.candidate.parts
    assert len(parts) == 1 and parts[0]["inlineData"]["mimeType"] == "audio/L16;codec=pcm;rate=24000"
    pcm = response.inline_data[0]["data"]
    words = len(text.split())
    assert len(pcm) == words * 60 * 24 * 2  # 60 ms a word, 24 samples a ms, 2 bytes a sample
    with wave.open(io.BytesIO(response.audio)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        assert wav.getnframes() == words * 60 * 24 and wav.readframes(wav.getnframes()) == pcm
    assert max(abs(int.from_bytes(pcm[i:i + 2], "little", signed=True)) for i in range(0, 4000, 2)) > 1000
    assert response.text == "" and response.finish_reason == "STOP"
    assert response.usage["candidatesTokensDetails"][0]["modality"] == "AUDIO"
    assert list(response.usage)[:4] == ["promptTokenCount", "candidatesTokenCount", "totalTokenCount",
                                        "promptTokensDetails"]


def test_longer_text_gives_longer_speech_and_the_voice_sets_the_pitch(client, emulator):
    short = client.generate(TTS_MODEL, "Hello there", speech_config=speech_config()).inline_data[0]["data"]
    long = client.generate(TTS_MODEL, "Hello there, how are you today", speech_config=speech_config()).inline_data[0]["data"]
    puck = client.generate(TTS_MODEL, "Hello there", speech_config=speech_config("Puck")).inline_data[0]["data"]
    assert len(long) == 3 * len(short) and len(puck) == len(short) and puck != short


def test_speech_saved_as_wav(client, emulator, tmp_path):
    response = client.generate(TTS_MODEL, "One two three", response_modalities=["AUDIO"], speech_config=speech_config())
    path = response.save_audio(tmp_path / "speech.wav")
    with wave.open(str(path)) as wav:
        assert wav.getnframes() == 3 * 60 * 24


def test_streamed_speech_is_one_audio_part(client, emulator):
    stream = client.stream(TTS_MODEL, "Four words to say", speech_config=speech_config())
    assert len(list(stream)) == 1 and stream.response.audio[:4] == b"RIFF"


@pytest.mark.parametrize("model, config, words", [
    (TTS_MODEL, {"speech_config": speech_config("Nobody")}, "Voice name Nobody is not supported"),
    (TTS_MODEL, {"response_modalities": ["TEXT"]}, "response modalities (TEXT) is not supported"),
    ("gemini-2.5-flash", {"response_modalities": ["AUDIO"]}, "response modalities (AUDIO) is not supported"),
    ("gemini-3-flash-preview", {"response_modalities": ["IMAGE"]}, "response modalities (IMAGE) is not supported"),
])
def test_speech_requests_the_service_refuses(client, emulator, model, config, words):
    with pytest.raises(BadRequestError) as caught:
        client.generate(model, "Hello", **config)
    assert words in str(caught.value)
