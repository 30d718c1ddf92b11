"""`%%gemini --chat NAME` across cells, against the emulator: history you can trust."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError


@pytest.fixture(autouse=True)
def _no_conversations_left(shell):
    for name in ("trip", "talk", "chat", "df"):
        shell.user_ns.pop(name, None)
    yield


def _generate_bodies(emulator):
    return [r.json for r in emulator.requests if "enerateContent" in r.path]


def _run(shell, line, cell, cell_id=None):
    """Run like a frontend does: the cell id arrives with the execution (pre_run_cell's info)."""
    source = f"%%gemini {line}\n{cell}"
    return shell.run_cell(source, store_history=True, cell_id=cell_id)


def test_three_turns_carry_the_history(shell, emulator, capsys):
    for number, question in enumerate(["I have two dogs and a cat.", "Plan a weekend in Đà Lạt.",
                                       "Which places allow cats?"], 1):
        result = _run(shell, "--chat trip -m gemini-2.5-flash", question, cell_id=f"cell-{number}")
        assert result.error_in_exec is None, result.error_in_exec
    chat = shell.user_ns["trip"]
    assert len(chat.turns) == 3 and [c["role"] for c in chat.history] == ["user", "model"] * 3
    last = _generate_bodies(emulator)[-1]
    assert [c["role"] for c in last["contents"]] == ["user", "model", "user", "model", "user"]
    assert last["contents"][0]["parts"][0]["text"] == "I have two dogs and a cat."
    assert "turn 3" in shell.user_ns["_gemini"].text  # the emulator saw two earlier turns
    footer = [line for line in capsys.readouterr().out.splitlines() if "tokens so far" in line][-1]
    assert f"trip · turn 3 · {chat.total_tokens:,} tokens so far" in footer


def test_rerunning_a_cell_replaces_its_turn(shell, emulator):
    _run(shell, "--chat trip", "First question", cell_id="a")
    _run(shell, "--chat trip", "Second question", cell_id="b")
    _run(shell, "--chat trip", "Third question", cell_id="c")
    _run(shell, "--chat trip", "Second question, fixed", cell_id="b")
    chat = shell.user_ns["trip"]
    assert [t.user["parts"][0]["text"] for t in chat.turns] == ["First question", "Second question, fixed"]
    assert [c["role"] for c in _generate_bodies(emulator)[-1]["contents"]] == ["user", "model", "user"]


def test_a_failed_turn_leaves_the_history_unchanged(shell, emulator):
    _run(shell, "--chat trip", "First question", cell_id="a")
    before = list(shell.user_ns["trip"].history)
    emulator.inject("status", code=500, match="stream", times=10)
    with pytest.raises(UsageError, match="Not added to trip"):
        shell.run_cell_magic("gemini", "--chat trip", "Second question")
    assert shell.user_ns["trip"].history == before


def test_a_cut_stream_leaves_the_history_unchanged_and_keeps_the_partial_answer(shell, emulator):
    _run(shell, "--chat trip", "First question", cell_id="a")
    before = list(shell.user_ns["trip"].history)
    emulator.inject("cut", after_chunks=2, match="stream")
    with pytest.raises(UsageError, match="Not added to trip"):
        shell.run_cell_magic("gemini", "--chat trip", "Second question")
    assert shell.user_ns["trip"].history == before
    assert shell.user_ns["_gemini"].text and shell.user_ns["_gemini"].incomplete


def test_chat_subcommands(shell, emulator, capsys):
    _run(shell, "--chat trip", "First question", cell_id="a")
    _run(shell, "--chat trip", "Second question", cell_id="b")
    shell.run_line_magic("gemini", "chat trip")
    assert "Turn 2" in capsys.readouterr().out
    shell.run_line_magic("gemini", "chat undo trip")
    assert len(shell.user_ns["trip"].turns) == 1
    shell.run_line_magic("gemini", "chat reset trip")
    assert len(shell.user_ns["trip"].turns) == 0
    with pytest.raises(UsageError, match="no conversation named nothing"):
        shell.run_line_magic("gemini", "chat undo nothing")


def test_chat_refuses_a_variable_that_is_not_a_conversation(shell, emulator):
    shell.user_ns["df"] = [1, 2]
    with pytest.raises(UsageError, match="holds a list"):
        shell.run_cell_magic("gemini", "--chat df", "hi")
    assert not _generate_bodies(emulator)


def test_the_default_conversation_is_named_chat(shell, emulator):
    shell.run_cell_magic("gemini", "--chat", "hello")
    from gemini_magic import Chat

    assert isinstance(shell.user_ns["chat"], Chat) and len(shell.user_ns["chat"].turns) == 1


def test_interactions_conversation_chains_by_id(shell, emulator):
    _run(shell, "--chat talk --interactions -m gemini-3-flash-preview", "I have 2 dogs.", cell_id="a")
    _run(shell, "--chat talk", "How many paws?", cell_id="b")
    bodies = [r.json for r in emulator.requests if r.path.endswith("/interactions")]
    assert len(bodies) == 2 and "previous_interaction_id" not in bodies[0]
    assert bodies[1]["previous_interaction_id"] == shell.user_ns["talk"].turns[0].interaction_id
    assert len(shell.user_ns["talk"].turns) == 2


def test_without_a_cell_id_a_rerun_appends_and_says_so_once(shell, emulator):
    """Terminal IPython and nbclient send no cell id: a re-run cannot replace its turn, and says so once."""
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        for question in ["First question", "First question", "Second question", "Second question"]:
            assert _run(shell, "--chat trip", question).error_in_exec is None
    chat = shell.user_ns["trip"]
    assert [turn.user["parts"][0]["text"] for turn in chat.turns] == ["First question", "First question",
                                                                       "Second question", "Second question"]
    notes = [o.data["text/markdown"] for o in captured.outputs
             if "sends no cell id" in o.data.get("text/markdown", "")]
    assert notes == ["Added as turn 2 of trip. This frontend sends no cell id, so running a cell again adds a turn "
                     "instead of replacing its own (replacing works in JupyterLab, Notebook 7 and VS Code); "
                     "`%gemini chat undo trip` removes the last exchange."]


def test_with_cell_ids_no_append_note_is_shown(shell, emulator):
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        _run(shell, "--chat trip", "First question", cell_id="a")
        _run(shell, "--chat trip", "Second question", cell_id="b")
        _run(shell, "--chat trip", "Second question", cell_id="b")
    shown = [o.data.get("text/markdown", "") for o in captured.outputs]
    assert not any("sends no cell id" in text for text in shown)
    assert any(text.startswith("Re-ran turn 2 of trip") for text in shown)
