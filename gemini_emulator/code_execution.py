"""Code execution (``tools: [{"codeExecution": {}}]``): code shown, a fixed result, then the answer.

The emulator runs nothing. It answers the parts the service answers
(recordings/code_execution/): an ``executableCode`` part ``{language: "PYTHON", code}``, a
``codeExecutionResult`` part ``{outcome: "OUTCOME_OK", output}`` and the answer text. The code
counts the words and characters of the prompt; the output is what that code prints, worked out by
the emulator without executing it. Gemini 3 models add an ``id`` to both parts (the same id) and a
``thoughtSignature`` to the code part, as recorded.
"""

from __future__ import annotations

from gemini_magic.constants import EMULATOR_MARKER

PROMPT_SHOWN = 200  # characters of the prompt written into the code


def code_and_output(prompt: str) -> tuple[str, str, int, int]:
    """(code, output, words, characters) for a prompt; the output is what the code would print."""
    shown = prompt[:PROMPT_SHOWN]
    code = (f"prompt = {shown!r}\n"
            "words = prompt.split()\n"
            "print(f\"{len(words)} words, {len(prompt)} characters\")\n")
    words, characters = len(shown.split()), len(shown)
    return code, f"{words} words, {characters} characters\n", words, characters


def parts(prompt: str) -> tuple[dict, dict, str]:
    """(executableCode part, codeExecutionResult part, answer text), without ids or signatures."""
    code, output, words, characters = code_and_output(prompt)
    text = (f"{EMULATOR_MARKER} The code above counted the prompt: **{words} word{'s' if words != 1 else ''}** "
            f"and **{characters} character{'s' if characters != 1 else ''}**. The emulator showed the code and "
            "a fixed result; it ran nothing.")
    return ({"executableCode": {"language": "PYTHON", "code": code}},
            {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": output}}, text)
