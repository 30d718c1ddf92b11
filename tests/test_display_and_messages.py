"""What a person reads: a result's display in the notebook, candidates, thoughts and error messages.

Through a real InteractiveShell with the extension loaded, against the emulator over loopback.
`display_formatter.format` is what IPython's display hook calls for the last expression of a cell,
so it is the bundle a notebook receives when a cell ends with `_gemini`.
"""

from __future__ import annotations

import base64

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from gemini_magic.constants import EMULATOR_MARKER
from gemini_magic.errors import NotFoundError, PermissionDeniedError, RateLimitError, ServerError
from gemini_magic.magics import explain
from gemini_magic.render import final_bundle
from gemini_magic.answer.response import Response
from gemini_magic.units import human_size, plural


def rich_outputs(captured) -> list[dict]:
    return [output.data for output in captured.outputs]


# --- the result's own display ------------------------------------------------------------------


def test_a_result_renders_like_the_final_view_not_as_raw_text(shell, emulator):
    shell.run_cell_magic("gemini", "-o haiku", "Write a haiku about rivers.")
    haiku = shell.user_ns["haiku"]
    data, _ = shell.display_formatter.format(haiku)
    # No text/html: JupyterLab ranks HTML above Markdown and would show the answer as plain text.
    assert set(data) == {"text/plain", "text/markdown"}
    final = final_bundle(haiku)["text/markdown"]
    assert data["text/markdown"].startswith(final)
    assert data["text/markdown"].startswith(EMULATOR_MARKER) and '**Prompt:** "Write a haiku about rivers."' \
        in data["text/markdown"]
    assert "<details><summary>Parts (1)</summary>" in data["text/markdown"]
    assert data["text/plain"].startswith(repr(haiku))
    with capture_output() as captured:  # display(haiku) takes the same path
        shell.run_cell("display(haiku)")
    assert rich_outputs(captured) == [data]


def test_a_json_result_is_highlighted_as_json(shell, emulator):
    shell.run_cell_magic("gemini", "--json -o facts", "Give me facts.")
    data, _ = shell.display_formatter.format(shell.user_ns["facts"])
    assert data["text/markdown"].startswith('```json\n{\n  "emulator": ')
    assert '"prompt": "Give me facts."' in data["text/markdown"].split("```")[1]


def test_without_the_extension_a_response_shows_its_plain_repr(shell, emulator):
    response = Response([{"candidates": [{"content": {"parts": [{"text": "Hi"}]}, "finishReason": "STOP"}]}])
    assert not hasattr(response, "_repr_mimebundle_")  # the answer model knows no view
    shell.run_line_magic("unload_ext", "gemini_magic")
    try:
        data, _ = shell.display_formatter.format(response)
        assert data == {"text/plain": repr(response)}
    finally:
        shell.run_line_magic("load_ext", "gemini_magic")
    data, _ = shell.display_formatter.format(response)
    assert set(data) == {"text/plain", "text/markdown"} and data["text/markdown"].startswith("Hi\n\n---")


# --- candidates and thoughts in the magic's final output ---------------------------------------


def test_two_candidates_are_numbered_from_one_everywhere(shell, emulator):
    with capture_output() as captured:
        shell.run_cell_magic("gemini", "-n 2 --no-stream -o pair", "Two takes, please.")
    markdown = "\n".join(data.get("text/markdown", "") for data in rich_outputs(captured))
    first, second = markdown.index("## Candidate 1 of 2"), markdown.index("## Candidate 2 of 2")
    assert first < markdown.index("was not asked: the local emulator echoes what it received. Candidate 1 of 2") \
        < second  # the emulator's own text
    assert "\n\n---\n\n## Candidate 2 of 2" in markdown  # a rule between the candidates
    assert "Candidate 0" not in markdown
    explorer, _ = shell.display_formatter.format(shell.user_ns["pair"])
    assert "<b>Candidate 1 of 2</b>" in explorer["text/markdown"] and "Candidate 0" not in explorer["text/markdown"]


def test_expanded_thoughts_in_the_saved_output_stay_apart_from_the_answer(shell, emulator):
    with capture_output() as captured:
        shell.run_cell_magic("gemini", "--show-thoughts --no-stream", "Think first.")
    markdown = next(data["text/markdown"] for data in rich_outputs(captured) if "text/markdown" in data)
    assert markdown.startswith("<details><summary>Thoughts</summary>\n\n> **Reading the prompt**\n>\n> ")
    thoughts, answer = markdown.split("</details>", 1)
    assert all(line.startswith(">") for line in thoughts.split("\n\n", 1)[1].strip().splitlines())
    assert answer.lstrip().startswith(EMULATOR_MARKER)


# --- messages ----------------------------------------------------------------------------------


def test_deleting_a_file_that_does_not_exist_says_so(shell, client):
    with pytest.raises((NotFoundError, PermissionDeniedError)) as caught:  # the service answers 403
        client.delete_file("nothing")
    text = explain.message(caught.value)
    assert text.startswith("The file files/nothing does not exist, or it is not this key's (403 PERMISSION_DENIED)")
    served = PermissionDeniedError("You do not have permission to access the File nothing or it may not exist.",
                                   status_code=403, status="PERMISSION_DENIED")
    assert explain.message(served).startswith("The file files/nothing does not exist")
    assert "%gemini files lists" in text and "Gemini API enabled" not in text
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("gemini", "files delete nothing")
    assert "nothing" in str(caught.value) and "Gemini API enabled" not in str(caught.value)


def test_a_file_error_names_the_file_it_was_given():
    error = NotFoundError("Requested entity was not found.", status_code=404, status="NOT_FOUND")
    assert explain.message(error, file="abc123").startswith("The file files/abc123 does not exist")
    denied = PermissionDeniedError("Method doesn't allow unregistered callers.", status_code=403,
                                   status="PERMISSION_DENIED")
    assert "Gemini API enabled" in explain.message(denied)  # not about a file: the usual advice


def test_a_mistyped_model_gets_a_suggestion_from_the_models_the_key_can_use():
    error = NotFoundError("models/gemini-2.5-flsh is not found for API version v1beta, or is not supported for "
                          "generateContent.", status_code=404, status="NOT_FOUND")
    models = ["models/gemini-2.5-pro", "models/gemini-2.5-flash", "models/gemini-2.0-flash"]
    assert explain.message(error, models=models).endswith(
        "Did you mean gemini-2.5-flash? %gemini models lists the models this key can use.")
    assert "Did you mean" not in explain.message(error, models=["text-embedding-004"])
    assert "Check the model name" in explain.message(error)
    assert explain.suggest("gemini-2.5-flash", models) is None  # it exists: nothing to suggest
    assert explain.suggest(" models/gemini-25-pro", models) == "gemini-2.5-pro"
    assert explain.suggest("", models) is None


@pytest.mark.parametrize("delay, expected", [(0.2, "Try again in 1 second,"), (0.0, "Try again now,"),
                                             (7.4, "Try again in 8 seconds,"), (None, "Try again in a minute,"),
                                             (300.0, "Try again in 5 minutes,")])
def test_a_retry_delay_is_never_zero_seconds(delay, expected):
    error = RateLimitError("Resource has been exhausted.", status_code=429, status="RESOURCE_EXHAUSTED",
                           retry_delay=delay)
    text = explain.message(error)
    assert expected in text and "0 s" not in text


def test_the_partial_answer_note_counts_in_proper_singular_and_plural():
    one = Response([{"candidates": [{"content": {"parts": [{"text": "A"}]}}]}], streamed=True)
    many = Response([{"candidates": [{"content": {"parts": [{"text": "Abc"}]}}]}], streamed=True)
    error = ServerError("Internal error.", status_code=500, status="INTERNAL")
    assert "The partial answer (1 character) is kept" in explain.message(error, partial=one)
    assert "The partial answer (3 characters) is kept" in explain.message(error, partial=many)
    assert "partial answer" not in explain.message(error, partial=Response(streamed=True))


def test_a_read_timeout_before_any_data_claims_no_partial_answer(shell, emulator):
    shell.run_line_magic("config", "GeminiMagics.timeout = 0.3")
    emulator.inject("slow", delay=1.0, match="stream")
    with capture_output() as captured, pytest.raises(UsageError) as caught:
        shell.run_cell_magic("gemini", "", "Hello?")
    seen = str(caught.value) + "\n".join(str(data) for data in rich_outputs(captured)) + captured.stdout
    assert "No data from" in str(caught.value)
    assert "partial answer is kept" not in seen and "partial answer is shown" not in seen


def test_counts_and_sizes_read_in_proper_singular_and_plural():
    assert [plural(n, "token") for n in (0, 1, 2, 1234)] == ["0 tokens", "1 token", "2 tokens", "1,234 tokens"]
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"
    assert [human_size(n) for n in (1, 999, 1000, 1_234_567, 999_999_999, 3e12)] == [
        "1 byte", "999 bytes", "1.0 kB", "1.2 MB", "1.0 GB", "3.0 TB"]


def test_a_dry_run_of_one_part_says_part_not_parts(shell, emulator):
    with capture_output() as captured:
        shell.run_cell_magic("gemini", "--dry-run", "x")
    head = next(data["text/plain"] for data in rich_outputs(captured) if "Dry run" in data.get("text/plain", ""))
    assert head.startswith("Dry run for gemini-2.5-flash: 1 part, 1 byte, ")
    assert "(s)" not in head.splitlines()[0]


def test_the_emulators_thoughts_count_in_proper_singular_and_plural(shell, emulator):
    shell.run_cell_magic("gemini", "--show-thoughts --no-stream -o one", "x")
    thoughts = shell.user_ns["one"].thoughts
    assert "1 character of text in 1 turn." in thoughts and "There is no attachment to inspect." in thoughts
    assert "(s)" not in thoughts
    shell.user_ns["dot"] = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    shell.run_cell_magic("gemini", "--show-thoughts --no-stream -o two", "Look at {dot} and {dot}.")
    assert "There are 2 attachments to inspect; each is opened" in shell.user_ns["two"].thoughts


def test_an_interrupted_answer_says_so_once_in_the_footer_and_once_in_the_error(shell, emulator, capsys):
    import _thread
    import signal
    import threading

    emulator.pace = 0.05
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.6, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(UsageError) as raised:
            shell.run_cell_magic("gemini", "", "Tell me a long story in Markdown.")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, handler)
    out = capsys.readouterr().out
    footer = out.rsplit("\n---\n", 1)[-1].strip()
    assert "· interrupted" in footer and "Warning" not in out and out.lower().count("interrupted") == 1
    assert str(raised.value).startswith("Interrupted after ") and "the partial answer is in _gemini" in str(raised.value)
