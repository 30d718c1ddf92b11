"""A conversation over the Interactions API, end to end against the emulator: the second answer
describes the second prompt (``**Prompt:** "..."``), as generateContent answers do, and never
repeats the earlier answer as if it were the prompt (a review saw ``**Prompt:**[gemini_magic emulator]``)."""

from __future__ import annotations

import pytest

from gemini_magic.constants import EMULATOR_MARKER

MODEL = "gemini-3-flash-preview"
FIRST, SECOND = "What is the capital of France?", "And of Spain?"


def prompt_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("**Prompt:**")]


def check_second_answer(text: str) -> None:
    assert prompt_lines(text) == [f'**Prompt:** "{SECOND}"']
    assert text.count(EMULATOR_MARKER) == 1 and text.startswith(EMULATOR_MARKER)
    assert "**Conversation:** turn 2, with 1 earlier turn received" in text
    assert f'- turn 1: "{FIRST}" → answered in ' in text


@pytest.mark.parametrize("store", [True, False])
@pytest.mark.parametrize("streamed", [False, True])
def test_chat_send_twice_describes_the_second_prompt(client, emulator, store, streamed):
    from gemini_magic import Chat

    chat = Chat(client, MODEL, interactions=True, store=store)
    texts = []
    for prompt in (FIRST, SECOND):
        if streamed:
            stream = chat.stream(prompt)
            for _ in stream:
                pass
            texts.append(stream.text)
        else:
            texts.append(chat.send(prompt).text)
    assert prompt_lines(texts[0]) == [f'**Prompt:** "{FIRST}"']
    check_second_answer(texts[1])
    sent = emulator.requests[-1].json
    assert sent["input"][-1] == {"type": "user_input", "content": [{"type": "text", "text": SECOND}]}
    assert ("previous_interaction_id" in sent) is store


def test_the_magic_twice_in_one_interactions_chat(shell, emulator):
    for name, prompt in (("first", FIRST), ("second", SECOND)):
        shell.run_cell_magic("gemini", f"--chat t3 --interactions -m {MODEL} -o {name}", prompt)
    assert prompt_lines(shell.user_ns["first"].text) == [f'**Prompt:** "{FIRST}"']
    check_second_answer(shell.user_ns["second"].text)
    assert len(shell.user_ns["t3"].turns) == 2
    assert emulator.requests[-1].json["previous_interaction_id"] == shell.user_ns["t3"].turns[0].interaction_id
