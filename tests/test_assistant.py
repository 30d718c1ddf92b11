"""The notebook assistant's pieces in a real InteractiveShell against the emulator: code blocks of an
answer, `--new-cell` (terminal IPython: the code waits at the next prompt), `%gemini fix` with nothing
to fix, `{notebook}` / `{vars}` summaries and their bounds."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from gemini_magic.code_blocks import cell_code, code_blocks
from gemini_magic.notebook import notebook_text, summarize, variables_text


def test_code_blocks_of_an_answer():
    answer = ("Use this:\n\n~~~py\nimport math\n~~~\n\n```bash\npip install x\n```\n\n````\nprint(math.pi)\n"
              "```not a fence end\n````\n\nand then\n```python\nunclosed = True")
    assert code_blocks(answer) == [("py", "import math"), ("bash", "pip install x"),
                                   ("", "print(math.pi)\n```not a fence end"), ("python", "unclosed = True")]
    assert cell_code(answer) == "import math\n\nprint(math.pi)\n```not a fence end\n\nunclosed = True"
    assert cell_code("No code at all.") is None and cell_code("```json\n{}\n```") is None


def test_new_cell_in_terminal_ipython_leaves_the_code_at_the_next_prompt(shell, capsys):
    shell.rl_next_input = None
    shell.run_cell_magic("gemini", "--new-cell --no-stream", "Write a greeting function.")
    assert "def greet(name: str) -> str:" in shell.rl_next_input
    assert shell.rl_next_input == shell.user_ns["_gemini"].code()
    assert "is at the next prompt, not run" in capsys.readouterr().out
    with pytest.raises(UsageError, match="--new-cell goes with one prompt"):
        shell.run_cell_magic("gemini", "--new-cell --over things", "x {row}")


def test_new_cell_without_code_in_the_answer_says_so(shell, capsys):
    shell.rl_next_input = None
    shell.run_cell_magic("gemini", "--new-cell --no-stream --json", "Anything.")  # a JSON answer has no fence
    assert shell.rl_next_input is None
    assert "no code block, so no cell was added" in capsys.readouterr().out


def test_fix_with_no_error_yet_is_one_clear_line(shell):
    magics = shell.magics_manager.registry["GeminiMagics"]
    magics.context.last_error = None
    with pytest.raises(UsageError, match="Nothing to fix: no cell has failed"):
        shell.run_line_magic("gemini", "fix")


def test_fix_of_a_prompt_is_still_a_prompt(shell):
    shell.run_line_magic("gemini", "--no-stream fix my grammar: me go home")
    assert "fix my grammar: me go home" in shell.user_ns["_gemini"].text


def test_summaries_are_bounded_and_say_shape_and_types():
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    frame = pd.DataFrame({"city": ["Hà Nội", "Huế"], "rain": [1.5, 2.0]})
    assert summarize(frame).startswith("DataFrame 2 rows x 2 columns (city ")
    assert summarize(np.zeros((3, 4))) == "ndarray (3, 4) float64: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]"
    assert len(summarize("x" * 10_000)) <= 160 and summarize("x" * 10_000).startswith("str of 10,000 characters")
    many = {f"v{i}": i for i in range(60)}
    text = variables_text({**many, "_hidden": 1, "np": np, "In": []}, hidden={"v0"})
    assert "- v1: int: 1" in text and "v0:" not in text and "_hidden" not in text and "np:" not in text
    assert "(19 more variables left out)" in text
    notes = notebook_text({1: "a = 1", 2: "b = " + "9" * 2000, 3: "c = 3"}, {3: 3}, budget_tokens=100)
    assert "the 2 earliest left out to stay within 100 tokens" in notes and "Out[3]: int: 3" in notes
    assert notebook_text({}, {}) == "The notebook so far: no cells have been run yet."


def test_notebook_and_vars_in_a_prompt(shell):
    shell.run_cell("rainfall = [12, 30, 7]", store_history=True)
    shell.run_cell("1 / 0", store_history=True)
    shell.run_cell("%%gemini --no-stream\nExplain {notebook} with {vars}", store_history=True)
    text = shell.user_ns["_gemini"].request["contents"][0]["parts"][0]["text"]
    assert "rainfall = [12, 30, 7]" in text and "Error: ZeroDivisionError: division by zero" in text
    assert "- rainfall: list of 3: [12, 30, 7]" in text
    assert "Explain {notebook}" not in text  # the running cell itself is not in {notebook}
    shell.user_ns.pop("rainfall", None)
