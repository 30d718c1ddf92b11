"""The emulator's conversations over loopback: history-aware answers and the service's turn rules."""

from __future__ import annotations

import json

import pytest

from gemini_magic.constants import EMULATOR_MARKER

try:
    from .test_emulator_support import GENERATE, STREAM_SSE, answer_text, call, raw_request, running_emulator, \
        sse_events
except ImportError:
    from test_emulator_support import GENERATE, STREAM_SSE, answer_text, call, raw_request, running_emulator, \
        sse_events

GEMINI_3 = "/v1beta/models/gemini-3-flash-preview:generateContent"
SIGNATURE = "EukBCuYBAb4+9vt/emulated-signature=="
QUESTIONS = ["I have two dogs and a cat, and we love long walks in the hills.",
             "Which of those places allow cats?",
             "And which one is closest to the lake?"]


@pytest.fixture
def emu():
    yield from running_emulator()


def user(text: str) -> dict:
    return {"role": "user", "parts": [{"text": text}]}


def model(text: str) -> dict:
    return {"role": "model", "parts": [{"text": text}]}


def call_part(name: str, signature: str | None = None, **args) -> dict:
    part = {"functionCall": {"name": name, "args": args}}
    if signature:
        part["thoughtSignature"] = signature
    return part


def response_part(name: str, **result) -> dict:
    return {"functionResponse": {"name": name, "response": result}}


def converse(emu, path: str, streamed: bool) -> list[str]:
    """Three turns, each carrying the answers received so far, as a chat client does."""
    contents, answers = [], []
    for question in QUESTIONS:
        contents.append(user(question))
        if streamed:
            wire = raw_request(emu, "POST", path.replace(":generateContent", ":streamGenerateContent?alt=sse"),
                               {"contents": contents})
            assert wire.status == 200 and wire.terminated
            text = "".join(answer_text(event) for event in sse_events(wire.body))
        else:
            reply = call(emu, "POST", path, {"contents": contents})
            assert reply.status == 200, reply.body
            text = answer_text(reply.json)
        answers.append(text)
        contents.append(model(text))
    return answers


@pytest.mark.parametrize("streamed", [False, True], ids=["unary", "sse"])
def test_three_turns_say_which_turn_and_echo_the_earlier_ones(emu, streamed):
    first, second, third = converse(emu, GENERATE, streamed)
    assert first.startswith(EMULATOR_MARKER)
    assert "**Conversation:**" not in first and "Earlier turns" not in first  # a single turn is as before
    assert "**Conversation:** turn 2, with 1 earlier turn received" in second
    assert f'- turn 1: "I have two dogs and a cat, and…" → answered in {len(first):,} characters\n' in second
    assert "**Conversation:** turn 3, with 2 earlier turns received" in third
    assert '- turn 1: "I have two dogs and a cat, and…"' in third
    assert f'- turn 2: "Which of those places allow cats?" → answered in {len(second):,} characters\n' in third
    assert '**Prompt:** "And which one is closest to the lake?"' in third
    assert "**Turns:** 5" in third


def test_streamed_and_unary_answers_agree_on_the_history(emu):
    assert converse(emu, GENERATE, False) == converse(emu, GENERATE, True)


def test_json_answers_carry_the_conversation(emu):
    body = {"contents": [user("first question here"), model("an answer"), user("second")],
            "generationConfig": {"responseMimeType": "application/json"}}
    answer = json.loads(answer_text(call(emu, "POST", GENERATE, body).json))
    assert answer["conversation"] == {"turn": 2, "earlierTurns": [
        {"user": '"first question here"', "model": "answered in 9 characters"}]}
    single = json.loads(answer_text(call(emu, "POST", GENERATE, {
        "contents": [user("alone")], "generationConfig": {"responseMimeType": "application/json"}}).json))
    assert "conversation" not in single


def test_function_response_turns_continue_the_turn_they_answer(emu):
    contents = [user("What is 2+3 and 4+5?"), {"role": "model", "parts": [call_part("sum", a=2, b=3),
                                                                          call_part("sum", a=4, b=5)]},
                {"role": "user", "parts": [response_part("sum", result=5), response_part("sum", result=9)]}]
    text = answer_text(call(emu, "POST", GENERATE, {"contents": contents}).json)
    assert "**Conversation:**" not in text  # still turn 1: the responses continue it
    contents += [model("5 and 9."), user("Now double them.")]
    text = answer_text(call(emu, "POST", GENERATE, {"contents": contents}).json)
    assert "**Conversation:** turn 2, with 1 earlier turn received" in text
    assert '- turn 1: "What is 2+3 and 4+5?" → answered in 8 characters, 2 function calls\n' in text


def test_the_echo_counts_the_thought_signatures_that_came_back(emu):
    contents = [user("first"), {"role": "model", "parts": [{"text": "", "thoughtSignature": SIGNATURE},
                                                          {"text": "Hello!", "thoughtSignature": "b3RoZXI="}]},
                user("second"), user("third")]
    text = answer_text(call(emu, "POST", GEMINI_3, {"contents": contents}).json)
    assert '- turn 1: "first" → answered in 6 characters, 2 thought signatures' in text
    assert '- turn 2: "second" → no answer' in text

def test_a_turn_without_text_is_echoed_as_such(emu):
    image = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    contents = [{"role": "user", "parts": [image]}, model("a picture"), user("What was it?")]
    text = answer_text(call(emu, "POST", GENERATE, {"contents": contents}).json)
    assert "- turn 1: (no text: 1 other part)" in text


# -- refusals ---------------------------------------------------------------------------------------
REFUSALS = [
    ([model("hello"), user("hi")], "alternate between user and model"),
    ([user("a"), model("b"), model("c"), user("d")], "alternate between user and model"),
    ([user("a"), model("b")], "ends with a user role or a function response"),
    ([{"role": "model", "parts": [call_part("f")]}, user("x")], "function call turn comes immediately after"),
    ([user("a"), model("b"), {"role": "model", "parts": [call_part("f")]},
      {"role": "user", "parts": [response_part("f")]}], "function call turn comes immediately after"),
    ([user("a"), {"role": "user", "parts": [response_part("f")]}],
     "function response turn comes immediately after a function call turn"),
    ([user("a"), {"role": "model", "parts": [call_part("f"), call_part("g")]},
      {"role": "user", "parts": [response_part("f")]}], "number of function response parts is equal"),
]


@pytest.mark.parametrize("contents,expected", REFUSALS)
@pytest.mark.parametrize("path", [GENERATE, STREAM_SSE], ids=["unary", "sse"])
def test_turns_out_of_order_are_refused_like_the_service(emu, contents, expected, path):
    reply = call(emu, "POST", path, {"contents": contents})
    assert reply.status == 400
    error = reply.error()
    assert error["status"] == "INVALID_ARGUMENT" and error["code"] == 400
    assert expected in error["message"] and error["message"].startswith("Please ensure that")


def test_consecutive_user_turns_are_accepted_as_the_service_accepts_them(emu):
    reply = call(emu, "POST", GENERATE, {"contents": [user("one"), user("two")]})
    assert reply.status == 200 and '**Prompt:** "two"' in answer_text(reply.json)


def test_count_tokens_does_not_judge_turn_order(emu):
    reply = call(emu, "POST", "/v1beta/models/gemini-2.5-flash:countTokens", {"contents": [model("a"), model("b")]})
    assert reply.status == 200 and reply.json["totalTokens"] == 2


# -- thought signatures (Gemini 3) ------------------------------------------------------------------
def parallel_calls(first_signature: str | None) -> list[dict]:
    """The recorded parallel-call shape: only the first call part carries the signature."""
    return [user("Add 2+3 and 4+5."),
            {"role": "model", "parts": [call_part("sum", first_signature, a=2, b=3), call_part("sum", a=4, b=5)]},
            {"role": "user", "parts": [response_part("sum", result=5), response_part("sum", result=9)]}]


def test_gemini_3_refuses_a_function_call_without_its_signature(emu):
    reply = call(emu, "POST", GEMINI_3, {"contents": parallel_calls(None)})
    assert reply.status == 400
    error = reply.error()
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"].startswith("Function call is missing a thought_signature in functionCall parts.")
    assert "function call `default_api:sum` , position 2." in error["message"]
    assert "https://ai.google.dev/gemini-api/docs/thought-signatures" in error["message"]
    streamed = call(emu, "POST", GEMINI_3.replace(":generateContent", ":streamGenerateContent?alt=sse"),
                    {"contents": parallel_calls(None)})
    assert streamed.status == 400 and "thought_signature" in streamed.error()["message"]


def test_gemini_3_accepts_the_signature_on_the_first_parallel_call_only(emu):
    reply = call(emu, "POST", GEMINI_3, {"contents": parallel_calls(SIGNATURE)})
    assert reply.status == 200, reply.body
    snake = parallel_calls(None)
    snake[1]["parts"][0]["thought_signature"] = SIGNATURE  # the service reads snake_case too
    assert call(emu, "POST", GEMINI_3, {"contents": snake}).status == 200


def test_signatures_are_checked_in_the_current_turn_only(emu):
    earlier = parallel_calls(None) + [model("5 and 9."), user("Thanks! Now a poem.")]
    assert call(emu, "POST", GEMINI_3, {"contents": earlier}).status == 200
    chained = parallel_calls(SIGNATURE) + [{"role": "model", "parts": [call_part("sum", a=5, b=9)]}]
    chained.append({"role": "user", "parts": [response_part("sum", result=14)]})
    reply = call(emu, "POST", GEMINI_3, {"contents": chained})
    assert reply.status == 400 and "position 4." in reply.error()["message"]  # every step of a chain


def test_older_models_do_not_ask_for_signatures(emu):
    assert call(emu, "POST", GENERATE, {"contents": parallel_calls(None)}).status == 200
