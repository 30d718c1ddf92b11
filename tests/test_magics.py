"""%%gemini, %gemini and %gemini_upload in a real InteractiveShell, against the emulator over loopback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
from IPython.core.error import UsageError

from conftest import TEST_KEY, recording
from gemini_magic.constants import EMULATOR_MARKER


def last_body(emulator):
    return [r for r in emulator.requests if "generateContent" in r.path or "GenerateContent" in r.path][-1].json


def test_load_ext_is_cheap():
    code = ("import sys\nfrom IPython.core.interactiveshell import InteractiveShell\n"
            "ip = InteractiveShell.instance()\nimport time\nt = time.perf_counter()\n"
            "ip.run_line_magic('load_ext', 'gemini_magic')\nprint(time.perf_counter() - t)\n"
            "heavy = [m for m in ('requests', 'ipywidgets', 'PIL', 'pandas', 'numpy', 'matplotlib') if m in sys.modules]\n"
            "print(heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[1] == "[]", out
    assert float(out[0]) < 0.5


def test_cell_magic_streams_and_binds(shell, emulator, capsys):
    shell.run_cell_magic("gemini", "", "What is the capital of Poland?")
    response = shell.user_ns["_gemini"]
    assert response.text.startswith(EMULATOR_MARKER)
    assert "What is the capital of Poland?" in response.text
    assert response.finish_reason == "STOP"
    out = capsys.readouterr().out
    assert response.text[-40:] in out


def test_line_magic_prompt_verbatim(shell, emulator):
    shell.run_line_magic("gemini", "-t 0.5 --out answer What's the \"best\" {{brace}} here?")
    assert shell.user_ns["answer"] is shell.user_ns["_gemini"]
    body = last_body(emulator)
    assert body["contents"][0]["parts"] == [{"text": "What's the \"best\" {brace} here?"}]
    assert body["generationConfig"]["temperature"] == 0.5


def test_every_option_reaches_the_request(shell, emulator):
    shell.user_ns["persona"] = "You are terse."
    shell.run_cell_magic("gemini", "-m gemini-2.5-pro -s {persona} -t 0.2 --top-p 0.9 --top-k 20 --max-tokens 4000 "
                         "--stop XQZ1 --stop XQZ2 --seed 7 -n 2 --thinking-budget 128 --show-thoughts -o r",
                         "Give me facts.")
    request = emulator.requests[-1]
    assert request.path.endswith("models/gemini-2.5-pro:streamGenerateContent")
    body = request.json
    assert body["systemInstruction"] == {"parts": [{"text": "You are terse."}]}
    assert body["generationConfig"] == {
        "temperature": 0.2, "topP": 0.9, "topK": 20, "maxOutputTokens": 4000, "stopSequences": ["XQZ1", "XQZ2"],
        "seed": 7, "candidateCount": 2, "thinkingConfig": {"thinkingBudget": 128, "includeThoughts": True}}
    result = shell.user_ns["r"]
    assert len(result.candidates) == 2 and result.thoughts


def test_json_option(shell, emulator):
    shell.run_cell_magic("gemini", "--json -o facts", "Give me facts.")
    assert last_body(emulator)["generationConfig"] == {"responseMimeType": "application/json"}
    assert shell.user_ns["facts"].json()["prompt"] == "Give me facts."


def test_no_stream_uses_generate_content(shell, emulator):
    shell.run_cell_magic("gemini", "--no-stream", "One shot.")
    assert emulator.requests[-1].path.endswith(":generateContent")
    assert "One shot." in shell.user_ns["_gemini"].text


def test_traits_are_defaults(shell, emulator):
    shell.run_line_magic("config", "GeminiMagics.model = 'gemini-2.0-flash'")
    shell.run_line_magic("config", "GeminiMagics.temperature = 1.5")
    shell.run_line_magic("config", "GeminiMagics.generation_config = {'seed': 3}")
    shell.run_cell_magic("gemini", "", "Defaults please.")
    assert "models/gemini-2.0-flash:" in emulator.requests[-1].path
    assert last_body(emulator)["generationConfig"] == {"seed": 3, "temperature": 1.5}
    shell.run_line_magic("config", "GeminiMagics.generation_config = {}")


@pytest.mark.parametrize("line, expected", [
    ("-t 3", "temperature (-t/--temperature) must be between 0 and 2; got 3."),
    ("--top-p 1.5", "top_p (--top-p) must be between 0 and 1; got 1.5."),
    ("-n 9", "candidate_count (-n/--candidates) must be between 1 and 8; got 9."),
    ("--format html", "invalid choice: 'html'"),
    ("--bogus", "--bogus is not an option of %%gemini."),
    ("-t warm", "invalid float value: 'warm'"),
    ("--stop a --stop b --stop c --stop d --stop e --stop f", "at most 5"),
])
def test_bad_options_are_usage_errors(shell, line, expected):
    with pytest.raises(UsageError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        shell.run_cell_magic("gemini", line, "hi")


def test_a_mistyped_cell_option_names_the_cell_magic_and_what_was_meant(shell, emulator):
    sent = len(emulator.requests)
    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("gemini", "--vdeo", "a cat on a skateboard")
    assert str(caught.value) == "--vdeo is not an option of %%gemini. Did you mean --video?"
    with pytest.raises(UsageError, match=r"--mim is not an option of %gemini_upload. Did you mean --mime\?"):
        shell.run_line_magic("gemini_upload", "notes.txt --mim text/plain")
    assert len(emulator.requests) == sent


def test_config_with_a_name_shows_that_setting_and_refuses_others(shell, emulator, capsys):
    sent = len(emulator.requests)
    shell.run_line_magic("gemini", "config model")
    out = capsys.readouterr().out
    assert "GeminiMagics.model" in out and "Model used when -m is not given" in out and "%config GeminiMagics.model" in out
    with pytest.raises(UsageError) as caught:
        shell.run_line_magic("gemini", "config modle")
    assert "no setting 'modle'. Did you mean model?" in str(caught.value)
    assert "%gemini -- config modle" in str(caught.value) and "notebook_tokens" in str(caught.value)
    assert len(emulator.requests) == sent  # neither was sent as a prompt


def test_unknown_model_error_says_what_to_do(shell):
    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("gemini", "-m gemini-nope", "hi")
    assert "404" in str(caught.value) and "%gemini models" in str(caught.value)


def test_rate_limit_error_says_when(shell, emulator):
    emulator.inject("status", code=429, retry_delay="9s", match="stream", times=5)
    magics = shell.magics_manager.registry["GeminiMagics"]
    magics.max_retries = 0
    with pytest.raises(UsageError, match="Try again in 9 s"):
        shell.run_cell_magic("gemini", "", "hi")


def test_daily_quota_error(shell, emulator):
    emulator.inject("status", code=429, quota_id="GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                    match="stream", times=5)
    with pytest.raises(UsageError, match="daily quota"):
        shell.run_cell_magic("gemini", "", "hi")


def test_bad_key_error(shell, emulator):
    body = {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                      "status": "INVALID_ARGUMENT",
                      "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                                   "domain": "googleapis.com"}]}}
    emulator.inject("status", code=400, body=json.dumps(body), content_type="application/json", match="stream")
    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("gemini", "", "hi")
    assert "rejected" in str(caught.value) and TEST_KEY not in str(caught.value)


def test_mid_stream_failure_keeps_partial_and_binds(shell, emulator, capsys):
    emulator.inject("drop_after", chunks=5, match="stream")
    with pytest.raises(UsageError, match="partial answer"):
        shell.run_cell_magic("gemini", "-o part", "hi")
    response = shell.user_ns["part"]
    assert response.incomplete and len(response.raw) == 5 and response.text
    assert response.text in capsys.readouterr().out


def test_interrupt_closes_stream_and_keeps_partial(shell, emulator):
    emulator.pace = 0.05
    import _thread

    signal_handler = signal.signal(signal.SIGINT, signal.default_int_handler)  # even if CI ignores SIGINT
    timer = threading.Timer(0.6, _thread.interrupt_main)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(UsageError, match="Interrupted"):
            shell.run_cell_magic("gemini", "", "Tell me a long story in Markdown.")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, signal_handler)
    assert time.monotonic() - started < 3.0
    response = shell.user_ns["_gemini"]
    assert response.interrupted and response.incomplete and response.text


def test_models_subcommand(shell, capsys):
    shell.run_line_magic("gemini", "models")
    out = capsys.readouterr().out
    assert "gemini-2.5-pro" in out and "1048576" in out and "generateContent" in out


def test_config_subcommand_never_shows_the_key(shell, capsys):
    shell.run_line_magic("gemini", "config")
    out = capsys.readouterr().out
    assert "set (from GOOGLE_API_KEY)" in out and TEST_KEY not in out
    assert "GeminiMagics.model" in out


def test_raw_shows_request_and_response_without_key(shell, capsys):
    shell.run_cell_magic("gemini", "--raw", "raw please")
    out = capsys.readouterr().out
    assert '"text": "raw please"' in out and "[REDACTED]" in out and TEST_KEY not in out
    assert '"usageMetadata"' in out


def test_help_documents_options(shell):
    doc = shell.magics_manager.magics["cell"]["gemini"].__doc__
    for option in ("--model", "--system", "--temperature", "--show-thoughts", "--no-stream", "--dry-run", "--attach"):
        assert option in doc


SERVED = [
    ("stream_sse/adk_gemini-2.5-flash_multichunk.sse", "stream"),
    ("thinking/adk_gemini-2.5-flash_includeThoughts.sse", "stream"),
    ("function_call/adk_gemini-3-flash-preview_parallel-calls.sse", "stream"),
    ("safety_and_finish/fb_stream_finishReason-RECITATION.sse", "stream"),
    ("image_output/fb_stream_image-tokens-but-no-parts.sse", "stream"),
    ("grounding/pydantic_gemini-2.5-pro_file-search.sse", "stream"),
]


@pytest.mark.parametrize("relative, kind", SERVED)
def test_recordings_through_the_magic_give_exact_text(shell, emulator, relative, kind):
    path = recording(relative)
    body = path.read_bytes()
    events = [json.loads(b[6:]) for b in body.decode().replace("\r\n", "\n").split("\n\n") if b.startswith("data: ")]
    want = "".join(p["text"] for e in events for c in e.get("candidates", []) for p in (c.get("content") or {}).get("parts", [])
                   if "text" in p and not p.get("thought"))
    emulator.replay(body, chunk_size=13, match=kind)
    shell.run_cell_magic("gemini", "-o result", "hi")
    assert shell.user_ns["result"].text == want


def test_dry_run_shows_parts_and_tokens_without_generating(shell, emulator, capsys):
    from PIL import Image

    shell.user_ns["photo"] = Image.new("RGB", (64, 48), "red")
    shell.user_ns["table"] = {"a": [1, 2]}
    shell.run_cell_magic("gemini", "--dry-run --attach table", "Compare {photo} with the numbers.")
    out = capsys.readouterr().out
    assert "Nothing was generated" in out and "tokens (countTokens)" in out
    assert "image/png" in out and "64x48" in out and "'Compare'" in out
    assert not [r for r in emulator.requests if "enerateContent" in r.path]
    body = [r for r in emulator.requests if r.path.endswith(":countTokens")][-1].json
    parts = body.get("generateContentRequest", body)["contents"][0]["parts"]
    assert [list(p) for p in parts] == [["text"], ["inlineData"], ["text"], ["text"]]


def test_kernel_objects_in_order_and_emulator_describes_them(shell, emulator):
    from PIL import Image

    shell.user_ns["a"] = Image.new("RGBA", (30, 20), (0, 0, 255, 128))
    shell.user_ns["b"] = Image.new("RGB", (10, 40), "green")
    shell.run_cell_magic("gemini", "-o r", "Compare {a} with {b}.")
    parts = last_body(emulator)["contents"][0]["parts"]
    assert [list(p) for p in parts] == [["text"], ["inlineData"], ["text"], ["inlineData"], ["text"]]
    text = shell.user_ns["r"].text
    assert text.index("30 x 20") < text.index("10 x 40")


def test_conversion_notes_are_shown(shell, emulator, capsys):
    from PIL import Image

    shell.user_ns["big"] = Image.new("RGB", (4000, 100), "white")
    shell.run_cell_magic("gemini", "", "Look at {big}")
    assert "3072" in capsys.readouterr().out


def test_undefined_name_and_unsupported_object(shell):
    with pytest.raises(UsageError, match=r"\{nothing_here\}.*\{\{nothing_here\}\}"):
        shell.run_cell_magic("gemini", "", "Use {nothing_here} please")
    shell.user_ns["lock"] = threading.Lock()
    with pytest.raises(UsageError, match="register_converter"):
        shell.run_cell_magic("gemini", "", "What is {lock}?")


def test_failure_before_any_answer_keeps_the_previous_result(shell, emulator):
    shell.run_cell_magic("gemini", "", "first")
    good = shell.user_ns["_gemini"]
    with pytest.raises(UsageError, match="404"):
        shell.run_cell_magic("gemini", "-m no-such-model", "second")
    assert shell.user_ns["_gemini"] is good


def test_words_after_a_subcommand_make_a_prompt(shell, emulator):
    shell.run_line_magic("gemini", "models are great, why?")
    assert "models are great, why?" in shell.user_ns["_gemini"].text


def test_out_must_be_an_identifier(shell):
    with pytest.raises(UsageError, match="not a valid Python variable name"):
        shell.run_cell_magic("gemini", "-o 'not valid'", "hi")


def test_reload_ext_stops_the_backend_emulator(shell):
    shell.run_line_magic("gemini", "backend emulator")
    magics = shell.magics_manager.registry["GeminiMagics"]
    emulator = magics._emulator
    assert emulator is not None
    shell.run_cell_magic("gemini", "-o r", "via the backend")
    assert shell.user_ns["r"].text.startswith("[gemini_magic emulator]")
    shell.run_line_magic("unload_ext", "gemini_magic")
    assert magics._emulator is None
    import requests
    with pytest.raises(requests.ConnectionError):
        requests.get(emulator.base_url + "/v1beta/models", timeout=2)
