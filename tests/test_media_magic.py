"""Images and speech out, and context caching, through %%gemini and %gemini cache (against the emulator)."""

from __future__ import annotations

import io
import wave

import pytest
from IPython.core.error import UsageError


def _sent(emulator):
    return [r.json for r in emulator.requests if "enerateContent" in r.path][-1]


@pytest.fixture(autouse=True)
def _fresh(shell):
    for name in ("lec", "talk", "picture", "voice", "lecture"):
        shell.user_ns.pop(name, None)
    yield


def test_image_answers_are_kept_as_images(shell, emulator, tmp_path):
    shell.run_cell_magic("gemini", "--image --aspect-ratio 16:9 -m gemini-2.5-flash-image -o picture",
                         "A red lantern over Hội An")
    config = _sent(emulator)["generationConfig"]
    assert config["responseModalities"] == ["TEXT", "IMAGE"] and config["imageConfig"] == {"aspectRatio": "16:9"}
    picture = shell.user_ns["picture"]
    [image] = picture.images
    assert image.width > image.height  # 16:9
    [path] = picture.save_images(tmp_path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_speech_answers_are_wav(shell, emulator):
    shell.run_cell_magic("gemini", "--speak Puck -m gemini-2.5-flash-preview-tts -o voice", "Say hello to the class.")
    config = _sent(emulator)["generationConfig"]
    assert config["responseModalities"] == ["AUDIO"]
    assert config["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Puck"
    with wave.open(io.BytesIO(shell.user_ns["voice"].audio)) as wav:
        assert wav.getframerate() == 24000 and wav.getnchannels() == 1 and wav.getnframes() > 0


def test_a_bad_aspect_ratio_is_refused_before_sending(shell, emulator):
    with pytest.raises(UsageError, match="W:H"):
        shell.run_cell_magic("gemini", "--image --aspect-ratio wide", "x")
    assert not [r for r in emulator.requests if "enerateContent" in r.path]


def test_cache_create_use_extend_delete(shell, emulator, capsys):
    shell.user_ns["lecture"] = "Entropy measures how many arrangements fit a state. " * 400
    shell.run_line_magic("gemini", "cache create {lecture} -m gemini-2.5-flash --ttl 1h --as lec")
    cache = shell.user_ns["lec"]
    assert cache.name.startswith("cachedContents/") and cache.total_tokens >= 1024
    shell.run_cell_magic("gemini", "--cache lec -m gemini-2.5-flash -o answer", "What is entropy?")
    assert _sent(emulator)["cachedContent"] == cache.name
    assert shell.user_ns["answer"].usage.get("cachedContentTokenCount")
    shell.run_line_magic("gemini", "cache list")
    assert cache.name in capsys.readouterr().out
    shell.run_line_magic("gemini", "cache extend lec --ttl 2h")
    assert shell.user_ns["lec"].expires_in > 3600
    shell.run_line_magic("gemini", "cache delete lec")
    assert "Deleted 1 cached content." in capsys.readouterr().out


def test_a_cache_for_another_model_is_refused_before_sending(shell, emulator):
    shell.user_ns["lecture"] = "Entropy measures how many arrangements fit a state. " * 400
    shell.run_line_magic("gemini", "cache create {lecture} -m gemini-2.5-flash --as lec")
    before = len(emulator.requests)
    with pytest.raises(UsageError, match="was made for gemini-2.5-flash, not gemini-2.5-pro"):
        shell.run_cell_magic("gemini", "--cache lec -m gemini-2.5-pro", "What is entropy?")
    assert len(emulator.requests) == before


def test_too_little_to_cache_says_so_before_creating(shell, emulator):
    with pytest.raises(UsageError, match="minimum token count for caching"):
        shell.run_line_magic("gemini", "cache create 'A short note.' -m gemini-2.5-flash --as lec")
    assert not [r for r in emulator.requests if r.path.endswith("cachedContents") and r.method == "POST"]


def test_an_unknown_cache_name_says_how_to_make_one(shell, emulator):
    with pytest.raises(UsageError, match="no cached content of that name"):
        shell.run_cell_magic("gemini", "--cache nothing", "hi")


def test_a_cache_in_a_conversation_is_used(shell, emulator):
    shell.user_ns["lecture"] = "Entropy measures how many arrangements fit a state. " * 400
    shell.user_ns.pop("talk", None)
    shell.run_line_magic("gemini", "cache create {lecture} -m gemini-2.5-flash --as lec")
    shell.run_cell_magic("gemini", "--chat talk --cache lec -m gemini-2.5-flash", "What is entropy?")
    assert _sent(emulator)["cachedContent"] == shell.user_ns["lec"].name


def test_an_unknown_cache_says_there_is_none(shell, emulator):
    with pytest.raises(UsageError, match="There is no cached content 'nothing'"):
        shell.run_line_magic("gemini", "cache delete nothing")
    with pytest.raises(UsageError, match="There is no cached content 'nothing'"):
        shell.run_line_magic("gemini", "cache extend nothing --ttl 2h")


@pytest.mark.parametrize("line", ["cache create {lecture} -m gemini-2.5-flash --ttl -1h --as lec",
                                  "cache create {lecture} -m gemini-2.5-flash --ttl=-90m --as lec",
                                  "cache extend lec --ttl -1h"])
def test_a_negative_ttl_is_refused_with_what_to_give_before_anything_is_sent(shell, emulator, line):
    shell.user_ns["lecture"] = "Entropy measures how many arrangements fit a state. " * 400
    with pytest.raises(UsageError, match=r"The duration '-\w+' is negative: a time to live counts from now"):
        shell.run_line_magic("gemini", line)
    assert emulator.requests == []
