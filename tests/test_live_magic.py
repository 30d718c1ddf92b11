"""`%%gemini --live NAME` and `%gemini live [list|close NAME]` through a real InteractiveShell, against
the emulator's Live endpoint over loopback."""

from __future__ import annotations

import time

import pytest
from IPython.core.error import UsageError

from gemini_magic.api.live import LiveSession
from gemini_magic.answer.live_turn import LiveTurn


def get_rainfall(city: str, month: int) -> float:
    """Average rainfall in millimetres for a city and month (1-12)."""
    return {"Huế": 795.6, "Hà Nội": 260.1}.get(city, 100.0)


@pytest.fixture(autouse=True)
def _sessions_closed(shell):
    yield
    for name in ("live", "talk", "trip"):
        value = shell.user_ns.pop(name, None)
        if isinstance(value, LiveSession):
            value.close()


def _run(shell, line, cell):
    result = shell.run_cell(f"%%gemini {line}\n{cell}")
    return result


def test_a_question_then_a_follow_up_in_the_same_session_with_a_kernel_function(shell, emulator, capsys):
    shell.user_ns["get_rainfall"] = get_rainfall
    first = _run(shell, "--live --tools get_rainfall", "What is the capital of Vietnam?")
    assert first.error_in_exec is None, first.error_in_exec
    session = shell.user_ns["live"]
    turn = shell.user_ns["_gemini"]
    assert isinstance(session, LiveSession) and isinstance(turn, LiveTurn)
    assert "you said “What is the capital of Vietnam?”" in turn.text and turn.audio_bytes > 0
    out = capsys.readouterr().out
    assert "you said “What is the capital of Vietnam?”" in out  # the transcript, in the view
    assert f"[audio/L16;codec=pcm;rate=24000, {turn.audio_bytes / 1000:.1f} kB]" in out  # the speech, at the end
    assert "\\[" not in out  # a terminal gets plain text, never Markdown escapes
    from gemini_magic.render.final import final_bundles

    player = [b for b in final_bundles(turn.to_response()) if "text/html" in b]  # what a notebook shows
    assert player and player[0]["text/html"].startswith('<audio controls src="data:audio/wav;base64,')
    assert f"live · turn 1 · {session.total_tokens:,} tokens so far" in out

    second = _run(shell, "--live -o rain", "Use get_rainfall: Huế in October?")
    assert second.error_in_exec is None, second.error_in_exec
    rain = shell.user_ns["rain"]
    assert shell.user_ns["live"] is session and rain.number == 2 and emulator.live.connections == 1
    assert rain.tool_calls[0]["result"] == 795.6 and "get_rainfall returned 795.6" in rain.text
    out = capsys.readouterr().out
    assert "get_rainfall" in out and "795.6" in out and "live · turn 2" in out


def test_text_answers_and_a_named_session(shell, emulator, capsys):
    result = _run(shell, "--live talk --text -m gemini-live-2.5-flash-preview -t 0.4", "Hi")
    assert result.error_in_exec is None, result.error_in_exec
    turn = shell.user_ns["_gemini"]
    assert turn.audio == b"" and "Live turn 1" in turn.text
    setup = emulator.live.messages[0]["message"]["setup"]
    assert setup["generationConfig"] == {"temperature": 0.4, "responseModalities": ["TEXT"]}
    assert "<audio" not in capsys.readouterr().out


def test_live_list_and_close(shell, emulator, capsys):
    _run(shell, "--live trip", "Hello")
    capsys.readouterr()
    shell.run_line_magic("gemini", "live list")
    out = capsys.readouterr().out
    assert "| `trip` | gemini-2.5-flash-native-audio-preview-12-2025 | open | 1 |" in out
    shell.run_line_magic("gemini", "live close trip")
    assert shell.user_ns["trip"].closed
    assert "Closed the Live session trip after 1 turn." in capsys.readouterr().out
    with pytest.raises(UsageError, match="no Live session named nope"):
        shell.run_line_magic("gemini", "live close nope")
    # A closed session in the variable: the next --live cell opens a new one.
    _run(shell, "--live trip", "Hello again")
    assert not shell.user_ns["trip"].closed and emulator.live.connections == 2


def test_refusals_read_as_one_message(shell, emulator):
    for line, words in [("--live -m gemini-2.5-flash", "gemini-2.5-flash is not a Live model"),
                        ("--live --text", "answers only in speech"),
                        ("--live --voice Robot", "no prebuilt voice 'Robot'"),
                        ("--live --chat trip", "--chat cannot go with --live"),
                        ("--live --raw", "--raw cannot go with --live"),  # no HTTP request to show
                        ("--text", "--text and --voice go with --live")]:
        with pytest.raises(UsageError, match=words):
            shell.run_cell_magic("gemini", line, "Hello")
    shell.run_cell_magic("gemini", "--live trip", "Hello")
    shell.user_ns["get_rainfall"] = get_rainfall
    with pytest.raises(UsageError, match=r"trip was opened without the tools get_rainfall.*%gemini live close trip"):
        shell.run_cell_magic("gemini", "--live trip --tools get_rainfall", "Hello")
    with pytest.raises(UsageError, match=r"without text answers"):
        shell.run_cell_magic("gemini", "--live trip --text", "Hello")
    shell.user_ns.pop("trip").close()
    connections = emulator.live.connections
    shell.user_ns["trip"] = 42
    with pytest.raises(UsageError, match="holds a int, not a Live session"):
        shell.run_cell_magic("gemini", "--live trip", "Hello")
    assert emulator.live.connections == connections == 1


def test_a_closed_connection_is_one_message_and_what_arrived_is_kept(shell, emulator):
    emulator.inject("live_close", match="live", code=1011, reason="Deadline expired", when="answer")
    with pytest.raises(UsageError, match=r"(?s)1011 internal error or unavailable\): Deadline expired.*opens a new session"):
        shell.run_cell_magic("gemini", "--live", "Hello")
    kept = shell.user_ns["_gemini"]
    assert kept.error is not None and kept.audio_bytes > 0
    shell.run_cell_magic("gemini", "--live", "Hello again")
    assert shell.user_ns["_gemini"].complete and emulator.live.connections == 2


def test_a_go_away_is_one_line_and_the_session_goes_on(shell, emulator, capsys):
    emulator.inject("go_away", match="live", time_left=3, after_turns=1)
    _run(shell, "--live", "One")
    session = shell.user_ns["live"]
    for _ in range(500):
        if session.resumptions:
            break
        import time
        time.sleep(0.01)
    _run(shell, "--live", "Two")
    assert session.resumptions == 1 and shell.user_ns["_gemini"].complete
    assert "1 earlier turn(s)" in shell.user_ns["_gemini"].text
    assert "ℹ️ Resumed the session after goAway (resumption 1)." in capsys.readouterr().out


def test_next_turn_after_a_cell_gives_the_spoken_turn_not_the_cell_s_answer(shell, emulator):
    """The cell's answer was shown by the cell: next_turn() waits for the turn the user speaks next."""
    _run(shell, "--live", "Hello")
    session = shell.user_ns["live"]
    session.send_audio(b"\x00\x00" * 16000)  # one second of 16 kHz speech
    session.end_audio()
    spoken = session.next_turn(timeout=10)
    assert spoken is not None and spoken.number == 2 and spoken.input_transcript == "(1.0 s of audio)"


def test_tool_mode_is_refused_with_live_rather_than_ignored(shell, emulator):
    """--tool-mode manual means "run nothing": a Live session runs every call, so it is refused."""
    shell.user_ns["get_rainfall"] = get_rainfall
    with pytest.raises(UsageError, match="--tool-mode cannot go with --live"):
        shell.run_cell_magic("gemini", "--live --tools get_rainfall --tool-mode manual", "get_rainfall for Huế in 10")
    assert emulator.live.connections == 0 and "live" not in shell.user_ns


def test_live_close_without_a_name_closes_the_default_session_and_twice_says_so(shell, emulator, capsys):
    """`%gemini live close` is the subcommand for the default session, never a prompt sent to a model."""
    _run(shell, "--live", "Hello")
    session = shell.user_ns["live"]
    capsys.readouterr()
    requests = len(emulator.requests)
    shell.run_line_magic("gemini", "live close")
    assert session.closed and len(emulator.requests) == requests  # nothing was sent
    assert "Closed the Live session live after 1 turn." in capsys.readouterr().out
    shell.run_line_magic("gemini", "live close")
    out = capsys.readouterr().out
    assert "live is closed already (after 1 turn)" in out and "Closed the" not in out


def test_a_backend_gone_between_cells_is_one_message_for_the_magic_then_a_new_session(shell, monkeypatch):
    """The server vanishes between two cells: the cell says what happened and what to do (no
    client.live(...) advice meant for Python code); the next cell opens a new session."""
    from gemini_emulator import Emulator

    first = Emulator().start()
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", first.base_url)
    _run(shell, "--live", "Hello")
    session = shell.user_ns["live"]
    first.stop()
    for _ in range(300):  # the session's socket has seen the drop
        if session._connection.closed:
            break
        time.sleep(0.01)
    with pytest.raises(UsageError) as refused:
        shell.run_cell_magic("gemini", "--live", "Are you there?")
    message = str(refused.value)
    assert "1006" in message and "client.live" not in message
    assert "This cell was not answered; run it again" in message
    for _ in range(300):  # the reader tries to resume, then ends the session
        if session.closed:
            break
        time.sleep(0.01)
    assert session.closed and [t.number for t in session.turns] == [1] and session.turns[0].complete
    with Emulator() as second:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", second.base_url)
        result = _run(shell, "--live", "Are you there now?")
        assert result.error_in_exec is None, result.error_in_exec
        assert shell.user_ns["live"] is not session and shell.user_ns["_gemini"].complete
        shell.user_ns["live"].close()
