"""The notebook assistant through a real kernel (jupyter_client, the protocol JupyterLab and Notebook 7
speak): `--new-cell` and `%gemini fix` put code into the execute reply's `set_next_input` payload
(replace False: a new cell below, not run), `fix` after a real error of an earlier cell, and
`{notebook}` within its budget. The kernel's own `%gemini backend` emulator answers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebook
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def kernel(tmp_path):
    pytest.importorskip("ipykernel")
    jupyter_client = pytest.importorskip("jupyter_client")
    env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY", "GEMINI_API_KEY",
                                                             "GOOGLE_GEMINI_BASE_URL")}
    env.update(PYTHONPATH=str(ROOT), IPYTHONDIR=str(tmp_path / "ipython"))
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    try:
        yield Kernel(client)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


class Kernel:
    def __init__(self, client) -> None:
        self.client = client

    def run(self, code: str) -> tuple[dict, str]:
        """Execute `code`; (the execute reply's content, the text of its outputs)."""
        texts: list[str] = []

        def output(message):
            content = message["content"]
            if message["msg_type"] == "stream":
                texts.append(content["text"])
            elif message["msg_type"] in ("display_data", "update_display_data", "execute_result"):
                texts.append(content["data"].get("text/plain", ""))
            elif message["msg_type"] == "error":
                texts.append("\n".join(content["traceback"]))

        reply = self.client.execute_interactive(code, timeout=60, output_hook=output)
        return reply["content"], "".join(texts)


def _next_inputs(reply: dict) -> list[dict]:
    return [p for p in reply.get("payload", []) if p.get("source") == "set_next_input"]


def test_new_cell_puts_the_answers_code_in_the_reply_payload(kernel):
    kernel.run("%load_ext gemini_magic\n%gemini backend")
    reply, text = kernel.run("%%gemini --new-cell -o made\nWrite a function that greets someone.")
    assert reply["status"] == "ok", text
    payloads = _next_inputs(reply)
    assert len(payloads) == 1 and payloads[0]["replace"] is False
    code = payloads[0]["text"]
    assert 'def greet(name: str) -> str:\n    """Return a friendly greeting."""' in code  # the answer's block
    assert "a new cell below, not run" in text and "**Prompt:** \"Write a function" in text  # the explanation shows
    check, _ = kernel.run("assert made.code() == " + repr(code) + "\nassert 'jupyter notebook' in "
                          "made.request['systemInstruction']['parts'][0]['text'].lower()")
    assert check["status"] == "ok"
    plain, _ = kernel.run("%%gemini\nNo code wanted here.")
    assert _next_inputs(plain) == []  # only --new-cell adds a cell


def test_fix_after_a_real_error_sends_the_cell_the_error_and_its_variables(kernel):
    kernel.run("%load_ext gemini_magic\n%gemini backend")
    none_yet, text = kernel.run("%gemini fix")
    assert none_yet["status"] == "error" and "Nothing to fix" in text and _next_inputs(none_yet) == []
    kernel.run("prices = {'apple': 3, 'pear': 2}")
    failed, _ = kernel.run("total = prices['apple'] + prices['plum']")
    assert failed["status"] == "error"
    reply, text = kernel.run("%gemini fix -- use dict.get with a default")
    assert reply["status"] == "ok", text
    payloads = _next_inputs(reply)
    assert len(payloads) == 1 and payloads[0]["replace"] is False and "def greet" in payloads[0]["text"]
    sent, prompt = kernel.run("print(_gemini.request['contents'][0]['parts'][0]['text'])")
    assert "total = prices['apple'] + prices['plum']" in prompt
    assert sent["status"] == "ok" and "KeyError: 'plum'" in prompt and "the user's frames" in prompt
    assert "- prices: dict of 2: {'apple': 3, 'pear': 2}" in prompt
    assert "Also: use dict.get with a default" in prompt


def test_notebook_context_respects_its_budget(kernel):
    kernel.run("%load_ext gemini_magic\n%gemini backend")
    for number in range(12):
        kernel.run(f"value_{number} = {number} * 2  # " + "padding " * 40)
    kernel.run("%config GeminiMagics.notebook_tokens = 300")
    reply, _ = kernel.run("%%gemini --dry-run\nWhat happened so far? {notebook}")
    assert reply["status"] == "ok"
    _, shown = kernel.run("%%gemini --no-stream\nWhat happened so far? {notebook}\n{vars}")
    _, prompt = kernel.run("print(''.join(p.get('text', '') for p in _gemini.request['contents'][0]['parts']))")
    assert "earliest left out to stay within 300 tokens" in prompt
    assert "value_11 = 11 * 2" in prompt and "value_0 = 0 * 2" not in prompt  # the newest kept
    assert len(prompt.split("The user's variables")[0]) <= 300 * 4 + 200
    assert "- value_0: int: 0" in prompt and "- value_11: int: 22" in prompt
