"""The API key the user holds in the kernel never reaches the model through the notebook context:
`{vars}`, `{notebook}` and `%gemini fix` scrub it (the environment's key, a registered key, and
anything shaped like a Google key), checked in what the emulator received, not in our own prompt."""

from __future__ import annotations

import json

from conftest import TEST_KEY

from gemini_magic.notebook import fix_prompt, notebook_text, summarize, variables_text

OTHER_KEY = "AIzaSyB-another-key-the-user-holds-12345"  # not this process's key: caught by its shape


def test_summaries_and_texts_scrub_keys(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", TEST_KEY)
    namespace = {"key": TEST_KEY, "headers": {"x-goog-api-key": TEST_KEY}, "other": OTHER_KEY,
                 "keys": [OTHER_KEY], "n": 3}
    text = variables_text(namespace) + summarize(namespace) + notebook_text(
        {1: f"key = {TEST_KEY!r}", 2: f"os.environ['X'] = '{OTHER_KEY}'"}) + fix_prompt(
        f"requests.get(url, headers={{'x-goog-api-key': '{TEST_KEY}'}})", f"HTTPError: 400 for key {OTHER_KEY}",
        {"headers": namespace["headers"]})
    assert TEST_KEY not in text and OTHER_KEY not in text and "AIza" not in text
    assert "[REDACTED]" in text and "- n: int: 3" in variables_text(namespace)  # the rest stays


def test_vars_notebook_and_fix_send_no_key(shell, emulator):
    shell.run_cell(f"key = {TEST_KEY!r}\nheaders = {{'x-goog-api-key': key}}", store_history=True)
    shell.run_cell(f"raise ValueError('refused: ' + key + ' and {OTHER_KEY}')", store_history=True)
    before = len(emulator.requests)
    shell.run_cell("%%gemini --no-stream\nWhat is wrong? {notebook} {vars}", store_history=True)
    shell.run_cell("%gemini fix", store_history=True)
    sent = [json.dumps(request.json) for request in emulator.requests[before:]]
    assert len(sent) == 2
    for body in sent:
        assert TEST_KEY not in body and OTHER_KEY not in body and "AIza" not in body
        assert "[REDACTED]" in body


def test_last_error_in_a_prompt_sends_no_key(shell, emulator):
    shell.run_cell(f"raise RuntimeError('the server refused {OTHER_KEY}')", store_history=True)
    before = len(emulator.requests)
    shell.run_cell("%%gemini --no-stream\nWhy? {last_error}", store_history=True)
    body = json.dumps(emulator.requests[before:][-1].json)
    assert OTHER_KEY not in body and "RuntimeError" in body and "[REDACTED]" in body
