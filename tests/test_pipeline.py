"""One turn pipeline: `%%gemini` and `Client` prepare the same request, byte for byte, and validate
settings through one path (request/settings.py)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from conftest import TEST_KEY

OPTIONS = "-m gemini-2.5-flash -t 0.3 --top-p 0.9 --top-k 20 --max-tokens 200 --stop END --seed 7 -s 'Be brief.'"
SETTINGS = dict(temperature=0.3, top_p=0.9, top_k=20, max_output_tokens=200, stop_sequences=["END"], seed=7)


def _objects():
    from PIL import Image

    pandas = pytest.importorskip("pandas")
    return {"photo": Image.new("RGB", (40, 30), "teal"),
            "table": pandas.DataFrame({"city": ["Huế", "Hà Nội"], "mm": [795.6, 260.1]})}


def _bodies(emulator, suffix):
    return [r.body for r in emulator.requests if r.path.endswith(suffix)]


@pytest.mark.parametrize("cell_options, method, suffix", [
    ("", "stream", ":streamGenerateContent"),
    ("--no-stream", "generate", ":generateContent"),
])
def test_the_magic_and_the_client_send_byte_identical_requests(shell, emulator, client, cell_options, method, suffix):
    objects = _objects()
    shell.user_ns.update(objects)
    shell.run_cell_magic("gemini", f"{OPTIONS} {cell_options}", "Compare {photo} with {table}.\n")
    sent_by_magic = _bodies(emulator, suffix)[-1]

    contents = ["Compare ", objects["photo"], " with ", objects["table"], "."]
    if method == "stream":
        client.stream("gemini-2.5-flash", contents, system="Be brief.", **SETTINGS).until_done()
    else:
        client.generate("gemini-2.5-flash", contents, system="Be brief.", **SETTINGS)
    sent_by_client = _bodies(emulator, suffix)[-1]
    assert b'"inlineData"' in sent_by_client and b'"topK": 20' in sent_by_client
    assert sent_by_magic == sent_by_client


def test_dry_run_and_count_tokens_send_byte_identical_requests(shell, emulator, client):
    objects = _objects()
    shell.user_ns.update(objects)
    shell.run_cell_magic("gemini", f"{OPTIONS} --dry-run", "Compare {photo} with {table}.\n")
    sent_by_magic = _bodies(emulator, ":countTokens")[-1]
    client.count_tokens("gemini-2.5-flash", ["Compare ", objects["photo"], " with ", objects["table"], "."],
                        system="Be brief.", **SETTINGS)
    assert _bodies(emulator, ":countTokens")[-1] == sent_by_magic
    assert b"generateContentRequest" in sent_by_magic


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "2.5"])
def test_a_bad_temperature_fails_at_once_with_one_message_both_ways(shell, emulator, client, value):
    from gemini_magic.errors import SettingsError

    with pytest.raises(SettingsError) as from_client:
        client.generate("gemini-2.5-flash", "hi", temperature=float(value))
    with pytest.raises(UsageError) as from_magic:
        shell.run_cell_magic("gemini", f"--temperature={value}", "hi")
    assert str(from_magic.value) == str(from_client.value)
    assert str(from_client.value).startswith("temperature (-t/--temperature) must be between 0 and 2; got")
    assert not emulator.requests  # nothing was sent, no retry


def test_prepare_gives_the_body_and_the_notes(client):
    turn = client.prepare("gemini-2.5-flash", ["Hi", {"text": "as a wire part"}], temperature=0.1,
                          thinking_level="low")
    assert turn.body == {"contents": [{"role": "user", "parts": [{"text": "Hi"}, {"text": "as a wire part"}]}],
                         "generationConfig": {"temperature": 0.1, "thinkingConfig": {"thinkingLevel": "low"}}}
    assert turn.notes == [] and turn.content["role"] == "user"


def test_history_comes_before_the_new_turn(client, emulator):
    history = [{"role": "user", "parts": [{"text": "First question"}]},
               {"role": "model", "parts": [{"text": "First answer"}]}]
    client.generate("gemini-2.5-flash", "Second question", history=history)
    sent = [r for r in emulator.requests if r.path.endswith(":generateContent")][-1].json
    assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]
    assert sent["contents"][-1]["parts"] == [{"text": "Second question"}]


@pytest.mark.parametrize("options, message", [
    (dict(thinking_budget=100, thinking_level="low"), "cannot be used together"),
    (dict(top_k=0), "top_k (--top-k) must be 1 or more; got 0."),
    (dict(candidate_count=9), "between 1 and 8"),
    (dict(stop_sequences=["a"] * 6), "at most 5"),
    (dict(seed=1.5), "whole number"),
    (dict(temperature="warm"), "must be a number"),
    (dict(safety_settings=[{"category": "HARM_CATEGORY_HATE_SPEECH"}]), "category and a threshold"),
])
def test_settings_are_refused_before_sending(client, emulator, options, message):
    from gemini_magic.errors import SettingsError

    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        client.generate("gemini-2.5-flash", "hi", **options)
    assert not emulator.requests


@pytest.mark.parametrize("model", ["", "   ", "gemini 2.5", "what?"])
def test_a_bad_model_name_is_refused_before_sending(client, emulator, model):
    from gemini_magic.errors import SettingsError

    with pytest.raises(SettingsError, match="model"):
        client.generate(model, "hi")
    assert not emulator.requests


def test_an_unknown_setting_names_the_known_ones(client):
    with pytest.raises(TypeError, match="Unknown generation setting 'temprature'"):
        client.generate("gemini-2.5-flash", "hi", temprature=0.2)


def test_settings_objects_merge_with_keyword_arguments(client):
    from gemini_magic import GenerationSettings

    base = GenerationSettings.from_options(temperature=0.5, thinking_budget=100)
    turn = client.prepare("gemini-2.5-flash", "hi", settings=base, thinking_level="high")
    assert turn.body["generationConfig"] == {"temperature": 0.5, "thinkingConfig": {"thinkingLevel": "high"}}


def test_a_dry_run_uploads_nothing_for_a_large_system_instruction_either(client, emulator):
    import os

    from gemini_magic.parts import Blob

    def uploads():
        return [r for r in emulator.requests if "/upload/" in r.path or r.path.startswith("/upload")]

    manual = Blob(os.urandom(16_000_000), "application/pdf")
    turn = client.prepare("gemini-2.5-flash", "Summarise.", system=["Follow this manual:", manual], dry_run=True)
    placeholder = turn.body["systemInstruction"]["parts"][1]["fileData"]
    assert placeholder["fileUri"].startswith("(uploaded when sent)")
    assert uploads() == [] and emulator.requests == []
    assert any("upload" in note for note in turn.notes)
    chat = client.chat("gemini-2.5-flash", system=["Follow this manual:", manual])
    body = chat.build_request("Summarise.", dry_run=True)
    assert body["systemInstruction"]["parts"][1]["fileData"]["fileUri"].startswith("(uploaded when sent)")
    assert uploads() == []
    sent = client.prepare("gemini-2.5-flash", "Summarise.", system=["Follow this manual:", manual])
    assert len(uploads()) >= 1 and sent.body["systemInstruction"]["parts"][1]["fileData"]["fileUri"].startswith("http")
