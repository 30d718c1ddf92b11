"""Video generation in plain Python against the emulator: Veo operations, Omni interactions, the refusals.

`client.generate_videos` → `VideoOperation` (poll, wait with backoff, videos, error, filtered) →
`Video` (bytes, save streamed, duration, size); `client.get_operation(name)` re-attaches.
"""

from __future__ import annotations

import base64
import io
import os
import re

import pytest

from gemini_magic.errors import DownloadError, NotFoundError, SettingsError, VideoFilteredError, VideoGenerationError
from gemini_magic.answer.media_out import mp4_duration

from conftest import TEST_KEY

VEO = "veo-3.1-generate-preview"
OMNI = "gemini-omni-1.1-flash"


def _creates(emulator):
    return [r for r in emulator.requests if r.path.endswith(":predictLongRunning")]


def _reads(emulator):
    return [r for r in emulator.requests if "/operations/" in r.path]


def test_a_veo_video_is_made_polled_downloaded_and_saved(client, emulator, tmp_path):
    operation = client.generate_videos("A lighthouse at dawn", aspect_ratio="9:16", resolution="720p",
                                       duration_seconds=6, negative_prompt="fog", person_generation="dont_allow")
    assert operation.name.startswith(f"models/{VEO}/operations/") and not operation.done
    body = _creates(emulator)[0].json
    assert body == {"instances": [{"prompt": "A lighthouse at dawn"}],
                    "parameters": {"sampleCount": 1, "aspectRatio": "9:16", "resolution": "720p",
                                   "durationSeconds": 6, "negativePrompt": "fog", "personGeneration": "dont_allow"}}
    seen = []
    operation.wait(progress=lambda op: seen.append((op.done, op.progress_percent)), poll=0.001)
    assert seen == [(False, None), (False, 33), (False, 66), (True, 100)]
    assert operation.state == "succeeded" and len(operation.videos) == 1
    video = operation.videos[0]
    assert video.size is None and "not downloaded yet" in repr(video)
    path = video.save(tmp_path / "clip.mp4")
    assert path.read_bytes()[4:8] == b"ftyp" and mp4_duration(path) == pytest.approx(2.0)
    assert not list(tmp_path.glob("*.part"))
    assert video.mime_type == "video/mp4" and video.duration == pytest.approx(2.0) and video.size == path.stat().st_size
    assert "2.0 s" in repr(video) and "kB" in repr(video)
    download = [r for r in emulator.requests if r.path.endswith(":download")][-1]
    assert download.headers["x-goog-api-key"] == TEST_KEY and download.query == {"alt": "media"}
    assert TEST_KEY not in repr(video) + repr(operation)


def test_polling_costs_one_read_per_backoff_step(client, emulator):
    emulator.configure(video_polls=5)
    waits = []
    client.transport.sleep = waits.append
    operation = client.generate_videos("Waves", model=VEO)
    operation.wait(poll=2.0, max_poll=5.0)
    assert len(_reads(emulator)) == len(waits) == 6
    assert waits == [2.0, 3.0, 4.5, 5.0, 5.0, 5.0]


def test_a_timeout_keeps_the_operation_and_get_operation_reattaches(client, emulator):
    emulator.configure(video_polls=3)
    client.transport.sleep = lambda seconds: None
    operation = client.generate_videos("Waves")
    with pytest.raises(TimeoutError, match=r"get_operation\('models/veo"):
        operation.wait(poll=1.0, max_poll=1.0, timeout=1.5)
    again = client.get_operation(operation.name)
    assert again.name == operation.name and again.model == VEO and not again.done
    again.wait(poll=0.001)
    assert again.done and len(again.videos) == 1 and len(again.videos[0].bytes) > 1000


def test_an_image_becomes_the_first_frame(client, emulator):
    from PIL import Image

    photo = Image.new("RGB", (64, 48), (200, 30, 30))
    client.generate_videos("Make it move", image=photo, last_frame=photo)
    instance = _creates(emulator)[0].json["instances"][0]
    assert instance["image"]["mimeType"] == "image/png" and instance["lastFrame"]["mimeType"] == "image/png"
    decoded = Image.open(io.BytesIO(base64.b64decode(instance["image"]["bytesBase64Encoded"])))
    assert decoded.size == (64, 48)


def test_an_image_file_path_as_text_is_that_file(client, emulator, tmp_path):
    from PIL import Image

    path = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (0, 120, 60)).save(path)
    client.generate_videos("Make it move", image=str(path))
    assert _creates(emulator)[0].json["instances"][0]["image"]["mimeType"] == "image/png"
    with pytest.raises(SettingsError, match=r"got a str that names no file \(.*nothing\.png"):
        client.generate_videos("Make it move", image=str(tmp_path / "nothing.png"))
    assert len(_creates(emulator)) == 1


@pytest.mark.parametrize("options, message", [
    ({"aspect_ratio": "4:3"}, r"aspect ratio 16:9, 9:16; got '4:3'"),
    ({"resolution": "4k"}, r"resolution 720p, 1080p; got '4k'"),
    ({"duration_seconds": 5}, r"duration \(seconds\) 4, 6, 8; got 5"),
    ({"resolution": "1080p", "duration_seconds": 4}, r"1080p videos 8 seconds long"),
    ({"number_of_videos": 9}, r"1 to 4"),
    ({"person_generation": "everyone"}, r"allow_all, allow_adult, dont_allow"),
    ({"model": "gemini-2.5-flash"}, r"gemini-2.5-flash does not make videos; use a video model: veo-"),
    ({"image": "just text"}, r"image must be an image"),
    ({"last_frame": b"\x89PNG"}, r"last_frame= needs image="),
    ({"model": OMNI, "negative_prompt": "fog"}, r"Omni\) does not take negative_prompt"),
    ({"model": OMNI, "duration_seconds": 12}, r"Omni takes the duration \(seconds\) 3, 4, 5, 6, 7, 8, 9, 10"),
])
def test_bad_input_is_one_message_and_nothing_is_sent(client, emulator, options, message):
    with pytest.raises(SettingsError, match=message):
        client.generate_videos("A lighthouse", **options)
    assert not [r for r in emulator.requests if "predictLongRunning" in r.path or r.path.endswith("interactions")]


def test_an_input_image_too_big_is_refused(client, emulator, monkeypatch):
    from gemini_magic.request import videos

    monkeypatch.setattr(videos, "INPUT_IMAGE_LIMIT", 100)
    from PIL import Image

    with pytest.raises(SettingsError, match=r"image is \d[\d,]* bytes; an input image may be at most 100 bytes"):
        client.generate_videos("Move", image=Image.effect_noise((64, 64), 50))
    assert not _creates(emulator)


def test_a_failed_operation_says_its_message_and_name(client, emulator):
    emulator.inject("video_failed", message="The backend had a bad day.")
    operation = client.generate_videos("Waves")
    with pytest.raises(VideoGenerationError, match="The backend had a bad day") as caught:
        operation.wait(poll=0.001)
    assert caught.value.operation == operation.name and operation.name in str(caught.value)
    assert operation.state == "failed" and operation.error["message"] == "The backend had a bad day."


def test_a_filtered_result_gives_its_reasons(client, emulator):
    emulator.inject("video_filtered")
    operation = client.generate_videos("Waves", number_of_videos=2)
    with pytest.raises(VideoFilteredError, match=r"2 video\(s\) filtered .*person generation") as caught:
        operation.wait(poll=0.001)
    assert caught.value.reasons and caught.value.count == 2 and operation.name in str(caught.value)
    assert operation.filtered == caught.value.reasons and operation.state == "filtered"


def test_an_unknown_operation_name(client, emulator):
    with pytest.raises(SettingsError, match="not a video operation name"):
        client.get_operation("batches/123")
    with pytest.raises(NotFoundError, match="was not found"):
        client.get_operation(f"models/{VEO}/operations/nothing")


def test_omni_goes_through_the_interactions_api(client, emulator, tmp_path):
    operation = client.generate_videos("A paper boat", model=OMNI, aspect_ratio="16:9", resolution="360p",
                                       duration_seconds=4)
    sent = [r for r in emulator.requests if r.path.endswith("/interactions")][-1]
    assert sent.headers["api-revision"] and sent.json["response_format"] == {
        "type": "video", "delivery": "uri", "aspect_ratio": "16:9", "resolution": "360p", "duration": 4}
    assert operation.done and operation.name.startswith("interactions/") and operation.state == "succeeded"
    path = operation.videos[0].save(tmp_path)
    assert path.suffix == ".mp4" and mp4_duration(path) == pytest.approx(2.0)


def test_an_omni_video_is_reattached_by_its_name_after_a_restart(client, emulator, tmp_path):
    from gemini_magic import Client

    name = client.generate_videos("A paper boat", model=OMNI).name
    restarted = Client(api_key=TEST_KEY, base_url=emulator.base_url)
    operation = restarted.get_operation(name)
    read = [r for r in emulator.requests if r.method == "GET" and r.path.endswith(name)]
    assert read[-1].headers["api-revision"] and operation.state == "succeeded" and operation.model == OMNI
    assert mp4_duration(operation.videos[0].save(tmp_path)) == pytest.approx(2.0)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a device that is always full)")
@pytest.mark.parametrize("downloaded", [False, True])
def test_a_full_disk_says_where_and_leaves_no_file_that_looks_whole(client, emulator, tmp_path, downloaded):
    video = client.generate_videos("Waves").wait(poll=0.001).videos[0]
    if downloaded:
        video.bytes  # in memory already: saving writes what is here
    target = tmp_path / "v.mp4"
    (tmp_path / "v.mp4.part").symlink_to("/dev/full")  # the bytes go to a disk that is full
    with pytest.raises(OSError, match=rf"Could not write the video to {re.escape(str(target))}: No space left "
                                      rf"on device.*models/{VEO}/operations/") as caught:
        video.save(target)
    assert not isinstance(caught.value, DownloadError) and not target.exists()
    assert not (tmp_path / "v.mp4.part").exists() and TEST_KEY not in str(caught.value)


def test_a_cut_download_resumes_with_a_range_request(client, emulator, tmp_path):
    operation = client.generate_videos("Waves").wait(poll=0.001)
    emulator.inject("cut_download", at=5000)
    path = operation.videos[0].save(tmp_path / "v.mp4")
    downloads = [r for r in emulator.requests if r.path.endswith(":download")]
    assert [r.headers.get("range") for r in downloads] == [None, "bytes=5000-"]
    assert mp4_duration(path) == pytest.approx(2.0) and path.stat().st_size == 17667


def test_a_redirect_to_another_host_gets_no_key(client, emulator, tmp_path):
    operation = client.generate_videos("Waves").wait(poll=0.001)
    emulator.inject("redirect_download")
    data = operation.videos[0].bytes
    media = [r for r in emulator.requests if r.path.startswith("/media/")]
    assert len(media) == 1 and "x-goog-api-key" not in media[0].headers and media[0].headers["host"].startswith("localhost")
    assert mp4_duration(data) == pytest.approx(2.0)
