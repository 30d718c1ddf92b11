"""`%%gemini --video` through a real InteractiveShell, and generated images from a cell and from Python.

The video view: progress lines, then a `<video>` (embedded as data, or saved beside the notebook and
linked when large); re-runs, Ctrl-C, refusals. Images: Gemini image models by default, Imagen's
retirement explained.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import threading
import time

import pytest
from IPython.core.error import UsageError

from gemini_magic.errors import NotFoundError, SettingsError

from conftest import TEST_KEY

VEO = "veo-3.1-generate-preview"


@pytest.fixture
def video_shell(shell):
    shell.run_line_magic("config", "GeminiMagics.video_poll = 0.001")
    shell.run_line_magic("gemini", "backend api")
    shell.user_ns.pop("clip", None)
    client = shell.magics_manager.registry["GeminiMagics"].backend.client()
    sleep = client.transport.sleep
    yield shell
    client.transport.sleep = sleep


def _creates(emulator):
    return [r for r in emulator.requests if r.path.endswith(":predictLongRunning")]


def _html_outputs(shell, run):
    """The text/html bundles displayed while `run()` runs."""
    seen = []
    publisher = shell.display_pub
    original = publisher.publish

    def publish(data, *args, **kwargs):
        seen.append(data)
        return original(data, *args, **kwargs)

    publisher.publish = publish
    try:
        run()
    finally:
        publisher.publish = original
    return [data.get("text/html", "") for data in seen]


def test_a_cell_makes_a_video_shows_it_and_binds_it(video_shell, emulator):
    html = _html_outputs(video_shell, lambda: video_shell.run_cell_magic(
        "gemini", "--video --aspect-ratio 9:16 --resolution 720p --duration 6 --negative fog -o clip",
        "A lighthouse at dawn"))
    sent = _creates(emulator)[0].json
    assert sent["instances"][0]["prompt"] == "A lighthouse at dawn"
    assert sent["parameters"] == {"sampleCount": 1, "aspectRatio": "9:16", "resolution": "720p",
                                  "durationSeconds": 6, "negativePrompt": "fog"}
    clip = video_shell.user_ns["clip"]
    assert type(clip).__name__ == "Video" and clip.duration == pytest.approx(2.0)
    assert video_shell.user_ns["_gemini"].name.startswith(f"models/{VEO}/operations/")
    players = [h for h in html if "<video" in h]
    assert len(players) == 1
    embedded = re.search(r'src="data:video/mp4;base64,([^"]+)"', players[0]).group(1)
    assert base64.b64decode(embedded) == clip.bytes


def test_a_rerun_shows_the_same_video_and_new_makes_another(video_shell, emulator, capsys):
    cell = ("--video -o clip", "Waves on rocks")
    video_shell.run_cell_magic("gemini", *cell)
    first = video_shell.user_ns["_gemini"].name
    video_shell.run_cell_magic("gemini", *cell)
    assert len(_creates(emulator)) == 1 and video_shell.user_ns["_gemini"].name == first
    assert "already made this video" in capsys.readouterr().out
    video_shell.run_cell_magic("gemini", "--video --new -o clip", "Waves on rocks")
    assert len(_creates(emulator)) == 2 and video_shell.user_ns["_gemini"].name != first
    video_shell.run_cell_magic("gemini", "--video --duration 4 -o clip", "Waves on rocks")  # other options: new
    assert len(_creates(emulator)) == 3


def test_ctrl_c_keeps_the_operation_and_a_rerun_picks_it_up(video_shell, emulator, capsys):
    magics = video_shell.magics_manager.registry["GeminiMagics"]
    client = magics.backend.client()

    def interrupt(seconds):
        raise KeyboardInterrupt

    client.transport.sleep = interrupt
    video_shell.run_cell_magic("gemini", "--video -o clip", "A slow sunrise")
    out = capsys.readouterr().out
    operation = video_shell.user_ns["_gemini"]
    assert not operation.done and "clip" not in video_shell.user_ns
    assert "Stopped waiting" in out and f'client.get_operation("{operation.name}")' in out
    client.transport.sleep = lambda seconds: None
    video_shell.run_cell_magic("gemini", "--video -o clip", "A slow sunrise")
    assert "Picking up " + operation.name in capsys.readouterr().out
    assert len(_creates(emulator)) == 1 and video_shell.user_ns["clip"].size > 1000


def test_an_image_from_the_kernel_is_the_first_frame(video_shell, emulator):
    from PIL import Image

    video_shell.user_ns["photo"] = Image.new("RGB", (32, 24), (0, 90, 200))
    video_shell.run_cell_magic("gemini", "--video --image {photo}", "Make it move")
    assert _creates(emulator)[0].json["instances"][0]["image"]["mimeType"] == "image/png"


@pytest.mark.parametrize("line, cell, message", [
    ("--video --aspect-ratio 4:3", "x", r"Veo takes the aspect ratio 16:9, 9:16; got '4:3'"),
    ("--video --duration 5", "x", r"duration \(seconds\) 4, 6, 8; got 5"),
    ("--video -m gemini-2.5-flash", "x", r"gemini-2.5-flash does not make videos"),
    ("--video --image {nothing}", "x", r"no variable nothing"),
    ("--video --image photo", "x", r"in braces, such as --image \{photo\}"),
    ("--video --chat", "x", r"--chat do\(es\) not go with --video"),
    ("--video", "Show {number}", r"A video prompt is text; a int"),
    ("--duration 8", "x", r"--duration go\(es\) with --video"),
    ("--video --live s", "x", r"--live do\(es\) not go with --video"),
    ("--video -t 0", "x", r"--temperature do\(es\) not go with --video"),
    ("--video -n 2", "x", r"--candidates do\(es\) not go with --video"),
    ("--video --image", "x", r"--image needs a kernel image with --video: --image \{photo\}"),
])
def test_bad_video_input_is_one_message_and_nothing_is_sent(video_shell, emulator, line, cell, message):
    video_shell.user_ns["number"] = 3
    with pytest.raises(UsageError, match=message):
        video_shell.run_cell_magic("gemini", line, cell)
    assert not _creates(emulator)


def test_a_failed_video_names_the_operation(video_shell, emulator):
    emulator.inject("video_failed", message="Quota of GPUs ran out.")
    with pytest.raises(UsageError, match=r"models/veo-3\.1-generate-preview/operations/\w+ failed: Quota of GPUs"):
        video_shell.run_cell_magic("gemini", "--video", "x")


def test_a_download_that_fails_is_one_message_naming_the_operation(video_shell, emulator):
    emulator.inject("cut_download", at=5000, times=4)  # the download and each of its 3 resumes cut
    with pytest.raises(UsageError, match=r"broke off after 5,000 of 17,667 bytes.* The video of models/veo-3\.1-"
                                         r"generate-preview/operations/\w+ is made .* run this cell again") as caught:
        video_shell.run_cell_magic("gemini", "--video -o clip", "Waves on rocks")
    assert TEST_KEY not in str(caught.value)
    assert emulator.pending() == 0 and video_shell.user_ns["clip"].size is None
    video_shell.run_cell_magic("gemini", "--video -o clip", "Waves on rocks")  # the re-run downloads it
    assert len(_creates(emulator)) == 1 and video_shell.user_ns["clip"].size == 17667


def test_ctrl_c_during_the_download_says_how_to_get_the_video(video_shell, emulator, capsys):
    emulator.inject("slow", match="download", delay=2)

    def interrupt_the_download():  # Ctrl-C, once the download has been asked for (and is slow to come)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not [r for r in emulator.requests if r.path.endswith(":download")]:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_the_download, daemon=True).start()
    video_shell.run_cell_magic("gemini", "--video -o clip", "A slow download")
    out = capsys.readouterr().out
    name = video_shell.user_ns["_gemini"].name
    assert f"Stopped downloading the video of {name}" in out and "Run this cell again" in out
    assert "`clip.save(path)`" in out and video_shell.user_ns["clip"].size is None


def test_an_operation_name_from_the_service_is_text_in_the_notices(video_shell, emulator):
    import json

    hostile = f"models/{VEO}/operations/<img src=x onerror=alert(1)>**bold**"
    emulator.replay(json.dumps({"name": hostile, "done": False}).encode(), content_type="application/json",
                    match="videos")
    client = video_shell.magics_manager.registry["GeminiMagics"].backend.client()

    def interrupt(seconds):
        raise KeyboardInterrupt

    client.transport.sleep = interrupt
    seen = []
    original = video_shell.display_pub.publish
    video_shell.display_pub.publish = lambda data, *a, **k: (seen.append(data), original(data, *a, **k))[1]
    try:
        video_shell.run_cell_magic("gemini", "--video", "A hostile name")
        video_shell.run_cell_magic("gemini", "--video", "A hostile name")  # the re-run picks it up: its notice
    finally:
        video_shell.display_pub.publish = original
    notices = [data["text/markdown"] for data in seen if "text/markdown" in data]
    assert any("Stopped waiting" in n for n in notices) and any("Picking up" in n for n in notices)
    outside_code = [re.sub(r"(`+).*?\1", "", n) for n in notices]  # a code span shows HTML as text
    assert not [n for n in outside_code if "<img" in n or "**bold**" in n]


@pytest.mark.parametrize("fault", ["video_failed", "video_filtered"])
def test_a_rerun_after_no_video_tries_again(video_shell, emulator, capsys, fault):
    emulator.inject(fault)
    with pytest.raises(UsageError, match=r"operations/\w+ (failed|made no video)"):
        video_shell.run_cell_magic("gemini", "--video -o clip", f"A second try after {fault}")
    first = video_shell.user_ns["_gemini"].name
    video_shell.run_cell_magic("gemini", "--video -o clip", f"A second try after {fault}")
    out = capsys.readouterr().out
    assert "already made this video" not in out and f"{first} made no video, so this run makes a new one" in out
    assert len(_creates(emulator)) == 2 and video_shell.user_ns["clip"].size == 17667


def test_a_large_video_is_saved_beside_the_notebook_and_linked(emulator, client, tmp_path):
    from gemini_magic.render.video import video_bundle

    video = client.generate_videos("Waves").wait(poll=0.001).videos[0]
    video.embed_limit = 1000
    bundle = video_bundle(video, folder=tmp_path)
    saved = tmp_path / "gemini_videos" / f"{video.name}.mp4"
    assert saved.stat().st_size == video.size > 1000
    assert f'src="gemini_videos/{video.name}.mp4"' in bundle["text/html"] and "base64" not in bundle["text/html"]
    assert "too big to embed" in bundle["text/html"] and "saved as gemini_videos/" in bundle["text/plain"]


def test_service_strings_in_the_view_are_escaped(client):
    from gemini_magic.api.video import Video
    from gemini_magic.render.video import OperationProgress, video_bundle

    video = Video(client.transport, data=b"\x00" * 10, mime_type='video/mp4"><script>x</script>',
                  operation='models/v/operations/"><img src=x onerror=alert(1)>')
    html = video_bundle(video)["text/html"]
    assert "<script>" not in html and "onerror" not in html.split("src=")[0]
    assert 'src="data:video/mp4;base64,' in html
    op = type("Op", (), {"progress_percent": None, "done": False, "reads": 0, "name": "<b>x</b>"})()
    assert "<b>" not in OperationProgress("v", mode="plain").describe(op, 1.0).replace("<b>x</b>", "")  # plain text
    progress = OperationProgress("<i>label</i>", mode="plain")
    progress(op)
    assert progress._line.startswith("<i>label</i>: generating…")


# --- images ------------------------------------------------------------------------------------------

def test_generate_images_uses_a_gemini_image_model_with_image_config(client, emulator):
    images = client.generate_images("A watercolour fox", aspect_ratio="3:2", image_size="1k", number_of_images=2)
    sent = [r.json for r in emulator.requests if r.path.endswith(":generateContent")]
    assert len(sent) == 2 and all(body["generationConfig"] == {
        "responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"aspectRatio": "3:2", "imageSize": "1K"}}
        for body in sent)
    assert [image.size for image in images] == [(1248, 832), (1248, 832)] and len(images.responses) == 2
    assert images.blobs[0]["data"][:8] == b"\x89PNG\r\n\x1a\n"


def test_an_image_is_edited_from_a_kernel_image(client, emulator, tmp_path):
    from PIL import Image

    photo = Image.new("RGB", (64, 64), (10, 120, 10))
    images = client.generate_images(["Make the square blue", photo])
    parts = [r.json for r in emulator.requests if r.path.endswith(":generateContent")][0]["contents"][0]["parts"]
    assert parts[0]["text"] == "Make the square blue" and parts[1]["inlineData"]["mimeType"] == "image/png"
    paths = images.save(tmp_path)
    assert [p.name for p in paths] == ["image-1.png"] and paths[0].read_bytes() == images.blobs[0]["data"]


def test_imagen_is_retired_with_the_model_to_use(client, emulator):
    with pytest.raises(NotFoundError, match=r"Imagen's :predict was switched off .* model=\"gemini-2\.5-flash-image\""):
        client.generate_images("A fox", model="imagen-4.0-generate-001")
    assert [r.path for r in emulator.requests][-1].endswith("imagen-4.0-generate-001:predict")
    emulator.configure(imagen_retired=False)
    images = client.generate_images("A fox", model="imagen-4.0-generate-001", number_of_images=2, aspect_ratio="16:9")
    assert len(images) == 2 and emulator.requests[-1].json == {
        "instances": [{"prompt": "A fox"}], "parameters": {"sampleCount": 2, "aspectRatio": "16:9"}}


@pytest.mark.parametrize("options, message", [
    ({"aspect_ratio": "7:5"}, r"use one of these W:H values: 1:1, 2:3"),
    ({"image_size": "8K"}, r"1K, 2K, 4K"),
    ({"number_of_images": 0}, r"1 to 4"),
])
def test_bad_image_options_are_refused_before_sending(client, emulator, options, message):
    with pytest.raises(SettingsError, match=message):
        client.generate_images("A fox", **options)
    assert not emulator.requests


def test_images_show_inline(shell, emulator):
    shell.run_line_magic("gemini", "backend api")
    magics = shell.magics_manager.registry["GeminiMagics"]
    images = magics.backend.client().generate_images("A fox")
    data, _ = shell.display_formatter.format(images)
    assert data["text/html"].startswith('<img style=') and "data:image/png;base64," in data["text/html"]
