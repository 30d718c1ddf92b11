"""What the model makes, as the views show it: images in order with the text, audio players, typed JSON
(growing while it streams, a table or a field list at the end), the footer's cached tokens and label,
and the upload progress's first phase."""

from __future__ import annotations

import base64
import io
import json
import re
import wave
from dataclasses import dataclass
from enum import Enum

from conftest import recording
from gemini_magic.answer.media_out import pcm_to_wav
from gemini_magic.render import StreamView, final_bundle
from gemini_magic.render.final import final_bundles, footer_line
from gemini_magic.render.media import audio_bundle, image_bundle
from gemini_magic.render.progress import UploadProgress
from gemini_magic.render.typed import pretty_partial_json, records_markdown
from gemini_magic.request.answer_type import AnswerType
from gemini_magic.answer.response import Response
from helpers import Recorder

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).decode()
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x01" * 30).decode()


def answer(*parts, reason="STOP", **extra):
    return Response([{"candidates": [{"content": {"role": "model", "parts": list(parts)}, "finishReason": reason,
                                      "index": 0}], "modelVersion": "gemini-2.5-flash-image", **extra}])


def image(data=PNG, mime="image/png", **extra):
    return {"inlineData": {"mimeType": mime, "data": data}, **extra}


# -- images in order ------------------------------------------------------------------------------

def test_text_image_text_image_keeps_its_order_with_original_bytes():
    response = answer({"text": "First a cat:"}, image(), {"text": "then a dog:"}, image(JPEG, "image/jpeg"),
                      {"text": "done."})
    bundles = final_bundles(response)
    assert [next(iter(b)) for b in bundles] == ["text/markdown", "image/png", "text/markdown", "image/jpeg",
                                                "text/markdown"]
    assert bundles[0]["text/markdown"] == "First a cat:"
    assert bundles[1]["image/png"] is response.candidate._parts[1]["inlineData"]["data"] or bundles[1]["image/png"] == PNG
    assert bundles[3]["image/jpeg"] == JPEG and bundles[3]["text/plain"].startswith("<image/jpeg image, ")
    assert bundles[4]["text/markdown"].startswith("done.\n\n---\n\ngemini-2.5-flash-image · STOP")
    assert "cat" not in bundles[4]["text/plain"]  # each text once


def test_the_one_bundle_names_images_where_they_are():
    response = answer({"text": "A"}, image(), {"text": "B"})
    markdown = final_bundle(response)["text/markdown"]
    assert re.match(r"A\n\n\\\[image/png, 48 bytes\\\]\n\nB\n\n---", markdown)
    inline = final_bundle(response, inline_media=True)["text/markdown"]
    assert f'<img src="data:image/png;base64,{PNG}"' in inline and inline.index("A") < inline.index("<img")


def test_thought_images_are_left_out():
    response = answer({"text": "Sketch", "thought": True}, image(thought=True), {"text": "Final"}, image(JPEG, "image/jpeg"))
    bundles = final_bundles(response)
    assert [next(iter(b)) for b in bundles] == ["text/markdown", "image/jpeg", "text/markdown"]
    assert "Sketch" not in json.dumps(bundles)


def test_image_recording_in_the_widget_view_replaces_the_live_view_then_shows_the_image():
    data = json.loads(recording("image_output/pydantic_gemini-2.5-flash-image_text+png_FULL.json").read_text())
    recorder = Recorder()
    view = StreamView("gemini-2.5-flash-image", mode="widget", display=recorder)
    view.start()
    response = Response([data], streamed=True)
    view.update(response)
    live = view.answer.shown()
    assert [next(iter(o["data"])) for o in live] == ["text/markdown", "image/png"]  # the image while streaming
    view.finish(response)
    (kind, first, _), *rest = [call for call in recorder.calls if call[2].get("raw")]
    assert kind == "update" and "axolotl" in first["text/markdown"]
    png = data["candidates"][0]["content"]["parts"][1]["inlineData"]["data"]
    assert rest[0][1]["image/png"] == png and "STOP" in rest[1][1]["text/plain"]
    assert view.answer.shown() == ()


def test_image_bundle_refuses_types_a_browser_cannot_show():
    assert image_bundle(image(PNG, "image/heic")) is None
    assert "\\[image/heic, 48 bytes\\]" in final_bundles(answer(image(PNG, "image/heic")))[0]["text/markdown"]


# -- audio ----------------------------------------------------------------------------------------

def pcm(seconds, rate=24000):
    return base64.b64encode(b"\x01\x00" * int(seconds * rate)).decode()


def test_tts_answer_is_an_audio_player_of_the_wav_saved_with_the_notebook():
    mime = "audio/L16;codec=pcm;rate=24000"
    response = answer({"inlineData": {"mimeType": mime, "data": pcm(0.5)}},
                      {"inlineData": {"mimeType": mime, "data": pcm(1.0)}})
    bundles = final_bundles(response)
    player = bundles[0]
    src = re.fullmatch(r'<audio controls src="data:audio/wav;base64,([A-Za-z0-9+/=]+)"></audio>', player["text/html"])
    wav = base64.b64decode(src.group(1))
    with wave.open(io.BytesIO(wav)) as reader:
        assert reader.getframerate() == 24000 and reader.getnframes() == 36000 and reader.getnchannels() == 1
    assert wav == response.audio
    assert player["text/plain"] == "<audio: 1.5 s, 24,000 Hz, mono WAV>"
    assert len(bundles) == 2 and "STOP" in bundles[1]["text/plain"]
    assert "[audio: 1.5 s, 24,000 Hz, mono WAV]" in final_bundle(response)["text/markdown"]


def test_audio_of_another_type_is_played_as_sent():
    bundle = audio_bundle(b"ID3 fake mp3", "audio/mpeg")
    assert bundle["text/html"].startswith('<audio controls src="data:audio/mpeg;base64,SUQz')
    assert bundle["text/plain"] == "<audio: audio/mpeg, 12 bytes>"
    assert audio_bundle(pcm_to_wav(b"\x00\x00" * 2400))["text/plain"] == "<audio: 0.1 s, 24,000 Hz, mono WAV>"


# -- typed JSON -----------------------------------------------------------------------------------

class Kind(Enum):
    BEACH = "beach"
    CITY = "city"


@dataclass
class Place:
    name: str
    province: str
    rainfall_mm: float
    kind: Kind


PLACES = [{"name": "Huế", "province": "Thừa Thiên Huế", "rainfall_mm": 795.6, "kind": "city"},
          {"name": "Mũi Né | Phan Thiết", "province": "Bình Thuận", "rainfall_mm": 12.0, "kind": "beach"}]


def typed(tp, text, reason="STOP"):
    chunk = {"candidates": [{"content": {"parts": [{"text": text}]}, "finishReason": reason, "index": 0}]}
    return Response([chunk], answer_type=AnswerType(tp))


def test_a_list_of_dataclass_records_is_a_table():
    response = typed(list[Place], json.dumps(PLACES, ensure_ascii=False))
    markdown = final_bundle(response)["text/markdown"]
    table = markdown.split("\n\n---\n\n")[0]
    assert table.splitlines() == [
        "| name | province | rainfall_mm | kind |",
        "|---|---|---|---|",
        "| Huế | Thừa Thiên Huế | 795.6 | city |",
        "| Mũi Né \\| Phan Thiết | Bình Thuận | 12.0 | beach |",
    ]
    plain = final_bundle(response)["text/plain"]
    assert json.loads(plain.split("\n\n---\n")[0]) == PLACES  # the plain text stays the JSON, indented


def test_the_explorer_shows_the_same_table_and_an_html_one():
    from gemini_magic.render.explore import response_bundle

    response = typed(list[Place], json.dumps(PLACES, ensure_ascii=False))
    markdown = response_bundle(response)["text/markdown"]
    assert "| Huế | Thừa Thiên Huế | 795.6 | city |" in markdown
    assert "<summary>Records (2 rows)</summary>" in markdown
    assert "<td" in markdown and "Mũi Né | Phan Thiết</td>" in markdown


def test_one_object_is_a_field_list():
    response = typed(Place, json.dumps(PLACES[0], ensure_ascii=False))
    markdown = final_bundle(response)["text/markdown"]
    assert markdown.startswith("- **name**: Huế\n- **province**: Thừa Thiên Huế\n- **rainfall_mm**: 795.6\n"
                               "- **kind**: city\n\n---")


def test_an_answer_that_does_not_parse_shows_its_text_and_the_one_line():
    response = typed(list[Place], '[{"name": "Huế", "province": "x", "rainfall_mm": "lots", "kind": "city"}]')
    bundle = final_bundle(response)
    assert bundle["text/markdown"].startswith("```json\n[\n  {\n    \"name\": \"Huế\"")
    warning = [line for line in bundle["text/plain"].splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1 and "does not fit the type" in warning[0] and "rainfall_mm" in warning[0]


def test_partial_json_is_indented_as_it_grows():
    whole = json.dumps(PLACES, ensure_ascii=False)
    expected = json.dumps(PLACES, ensure_ascii=False, indent=2)
    assert pretty_partial_json(whole) == expected
    for cut in range(len(whole)):  # every prefix is a prefix of the whole (a terminal prints only new text)
        assert expected.startswith(pretty_partial_json(whole[:cut]))
    assert pretty_partial_json('{"a": {}, "b": [], "c": "x, {y}: \\"z\\""') == \
        '{\n  "a": {},\n  "b": [],\n  "c": "x, {y}: \\"z\\""'


def test_a_typed_answer_streams_formatted_in_the_widget_and_terminal(capsys):
    whole = json.dumps(PLACES[:1], ensure_ascii=False)
    view = StreamView("m", mode="widget", display=Recorder())
    view.start()
    response = Response(streamed=True, answer_type=AnswerType(list[Place]))
    response.add({"candidates": [{"content": {"parts": [{"text": whole[:25]}]}}]})
    view.update(response)
    (output,) = view.answer.shown()
    assert output["data"]["text/markdown"] == '```json\n[\n  {\n    "name": "Huế",\n    "provinc\n```'
    terminal = StreamView("m", mode="terminal")
    shown = Response(streamed=True, answer_type=AnswerType(list[Place]))
    for piece in (whole[:10], whole[10:40], whole[40:]):
        shown.add({"candidates": [{"content": {"parts": [{"text": piece}]}}]})
        terminal.update(shown)
        terminal._next_draw = 0
    out = capsys.readouterr().out
    assert out == json.dumps(PLACES[:1], ensure_ascii=False, indent=2)


def test_records_markdown_counts_what_it_leaves_out():
    text = records_markdown(["n"], [[i] for i in range(201)])
    assert text.endswith("*… 1 more row (all of them are in `.parsed`).*")


# -- footer ---------------------------------------------------------------------------------------

def test_footer_shows_cached_tokens_and_a_chat_label():
    response = Response([{"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
                          "usageMetadata": {"promptTokenCount": 12000, "cachedContentTokenCount": 11000,
                                            "candidatesTokenCount": 5, "totalTokenCount": 12005},
                          "modelVersion": "gemini-2.5-flash"}])
    label = "trip · turn 3 · 4,812 tokens so far"
    line = footer_line(response, label=label)
    # 1,000 fresh prompt tokens at $0.30, 11,000 cached at $0.03 and 5 answer tokens at $2.50 per 1M: $0.00064
    assert line == (f"gemini-2.5-flash · STOP · tokens: prompt 12,000 / cached 11,000 / answer 5 / total 12,005 · "
                    f"≈ $0.00064 (prices of 2026-10-07) · {label}")
    assert final_bundle(response, footer_label=label)["text/plain"].endswith(label)
    recorder = Recorder()
    StreamView("m", mode="plain", display=recorder, footer_label=label).finish(response)
    (bundle,) = recorder.raw_bundles()
    assert bundle["text/markdown"].splitlines()[-1].endswith(label)  # in the footer line, not a line of its own


# -- upload progress ------------------------------------------------------------------------------

def test_upload_progress_says_it_is_checking_before_it_uploads():
    line = UploadProgress.describe(0, 2_500_000, "checking", 0.0)
    assert line == "checking for an earlier upload of these 2.5 MB…" and "%" not in line
    assert UploadProgress.describe(1_250_000, 2_500_000, "uploading", 1.0).startswith(" 50.0% · 1.2 MB of 2.5 MB")


# -- through the magic (what a notebook saves) ----------------------------------------------------

def magic_outputs(shell, line, cell):
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        shell.run_cell_magic("gemini", line, cell)
    return [output.data for output in captured.outputs]


def test_the_magic_shows_an_image_answer_in_order_as_image_display_data(shell, emulator):
    outputs = magic_outputs(shell, "--no-stream --image -m gemini-2.5-flash-image -o picture", "A red lantern")
    kinds = [next(k for k in data if k != "text/plain") for data in outputs]
    assert kinds[:2] == ["text/markdown", "image/png"] and kinds[-1] == "text/markdown"
    sent = shell.user_ns["picture"].parts
    image_part = next(p for p in sent if "inlineData" in p)
    assert outputs[1]["image/png"] == image_part["inlineData"]["data"]  # the bytes as received
    assert "STOP" in outputs[-1]["text/markdown"]


def test_the_magic_shows_speech_as_an_audio_player(shell, emulator):
    outputs = magic_outputs(shell, "--no-stream --speak Puck -m gemini-2.5-flash-preview-tts -o voice", "Say hello.")
    player = next(data for data in outputs if "text/html" in data)
    src = re.search(r'src="data:audio/wav;base64,([^"]+)"', player["text/html"]).group(1)
    assert base64.b64decode(src) == shell.user_ns["voice"].audio
    seconds = (len(shell.user_ns["voice"].audio) - 44) / 2 / 24000
    assert player["text/plain"] == f"<audio: {seconds:.1f} s, 24,000 Hz, mono WAV>"


def test_the_explorer_plays_the_audio_in_place():
    from gemini_magic.render.explore import response_bundle

    mime = "audio/L16;codec=pcm;rate=24000"
    response = answer({"text": "Listen:"}, {"inlineData": {"mimeType": mime, "data": pcm(0.25)}})
    markdown = response_bundle(response)["text/markdown"]
    wav = base64.b64encode(response.audio).decode()
    assert markdown.startswith(f'Listen:\n\n<audio controls src="data:audio/wav;base64,{wav}"></audio>\n\n---')
