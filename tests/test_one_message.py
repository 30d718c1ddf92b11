"""One failure, one message: the magic's UsageError says it, the view and the progress bar do not repeat it;
and the fixes a message suggests work as written."""

from __future__ import annotations

import threading

import pytest
from IPython.core.error import UsageError
from helpers import Place

from conftest import TEST_KEY


def _cell(shell, capsys, line, cell):
    """Run a %%gemini cell that fails: (what was printed, the UsageError's text)."""
    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("gemini", line, cell)
    return capsys.readouterr().out, str(caught.value)


def test_a_typed_answer_cut_by_the_token_limit_gets_one_message(shell, emulator, capsys):
    shell.user_ns["Place"] = Place
    out, error = _cell(shell, capsys, "--schema Place --max-tokens 10", "One place in Vietnam.")
    assert "Warning:" not in out  # neither the token limit nor the type's error a second time
    assert "MAX_TOKENS" in out  # the footer says how it ended
    partial = shell.user_ns["_gemini"].text
    assert partial and partial[:15] in out  # the partial answer stays visible
    assert "token limit" in error and "raise --max-tokens" in error and "_gemini.text" in error
    assert "maximum output tokens" not in error  # the magic names its own option


def test_a_typed_answer_that_fits_shows_no_warning(shell, emulator, capsys):
    shell.user_ns["Place"] = Place
    shell.run_cell_magic("gemini", "--schema Place", "One place in Vietnam.")
    out = capsys.readouterr().out
    assert "Warning:" not in out and shell.user_ns["_gemini"].parsed


def test_a_stream_failing_midway_gets_one_message(shell, emulator, capsys):
    emulator.inject("error_mid_stream", chunks=2, code=500, match="stream")
    out, error = _cell(shell, capsys, "", "Tell me a long story.")
    assert "Warning:" not in out and "stream failed" not in out
    assert "incomplete" in out  # the footer marks the partial answer
    response = shell.user_ns["_gemini"]
    assert response.text and response.text[:10] in out
    assert "500 INTERNAL" in error and "The partial answer is in _gemini (marked incomplete)." in error


def test_a_stream_failing_midway_in_plain_python_still_shows_the_failure(client, emulator, capsys):
    from gemini_magic.errors import GeminiError
    from gemini_magic.render import StreamView

    emulator.inject("error_mid_stream", chunks=2, code=500, match="stream")
    view = StreamView("gemini-2.5-flash", mode="terminal")
    stream = client.stream("gemini-2.5-flash", "Tell me a long story.")
    with pytest.raises(GeminiError) as caught:
        for _ in stream:
            view.update(stream.response)
    view.finish(caught.value.response)  # nothing else tells this user: the view says it
    out = capsys.readouterr().out
    assert "Warning: The stream failed (ServerError: 500 INTERNAL" in out
    assert "the partial answer is shown and kept in the result" in out


def test_uploading_a_missing_file_is_refused_with_one_message_and_nothing_sent(shell, emulator, capsys,
                                                                                tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="No file at lecture.mp4. Check the path") as caught:
        shell.run_line_magic("gemini_upload", "lecture.mp4")
    assert capsys.readouterr().out == ""
    assert "failed" not in str(caught.value)
    assert not [r for r in emulator.requests if "files" in r.path]


def test_an_upload_failing_on_the_wire_gets_one_message(shell, emulator, capsys, tmp_path):
    video = tmp_path / "lecture.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(4000))
    emulator.inject("status", code=500, match="upload", times=5)
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("gemini_upload", str(video))
    out = capsys.readouterr().out
    assert "Upload of lecture.mp4 failed." not in out and "500" in str(caught.value)


def test_the_suggested_converter_for_an_object_it_cannot_send_works_as_pasted(shell, emulator, capsys):
    from gemini_magic.parts import registry, to_part

    shell.user_ns["lock"] = lock = threading.Lock()
    out, error = _cell(shell, capsys, "", "describe {lock}")
    suggested = error.split("teach gemini_magic how:\n", 1)[1]
    assert "register_converter('_thread.lock'," in suggested
    saved = registry.snapshot()
    try:
        exec(suggested.replace("\n    ", "\n").strip(), dict(shell.user_ns))  # pasted into a cell
        assert to_part(lock) == {"text": str(lock)}
    finally:
        registry.restore(saved)


def _backend_emulator_says(shell, capsys) -> str:
    """What `%gemini backend emulator` prints (the backend goes back to auto after)."""
    try:
        shell.run_line_magic("gemini", "backend emulator")
        return capsys.readouterr().out
    finally:
        shell.run_line_magic("gemini", "backend auto")


def test_backend_emulator_with_a_key_set_says_auto_switches_to_gemini(shell, emulator, capsys, monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY")
    monkeypatch.setenv("GEMINI_API_KEY", TEST_KEY)
    out = _backend_emulator_says(shell, capsys)
    assert "A key is set (`GEMINI_API_KEY`): `%gemini backend auto` (or `api`) switches to Gemini." in out
    assert "Set `GOOGLE_API_KEY`" not in out and TEST_KEY not in out


def test_backend_emulator_without_a_key_says_which_variables_to_set(shell, emulator, capsys, monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY")
    out = _backend_emulator_says(shell, capsys)
    assert "Set `GOOGLE_API_KEY` (or `GEMINI_API_KEY`) and run `%gemini backend auto`" in out


def test_a_live_turn_whose_connection_closes_gets_one_message(shell, emulator, capsys):
    emulator.inject("live_close", match="live", code=1011, reason="Deadline expired", when="answer")
    out, error = _cell(shell, capsys, "--live", "Hello")
    assert "Warning:" not in out and "incomplete" in out and "audio/L16" in out  # what arrived, once
    assert "Deadline expired" in error and "What arrived is in _gemini (marked incomplete)" in error
