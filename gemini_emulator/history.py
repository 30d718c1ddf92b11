"""Conversation history as the emulator sees it: the service's turn rules, and the lines that echo it.

Pure functions over received contents (``validation.ReceivedContent``), shared by generateContent,
streamGenerateContent and the Interactions API (whose steps are turned into the same contents).

Refusals, each a 400 INVALID_ARGUMENT with the service's wording (quoted from public bug reports;
no ``details``, as there):

* a function-call turn that does not follow a user turn or a function-response turn;
* a function-response turn that does not follow a function-call turn, or answers a different
  number of calls;
* a model turn first, or two model turns in a row ("alternate between user and model");
* a conversation that ends with a model turn;
* for Gemini 3 models (name starting ``gemini-3``), a function-call turn of the *current* turn
  (everything after the last user turn holding more than function responses) whose first
  ``functionCall`` part lacks its ``thoughtSignature``. Only the first call of a parallel group
  carries one, as recorded (recordings/function_call/adk_gemini-3-flash-preview_parallel-calls.sse);
  earlier turns are not checked, as the service documents.

Consecutive user turns are accepted, as the service accepts them.

The echo: a request with earlier turns is "turn N" of a conversation; ``history_lines`` says so,
how many earlier turns arrived, quotes the first words of each earlier user turn and says what came
back of the model's answer to it (characters of text, thought signatures, function calls), so a
test (and a person) can see the history intact. A user turn holding only function responses
continues the turn before it; it is not a new turn.
"""

from __future__ import annotations

from .errors import ApiError

ECHO_WORDS = 8

ALTERNATE = "Please ensure that multiturn requests alternate between user and model."
ENDS_WITH_USER = "Please ensure that multiturn requests ends with a user role or a function response."
CALL_AFTER = ("Please ensure that function call turn comes immediately after a user turn or after a "
              "function response turn.")
RESPONSE_AFTER = "Please ensure that function response turn comes immediately after a function call turn."
RESPONSE_COUNT = ("Please ensure that the number of function response parts is equal to the number of "
                  "function call parts of the function call turn.")
MISSING_SIGNATURE = (
    "Function call is missing a thought_signature in functionCall parts. This is required for tools to "
    "work correctly, and missing thought_signature may lead to degraded model performance. Additional "
    "data, function call `default_api:{name}` , position {position}. Please refer to "
    "https://ai.google.dev/gemini-api/docs/thought-signatures for more details.")


def _count(content, kind: str) -> int:
    return sum(1 for part in content.parts if part.kind == kind)


def _is_response_turn(content) -> bool:
    """A user turn made only of function responses (it continues the turn before it)."""
    return bool(content.parts) and all(part.kind == "function_response" for part in content.parts)


def check_turns(contents: list, model: str) -> None:
    """Raise the service's 400 when ``contents`` break its turn rules (see the module docstring)."""
    previous = None
    for content in contents:
        calls = _count(content, "function_call")
        responses = _count(content, "function_response")
        if content.role == "model":
            if previous is None or previous.role == "model":
                raise ApiError(400, CALL_AFTER if calls else ALTERNATE)
        elif responses:
            previous_calls = _count(previous, "function_call") if previous is not None else 0
            if previous is None or previous.role != "model" or not previous_calls:
                raise ApiError(400, RESPONSE_AFTER)
            if responses != previous_calls:
                raise ApiError(400, RESPONSE_COUNT)
        previous = content
    if len(contents) > 1 and contents[-1].role == "model":
        raise ApiError(400, ENDS_WITH_USER)
    if model.startswith("gemini-3"):
        check_signatures(contents)


def current_turn_start(contents: list) -> int:
    """Index of the user content that opened the current turn (0 when there is none)."""
    for index in range(len(contents) - 1, -1, -1):
        content = contents[index]
        if content.role == "user" and not _is_response_turn(content):
            return index
    return 0


def check_signatures(contents: list) -> None:
    """Gemini 3: the first functionCall part of each call turn of the current turn needs its signature."""
    for index in range(current_turn_start(contents), len(contents)):
        content = contents[index]
        if content.role != "model":
            continue
        first_call = next((part for part in content.parts if part.kind == "function_call"), None)
        if first_call is None:
            continue
        signature = first_call.raw.get("thoughtSignature") or first_call.raw.get("thought_signature")
        if not signature:
            raise ApiError(400, MISSING_SIGNATURE.format(name=first_call.name, position=index + 1))


def user_turns(contents: list) -> list:
    """The user contents that open a turn (function-response-only turns continue the previous one)."""
    return [content for content in contents if content.role == "user" and not _is_response_turn(content)]


def first_words(content, words: int = ECHO_WORDS) -> str:
    """The first words of a user turn's text, with "…" when cut; a note when it holds no text."""
    text = " ".join(part.text for part in content.parts if part.kind == "text" and not part.thought)
    pieces = text.split()
    if not pieces:
        others = len(content.parts)
        return f"(no text: {others} other part{'s' if others != 1 else ''})"
    shown = " ".join(pieces[:words])
    return f'"{shown}…"' if len(pieces) > words else f'"{shown}"'


def earlier_turns(contents: list) -> list:
    """The user turns before the current one, oldest first."""
    return user_turns(contents[:current_turn_start(contents)])


def _signature(part) -> str | None:
    raw = part.raw if isinstance(part.raw, dict) else {}
    if raw.get("type") == "thought":  # an Interactions API thought step
        return raw.get("signature") or None
    return raw.get("thoughtSignature") or raw.get("thought_signature") or None


def answered(contents: list, turn) -> str:
    """What the model contents after ``turn`` (up to the next turn) hold, e.g. "1,234 characters"."""
    start = next(index for index, content in enumerate(contents) if content is turn) + 1
    characters, signatures, calls, found = 0, set(), 0, False
    for content in contents[start:]:
        if content.role == "user" and not _is_response_turn(content):
            break
        if content.role != "model":
            continue
        found = True
        for part in content.parts:
            if part.kind == "text" and not part.thought:
                characters += len(part.text)
            calls += part.kind == "function_call"
            if _signature(part):
                signatures.add(_signature(part))
    if not found:
        return "no answer"
    facts = [f"{characters:,} character{'s' if characters != 1 else ''}"]
    if calls:
        facts.append(f"{calls} function call{'s' if calls != 1 else ''}")
    if signatures:
        facts.append(f"{len(signatures)} thought signature{'s' if len(signatures) != 1 else ''}")
    return "answered in " + ", ".join(facts)


def history_lines(contents: list) -> list[str]:
    """Markdown lines naming the turn and echoing earlier user turns; [] for a first turn."""
    earlier = earlier_turns(contents)
    if not earlier:
        return []
    count = len(earlier)
    lines = [f"**Conversation:** turn {count + 1}, with {count} earlier turn{'s' if count != 1 else ''} "
             "received"]
    return lines + [f"- turn {number}: {first_words(content)} → {answered(contents, content)}"
                    for number, content in enumerate(earlier, 1)]


def history_json(contents: list) -> dict | None:
    """The same facts for JSON answers: ``{"turn", "earlierTurns": [{"user", "model"}...]}``, or None."""
    earlier = earlier_turns(contents)
    if not earlier:
        return None
    return {"turn": len(earlier) + 1, "earlierTurns": [
        {"user": first_words(content), "model": answered(contents, content)} for content in earlier]}
