"""The magics' own input edges: option typos on the line magic, `?` at the end of a one-line prompt
(through a real shell's input path), `-o` that would replace a user's variable, settings refused when set."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError


def _sent(emulator):
    return [r for r in emulator.requests if "enerateContent" in r.path]


@pytest.mark.parametrize("line, suggestion", [
    ("--temprature 0.3 Hello", "--temperature"),
    ("--jsn List three facts", "--json"),
    ("-x 3 hi", None),
])
def test_a_typo_in_an_option_is_refused_not_sent(shell, emulator, line, suggestion):
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("gemini", line)
    message = str(caught.value)
    assert "is not an option of %gemini" in message
    if suggestion:
        assert f"Did you mean {suggestion}?" in message
    assert not _sent(emulator)


def test_a_prompt_may_start_with_a_dash_after_double_dash(shell, emulator):
    shell.run_line_magic("gemini", "-- -5 degrees: is that cold?")
    assert _sent(emulator)[-1].json["contents"][0]["parts"][0]["text"] == "-5 degrees: is that cold?"


def test_negative_numbers_start_a_prompt(shell, emulator):
    shell.run_line_magic("gemini", "-5 degrees: is that cold")
    assert _sent(emulator)[-1].json["contents"][0]["parts"][0]["text"] == "-5 degrees: is that cold"


def test_a_one_line_prompt_ending_in_a_question_mark_is_sent(shell, emulator):
    result = shell.run_cell("%gemini --no-stream What is the capital of France?")
    assert result.error_in_exec is None and result.error_before_exec is None
    assert _sent(emulator)[-1].json["contents"][0]["parts"][0]["text"] == "What is the capital of France?"
    assert shell.user_ns["_gemini"].text.startswith("[gemini_magic emulator]")


def test_the_magics_own_help_still_works(shell, emulator, capsys):
    shell.run_cell("%gemini?")
    assert not _sent(emulator)


def test_question_mark_lines_inside_a_cell_are_prompts_too(shell, emulator):
    shell.run_cell("x = 1\n%gemini --no-stream Is x one?\ny = 2")
    assert _sent(emulator)[-1].json["contents"][0]["parts"][0]["text"] == "Is x one?"
    assert shell.user_ns["y"] == 2


def test_out_never_replaces_a_users_variable(shell, emulator):
    shell.user_ns["df"] = [1, 2, 3]
    with pytest.raises(UsageError, match=r"already holds a list.*del df"):
        shell.run_cell_magic("gemini", "-o df", "hi")
    assert shell.user_ns["df"] == [1, 2, 3] and not _sent(emulator)
    shell.run_cell_magic("gemini", "-o answer", "hi")
    shell.run_cell_magic("gemini", "-o answer", "again")  # an earlier result may be replaced
    assert "again" in shell.user_ns["answer"].text


@pytest.mark.parametrize("assignment, message", [
    ("timeout = -1", "above 0"),
    ("timeout = 0", "above 0"),
    ("model = ''", "model name is empty"),
    ("model = ' '", "model name is empty"),
    ("temperature = float('nan')", "between 0 and 2; got nan"),
    ("top_p = 3.0", "between 0 and 1"),
    ("api_version = ''", "version such as 'v1beta'"),
    ("max_retries = -2", "0 or more"),
])
def test_bad_settings_are_refused_when_set(shell, emulator, caplog, assignment, message):
    """%config reports the refusal as one logged line (IPython's config magic logs what a trait refuses)."""
    magics = shell.magics_manager.registry["GeminiMagics"]
    name = assignment.split()[0]
    before = getattr(magics, name)
    shell.run_line_magic("config", f"GeminiMagics.{assignment}")
    assert getattr(magics, name) == before
    assert [r.getMessage() for r in caplog.records if message in r.getMessage()], caplog.text
    shell.run_cell_magic("gemini", "", "still works")
    assert _sent(emulator)


def test_bad_settings_show_no_traceback_through_run_cell(shell, capsys):
    result = shell.run_cell("%config GeminiMagics.timeout = -1")
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err and result.error_in_exec is None
    from traitlets import TraitError

    with pytest.raises(TraitError, match="above 0"):
        shell.magics_manager.registry["GeminiMagics"].timeout = -1


@pytest.mark.parametrize("name, value, told", [
    ("temperature", '"hot"', "expected a number from 0 to 2, or None (the model's default), not the str 'hot'"),
    ("stream", '"yes"', "expected True or False, not the str 'yes'"),
    ("max_retries", '"many"', "expected a whole number of 0 or more"),
])
def test_a_setting_of_the_wrong_type_is_told_what_it_takes_and_keeps_its_value(shell, name, value, told):
    from traitlets import TraitError

    magics = shell.magics_manager.registry["GeminiMagics"]
    before = getattr(magics, name)
    with pytest.raises(TraitError) as caught:
        setattr(magics, name, eval(value))
    assert told in str(caught.value) and getattr(magics, name) == before


def test_a_misspelt_model_gets_one_message_with_a_suggestion(shell, emulator, capsys):
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("gemini", "-m gemini-2.5-flsh Hello")
    assert "Did you mean gemini-2.5-flash?" in str(caught.value)
    out = capsys.readouterr().out
    assert "No answer" not in out and "tokens" not in out  # no empty answer, footer or warning besides


def test_in_out_and_last_error_put_the_notebook_in_the_prompt(shell, emulator):
    shell.run_cell("value = 6 * 7", store_history=True)
    number = shell.execution_count - 1
    shell.run_cell("value", store_history=True)
    shell.run_cell("1 / 0", store_history=True)
    shell.run_cell_magic("gemini", "--no-stream", "Code: {In[%d]} Error: {last_error}" % number)
    text = _sent(emulator)[-1].json["contents"][0]["parts"][0]["text"]
    assert "```python\nvalue = 6 * 7\n```" in text
    assert "ZeroDivisionError: division by zero" in text and "Traceback" in text and "\x1b[" not in text
    assert "site-packages/IPython" not in text  # the user's frames only
    shell.run_cell_magic("gemini", "--no-stream", "The answer was {Out[%d]}." % (number + 1))
    parts = _sent(emulator)[-1].json["contents"][0]["parts"]
    assert "".join(p["text"] for p in parts) == "The answer was 42."


def test_last_error_says_when_there_is_none(shell, emulator):
    magics = shell.magics_manager.registry["GeminiMagics"]
    magics.context.last_error = None
    with pytest.raises(UsageError, match="there is none yet"):
        shell.run_cell_magic("gemini", "", "Explain {last_error}")
    assert not _sent(emulator)


def test_a_typo_in_a_cell_option_suggests_the_right_one(shell, emulator):
    with pytest.raises(UsageError, match="Did you mean --model"):
        shell.run_cell_magic("gemini", "--modle gemini-2.5-pro", "hi")
    assert not _sent(emulator)


@pytest.mark.parametrize("name", ["print", "len", "class"])
def test_out_does_not_hide_builtins_or_keywords(shell, emulator, name):
    with pytest.raises(UsageError):
        shell.run_cell_magic("gemini", f"-o {name}", "hi")
    assert not _sent(emulator)


def test_interactions_without_a_conversation_is_refused(shell, emulator):
    with pytest.raises(UsageError, match="use them with --chat"):
        shell.run_cell_magic("gemini", "--interactions", "hi")
    assert not _sent(emulator)


def test_a_short_fake_key_does_not_garble_messages(shell, emulator, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "e")
    shell.magics_manager.registry["GeminiMagics"].close_clients()
    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("gemini", "-m gemini-9", "hi")
    assert "[REDACTED]" not in str(caught.value) and "404" in str(caught.value)


def test_a_refused_config_value_does_not_break_reloading_the_extension(shell, emulator, caplog):
    shell.run_line_magic("config", "GeminiMagics.timeout = -1")
    shell.run_line_magic("config", "GeminiMagics.temperature = 0.5")
    shell.run_line_magic("reload_ext", "gemini_magic")
    magics = shell.magics_manager.registry["GeminiMagics"]
    assert magics.timeout == 600.0 and magics.temperature == 0.5
    magics.temperature = None
    shell.run_cell_magic("gemini", "--no-stream", "still works")
    assert _sent(emulator)


@pytest.mark.parametrize("line, meant", [
    ("cache lsit", "cache list"),
    ("files delet x", "files delete"),
    ("chat undoo trip", "chat undo"),
])
def test_a_mistyped_subcommand_is_not_sent_as_a_prompt(shell, emulator, line, meant):
    with pytest.raises(UsageError, match=f"did you mean %gemini {meant}"):
        shell.run_line_magic("gemini", line)
    assert not _sent(emulator)


def test_a_prompt_that_starts_like_a_subcommand_is_still_a_prompt(shell, emulator):
    shell.run_line_magic("gemini", "--no-stream files are where the data lives, right")
    shell.run_line_magic("gemini", "-- cache lsit")
    assert [r.json["contents"][0]["parts"][0]["text"] for r in emulator.requests if "enerateContent" in r.path] \
        == ["files are where the data lives, right", "cache lsit"]


# -- help, and one-word typos of a subcommand (issue 20, item 4) -----------------------------------

@pytest.mark.parametrize("cell", ["%gemini --help", "%gemini -h", "%gemini help", "%gemini -m gemini-2.5-pro --help",
                                  "%%gemini --help", "%%gemini -h\n\n", "%%gemini --help\nDescribe a rainbow."])
def test_help_is_shown_and_nothing_is_sent(shell, emulator, cell):
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        result = shell.run_cell(cell)
    assert result.error_in_exec is None and result.error_before_exec is None
    markdown = "".join(output.data.get("text/markdown", "") for output in captured.outputs)
    assert markdown.startswith("Send a prompt to Gemini") and "| `-t`, `--temperature` | `TEMPERATURE` |" in markdown
    assert "`%gemini models`" in markdown and "one typo away from a" in markdown
    assert not _sent(emulator)


def test_help_words_inside_a_prompt_are_the_prompt(shell, emulator):
    shell.run_line_magic("gemini", "--no-stream help me name a cat")
    shell.run_line_magic("gemini", "--no-stream what does grep -h do")
    assert [r.json["contents"][0]["parts"][0]["text"] for r in _sent(emulator)] \
        == ["help me name a cat", "what does grep -h do"]


@pytest.mark.parametrize("word, meant", [("modles", "models"), ("Models", "models"), ("confg", "config"),
                                         ("file", "files"), ("chats", "chat"), ("bacth", "batch"),
                                         ("embd", "embed"), ("backends", "backend"), ("hlep", "help")])
def test_a_one_word_typo_of_a_subcommand_is_refused_with_the_one_meant(shell, emulator, word, meant):
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("gemini", word)
    assert str(caught.value) == (f"%gemini {word}: did you mean %gemini {meant}? "
                                 f"(To send it as a prompt, write %gemini -- {word})")
    assert not _sent(emulator)


def test_a_one_word_prompt_is_still_sent(shell, emulator):
    for word in ("hello", "thanks", "modle", "haiku?"):
        shell.run_line_magic("gemini", f"--no-stream {word}")
    shell.run_line_magic("gemini", "--no-stream -- modles")
    assert [r.json["contents"][0]["parts"][0]["text"] for r in _sent(emulator)] \
        == ["hello", "thanks", "modle", "haiku?", "modles"]


def test_one_typo_is_one_edit():
    from gemini_magic.magics.help import one_typo_apart

    assert one_typo_apart("modles", "models") and one_typo_apart("model", "models")
    assert one_typo_apart("modelss", "models") and one_typo_apart("nodels", "models")
    assert not one_typo_apart("modle", "models") and not one_typo_apart("hello", "help")
    assert not one_typo_apart("models", "models") and not one_typo_apart("sledom", "models")
