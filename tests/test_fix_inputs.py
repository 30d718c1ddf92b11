"""`%gemini fix` with the inputs a new-user trial tried: options that make no fixed cell, free words,
the cell form, a SyntaxError, huge errors and cells, an answer quoting the broken cell, a stale error.
Each bad input is one UsageError with nothing sent (the emulator's request log says so)."""

from __future__ import annotations

import json

import pytest
from IPython.core.error import UsageError


def _generated(emulator) -> list:
    return [r for r in emulator.requests if "enerateContent" in r.path or "predict" in r.path
            or r.path.endswith("interactions")]


@pytest.fixture
def failed(shell):
    shell.run_cell("prices = {'apple': 3}\ntotal = prices['apple'] + prices['plum']", store_history=True)
    return shell


@pytest.mark.parametrize("options", ["--video", "--live", "--image", "--speak", "--over prices", "--chat"])
def test_options_that_make_no_fixed_cell_are_refused(failed, emulator, options):
    with pytest.raises(UsageError, match=f"does not take {options.split()[0]}"):
        failed.run_line_magic("gemini", f"fix {options}")
    assert _generated(emulator) == []


def test_free_words_and_the_cell_form_say_how_to_write_an_instruction(failed, emulator):
    with pytest.raises(UsageError, match="%gemini fix -- use dict.get"):
        failed.run_line_magic("gemini", "fix use dict.get")
    with pytest.raises(UsageError, match="fix is a line magic"):
        failed.run_cell_magic("gemini", "fix", "use dict.get")
    assert _generated(emulator) == []


def test_a_syntax_error_is_the_error_fixed(failed, emulator):
    failed.run_cell("x = 1 +", store_history=True)
    failed.run_line_magic("gemini", "fix --no-stream")
    prompt = json.dumps(_generated(emulator)[-1].json)
    assert "x = 1 +" in prompt and "SyntaxError" in prompt and "prices['plum']" not in prompt


def test_a_huge_error_and_cell_are_trimmed(shell, emulator):
    shell.run_cell("raise ValueError('x' * 2_000_000)", store_history=True)
    shell.run_line_magic("gemini", "fix --no-stream")
    body = json.dumps(_generated(emulator)[-1].json)
    assert len(body) < 30_000 and "characters of the error left out" in body
    shell.run_cell("\n".join(f"v{n} = {n}" for n in range(20_000)) + "\n1 / 0", store_history=True)
    shell.run_line_magic("gemini", "fix --no-stream")
    body = json.dumps(_generated(emulator)[-1].json)
    assert len(body) < 30_000 and "characters of the cell left out" in body and "1 / 0" in body


def test_the_fixed_cell_is_the_answers_last_code_block(failed):
    failed.rl_next_input = None
    failed.run_line_magic("gemini", "fix --no-stream")
    answer = failed.user_ns["_gemini"]
    assert answer.code().count("```") == 0 and failed.rl_next_input == answer.code(last=True)
    assert "prices['plum']" in answer.code()  # the emulator's answer quotes the broken cell first ...
    assert "prices['plum']" not in failed.rl_next_input  # ... and only the last block became the cell


def test_a_stale_error_says_which_cell_and_how_many_ran_since(failed, capsys):
    failed.run_cell("ok = 1", store_history=True)
    failed.run_cell("ok += 1", store_history=True)
    capsys.readouterr()
    failed.run_line_magic("gemini", "fix --no-stream")
    assert "2 cells ran without error since" in capsys.readouterr().out


def test_a_cut_option_is_refused_in_the_cell_magic_as_in_the_line_magic(shell, emulator):
    for line in ("--new-cel", "--dry"):
        with pytest.raises(UsageError, match="Did you mean --"):
            shell.run_cell_magic("gemini", line, "Write a greeting function.")
    assert _generated(emulator) == []
