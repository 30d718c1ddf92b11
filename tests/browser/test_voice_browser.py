"""Talking to a Live session in the browser, with Chromium's fake devices, in JupyterLab and Notebook 7.

The microphone is a WAV made now by espeak-ng (two sentences with silences around them), played by
Chromium as the capture device (`--use-file-for-fake-audio-capture`); the camera is Chromium's fake
video device. Against the paced emulator, one cell (`%gemini live talk voice`) and a click on the
microphone prove: the emulator hears the seconds of speech the file holds (its input transcription
says so, and its /emulator/live stats), the answer's audio is played (samples counted in the page),
the second sentence spoken during the first answer stops it (interrupted), another cell runs while
the session talks, camera frames arrive at <= 1 fps and <= 768 px, the End button leaves the
conversation (transcripts and players) as ordinary display data in the saved notebook, and a closed
tab ends the session. The microphone's frames take the direct channel (a WebSocket to the kernel on
loopback, voice/direct.py); a second test gives the page a port nothing listens on, and the frames go
by the comm instead, heard all the same.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
import wave
from array import array

import pytest

from .jupyter import (CHROMIUM, CHROMIUM_FLAGS, cell_error, code_cell, open_notebook, run_cell, wait_for_kernel_idle,
                      wait_for_prompt, wait_until, write_notebook)

pytestmark = pytest.mark.browser

SENTENCES = ("Hello there, what is the weather like in Hanoi today?", "Wait, tell me about Hue instead.")
LEAD, GAP, TAIL = 1.0, 2.0, 6.0     # seconds of silence before, between and after the sentences
# What the kernel's side says of the microphone's path (VoiceLink.channel, voice/direct.py): printed by a cell.
CHANNEL_CELL = """import gc
from gemini_magic.voice.widget import VoiceLink
print(*[f"channel={link.channel} direct_frames={link.direct_frames_in} frames={link.frames_in}"
        for link in gc.get_objects() if isinstance(link, VoiceLink) and not link.ended])"""
CELLS = ["%load_ext gemini_magic", "%gemini live talk voice", "21 * 2", CHANNEL_CELL]


def speech_span(samples: array, rate: int, threshold: int = 300) -> float:
    """Seconds from the first to the last sample louder than `threshold`."""
    loud = [i for i, s in enumerate(samples) if abs(s) > threshold]
    return (loud[-1] - loud[0]) / rate if loud else 0.0


@pytest.fixture(scope="module")
def speech_file(tmp_path_factory):
    """LEAD silence, sentence 1, GAP silence, sentence 2, TAIL silence; with each sentence's length."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is missing (apt-get install espeak-ng): no speech for the fake microphone")
    folder = tmp_path_factory.mktemp("voice")
    pieces, rate = [], None
    for index, sentence in enumerate(SENTENCES):
        path = folder / f"sentence-{index}.wav"
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), sentence], check=True, capture_output=True)
        with wave.open(str(path)) as source:
            rate = source.getframerate()
            pieces.append(array("h", source.readframes(source.getnframes())))
    quiet = lambda seconds: array("h", bytes(2 * int(seconds * rate)))  # noqa: E731
    whole = quiet(LEAD) + pieces[0] + quiet(GAP) + pieces[1] + quiet(TAIL)
    path = folder / "speech.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(whole.tobytes())
    return path, [speech_span(piece, rate) for piece in pieces]


@pytest.fixture(scope="module")
def media_chromium(playwright, speech_file):
    """A Chromium of its own: the fake-device flags only work when given at launch."""
    path, _ = speech_file
    flags = CHROMIUM_FLAGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                              f"--use-file-for-fake-audio-capture={path}%noloop",
                              "--autoplay-policy=no-user-gesture-required"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
    try:
        yield browser
    finally:
        browser.close()


def emulator_stats(base_url: str) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{base_url}/emulator/live", timeout=5) as answer:
        return json.load(answer)


def page_stats(page) -> dict:
    return page.evaluate("() => window.geminiVoice ? JSON.parse(JSON.stringify(window.geminiVoice)) : null") or {}


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_talking_to_a_live_session(app, media_chromium, jupyter_server, emulator_url, speech_file, screenshots,
                                   timings):
    started = time.monotonic()
    _, spans = speech_file
    before = emulator_stats(emulator_url)["connections"]
    context = media_chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    direct_texts = []      # what the page says on its direct socket as text: the token, as Chromium sends it
    page.on("websocket", lambda socket: socket.url.endswith("/") and "/api/" not in socket.url and socket.on(
        "framesent", lambda payload: isinstance(payload, str) and direct_texts.append(payload)))
    name = f"voice-{app}.ipynb"
    write_notebook(jupyter_server.root / name, CELLS)
    open_notebook(page, jupyter_server, app, name)
    wait_for_kernel_idle(page, app)
    for index in (0, 1):
        run_cell(page, index)
        wait_for_prompt(page, index, index + 1)
        assert not cell_error(page, index), cell_error(page, index)
    cell = code_cell(page, 1)
    mic = cell.get_by_role("button", name="🎤 Start microphone")
    wait_until(page, lambda: mic.count() == 1, 30, "the voice widget's microphone button")
    session = wait_until(page, lambda: next((s for s in emulator_stats(emulator_url)["sessions"]
                                             if s["connection"] > before and s["open"]), None), 15,
                         "the Live session to open")
    number = session["connection"]
    mine = lambda: next(s for s in emulator_stats(emulator_url)["sessions"] if s["connection"] == number)  # noqa

    mic.click()
    cell.get_by_role("button", name="📷 Camera on").click()
    run_cell(page, 2)                      # the kernel is free while the session talks
    wait_for_prompt(page, 2, 3, timeout=20)
    assert "42" in code_cell(page, 2).inner_text()

    # Sentence 1 heard and answered; sentence 2 spoken over the answer interrupts it; then answered.
    heard = wait_until(page, lambda: len(mine()["heard_seconds"]) >= 2 and mine()["heard_seconds"], 60,
                       "the emulator to hear both sentences")
    for got, expected in zip(heard, spans):
        assert abs(got - expected) < 0.5, (heard, spans)
    user_lines = cell.locator(".gemini-voice-user")
    wait_until(page, lambda: user_lines.count() >= 2, 15, "both user transcripts in the widget")
    assert f"({heard[0]:.1f} s of audio)" in user_lines.nth(0).inner_text()
    assert mine()["interruptions"] >= 1
    final = wait_until(page, lambda: (lambda s: s.get("received_samples") and s["played_samples"] +
                                      s["stopped_samples"] >= s["received_samples"] and s["played_samples"] > 24000
                                      and s)(page_stats(page)), 60, "the answers' audio to be played")
    assert final["interrupted"] >= 1 and final["stopped_samples"] > 0, final
    assert final["sent_frames"] > 0 and final["mic"], final
    # Speech onset is not batched (widget.js): the message holding each onset frame left the page at once.
    assert len(final["onsets"]) >= 2, final["onsets"]
    sends = [at for _, at in final["send_times"]]
    assert all(any(0 <= at - onset < 10 for at in sends) for onset in final["onsets"]), (final["onsets"], sends)
    assert cell.locator(".gemini-voice-model").count() >= 2
    # The frames took the direct channel: the page says so, and so does the kernel.
    assert final["channel"] == "direct" and final["direct_frames"] > 0 and "open" in final["direct_events"], final
    run_cell(page, 3)
    wait_for_prompt(page, 3, 4, timeout=20)
    said = code_cell(page, 3).locator("[data-mime-type='application/vnd.jupyter.stdout']").inner_text()
    fields = dict(part.split("=") for part in said.split())
    assert fields["channel"] == "direct" and 0 < int(fields["direct_frames"]) <= int(fields["frames"]), said

    frames = mine()["video_frames"]
    assert len(frames) >= 2, frames
    assert all(max(f["width"], f["height"]) <= 768 and f["mime_type"] == "image/jpeg" for f in frames), frames
    sent = page_stats(page)
    gaps = [b - a for a, b in zip(sent["video_times"], sent["video_times"][1:])]
    assert gaps and min(gaps) >= 0.9, gaps    # <= 1 fps as the page sends them (timer jitter allowed)
    assert len(frames) <= len(sent["video_times"])        # every frame the socket got was one the page timed
    cell.screenshot(path=str(screenshots / f"voice-{app}.png"))

    # The End button leaves the conversation as display data, saved with the notebook.
    cell.get_by_role("button", name="⏹ End session").click()
    record = cell.locator(".gemini-voice-record")
    wait_until(page, lambda: record.count() == 1, 20, "the conversation record to replace the widget")
    assert record.locator("audio").count() >= 2 and "s of audio)" in record.inner_text()
    wait_until(page, lambda: not mine()["open"], 10, "the session's socket to close")
    page.keyboard.press("Control+s")
    saved = wait_until(page, lambda: "gemini-voice-record" in (jupyter_server.root / name).read_text(), 20,
                       "the saved notebook to hold the conversation")
    assert saved
    # The token went to the direct socket only: not in the saved notebook (outputs, widget state).
    assert len(direct_texts) == 1 and len(direct_texts[0]) >= 43, direct_texts
    assert direct_texts[0] not in (jupyter_server.root / name).read_text()
    outputs = json.loads((jupyter_server.root / name).read_text())["cells"][1]["outputs"]
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "data:audio/wav;base64," in html and "You:" in html

    # A second session, its tab closed: the kernel notices the silent page and ends the session.
    run_cell(page, 1)
    wait_for_prompt(page, 1, 5)
    wait_until(page, lambda: cell.get_by_role("button", name="🎤 Start microphone").count() == 1, 30,
               "a new voice widget")
    again = wait_until(page, lambda: next((s for s in emulator_stats(emulator_url)["sessions"]
                                           if s["connection"] > number and s["open"]), None), 15, "a new session")
    page.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and next(s for s in emulator_stats(emulator_url)["sessions"]
                                               if s["connection"] == again["connection"])["open"]:
        time.sleep(0.25)
    assert not next(s for s in emulator_stats(emulator_url)["sessions"]
                    if s["connection"] == again["connection"])["open"], "the closed tab left the session open"
    context.close()
    timings.record(f"test_voice_browser[{app}]", time.monotonic() - started)


# A kernel that offers the page a port nothing listens on (the offer replaced in the cell, for this test).
DEAD_PORT_CELL = """import socket
from gemini_magic import Client
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
dead = probe.getsockname()[1]
probe.close()
session = Client().live()
w = session.widget()
w.link._offer_direct = lambda: w.link._send({"type": "direct", "port": dead, "token": "nothing listens"})
w"""


def test_an_unreachable_direct_channel_falls_back_to_the_comm(media_chromium, jupyter_server, emulator_url,
                                                              speech_file, timings):
    started = time.monotonic()
    _, spans = speech_file
    before = emulator_stats(emulator_url)["connections"]
    context = media_chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    name = "voice-fallback.ipynb"
    write_notebook(jupyter_server.root / name, ["%load_ext gemini_magic", DEAD_PORT_CELL, CHANNEL_CELL,
                                                "session.close()"])
    try:
        open_notebook(page, jupyter_server, "lab", name)
        wait_for_kernel_idle(page, "lab")
        for index in (0, 1):
            run_cell(page, index)
            wait_for_prompt(page, index, index + 1)
            assert not cell_error(page, index), cell_error(page, index)
        mic = code_cell(page, 1).get_by_role("button", name="🎤 Start microphone")
        wait_until(page, lambda: mic.count() == 1, 30, "the voice widget's microphone button")
        session = wait_until(page, lambda: next((s for s in emulator_stats(emulator_url)["sessions"]
                                                 if s["connection"] > before and s["open"]), None), 15,
                             "the Live session to open")
        mic.click()
        heard = wait_until(page, lambda: next(s for s in emulator_stats(emulator_url)["sessions"]
                                              if s["connection"] == session["connection"])["heard_seconds"], 30,
                           "the emulator to hear the first sentence over the comm")
        assert abs(heard[0] - spans[0]) < 0.5, (heard, spans)
        stats = page_stats(page)
        assert stats["channel"] == "comm" and stats["direct_frames"] == 0 and stats["sent_messages"] > 0, stats
        assert any(event.startswith("closed") for event in stats["direct_events"]), stats["direct_events"]
        run_cell(page, 2)
        wait_for_prompt(page, 2, 3, timeout=20)
        said = code_cell(page, 2).locator("[data-mime-type='application/vnd.jupyter.stdout']").inner_text()
        fields = dict(part.split("=") for part in said.split())
        assert fields["channel"] == "comm" and fields["direct_frames"] == "0" and int(fields["frames"]) > 0, said
        run_cell(page, 3)
        wait_for_prompt(page, 3, 4, timeout=20)
    finally:
        context.close()
    timings.record("test_voice_browser fallback[lab]", time.monotonic() - started)
