"""Tools inside a Chat: the whole call/response exchange enters the history (user, model call, function
responses, answer), the next turn is accepted by the service's turn rules, a failed exchange commits
nothing, saving keeps it; with the Interactions API a requires_action interaction is answered with
function_result steps and continued."""

from __future__ import annotations

import json

import pytest

from gemini_magic.errors import GeminiError

try:
    from .conftest import recording
except ImportError:
    from conftest import recording

G3 = "gemini-3-flash-preview"
FLASH = "gemini-2.5-flash"


def get_rainfall(city: str, month: int) -> float:
    """Average rainfall in millimetres for a city and month (1-12)."""
    return {"Huế": 795.6, "Hà Nội": 131.0}.get(city, 50.0)


def get_temperature(city: str) -> float:
    """Average temperature of a city in °C."""
    return 25.1


def roles_and_kinds(history: list[dict]) -> list[tuple[str, list[str]]]:
    """(role, part kinds) per Content; empty text parts (streams end call turns with one) left out."""
    return [(c["role"], [next(k for k in p if k not in ("thoughtSignature", "thought")) for p in c["parts"]
                         if p.get("text") != ""]) for c in history]


def test_the_exchange_enters_the_history_and_the_next_turn_carries_it(client, emulator):
    chat = client.chat(G3)
    first = chat.send("get_rainfall for Huế in month 10", tools=[get_rainfall])
    assert "get_rainfall returned 795.6" in first.text
    assert roles_and_kinds(chat.history) == [("user", ["text"]), ("model", ["functionCall"]),
                                             ("user", ["functionResponse"]), ("model", ["text"])]
    assert chat.history[1:] == first.history_contents
    assert chat.turns[0].exchange == first.history_contents[:2] and len(chat) == 1
    second = chat.send("Thanks! And in one word?")
    sent = emulator.requests[-1].json["contents"]
    assert sent[:4] == chat.history[:4] and sent[4]["parts"] == [{"text": "Thanks! And in one word?"}]
    assert second.finish_reason == "STOP" and len(chat.history) == 6
    # the Gemini 3 signature of the call turn went back in the later turn too
    assert sent[1]["parts"][0]["thoughtSignature"] == first.steps[0]["content"]["parts"][0]["thoughtSignature"]
    assert "**Tools:** \\[call get_rainfall\\] \\[result of get_rainfall\\]" in chat.transcript()
    assert "Tools: [call get_rainfall] [result of get_rainfall]" in chat.transcript(markdown=False)
    # every request of the exchange was billed: the turn counts both model turns
    billed = [step["response"].request_usage["totalTokenCount"] for step in first.steps if step["kind"] == "model"]
    assert chat.turns[0].tokens == sum(billed) == first.usage["totalTokenCount"]
    assert sum(billed) > first.request_usage["totalTokenCount"]


def test_chat_default_tools_and_parallel_calls_streamed(client, emulator):
    seen = []
    chat = client.chat(G3, tools=[get_rainfall, get_temperature], on_call=seen.append)
    stream = chat.stream("get_rainfall for Hà Nội in month 10 and get_temperature for Hà Nội")
    text = "".join(chunk.text for chunk in stream)
    assert "get_temperature returned 25.1" in text and stream.turn is chat.turns[-1]
    assert [record["name"] for record in seen] == ["get_rainfall", "get_temperature"]
    assert roles_and_kinds(chat.history) == [("user", ["text"]), ("model", ["functionCall", "functionCall"]),
                                             ("user", ["functionResponse", "functionResponse"]), ("model", ["text"])]
    chat.send("And now?")  # the emulator checks the turn rules and the signatures of the whole history
    assert len(chat.history) == 6


def test_a_failed_exchange_commits_nothing(client, emulator):
    chat = client.chat(G3)
    chat.send("Hello there")
    before = list(chat.history)
    stream = chat.stream("get_rainfall for Huế in month 10", tools=[get_rainfall])
    iterator = iter(stream)
    next(iterator)
    emulator.inject("error_mid_stream", match="stream")
    with pytest.raises(GeminiError) as caught:
        for _ in iterator:
            pass
    assert chat.history == before and len(chat) == 1
    assert [step["kind"] for step in caught.value.steps][:2] == ["model", "tool"]


def test_a_blocked_prompt_with_tools_commits_nothing(client, emulator):
    chat = client.chat(FLASH)
    emulator.inject("block_prompt", match="generate", times=1)
    with pytest.raises(GeminiError):
        chat.send("get_rainfall for Huế in month 10", tools=[get_rainfall])
    assert chat.history == []


def test_the_call_limit_in_a_chat_leaves_no_unanswered_call_in_the_history(client, emulator):
    chat = client.chat(FLASH)
    chat.send("Hello")
    before = chat.history
    with pytest.raises(GeminiError, match=r"Stopped after 2 function calls \(max_calls=2\).*Raise max_calls.*"
                                          r"no result answers.*the turn was not added to the conversation") as caught:
        chat.send("get_rainfall for Huế in month 10", tools=[get_rainfall], tool_mode="any", max_calls=2)
    assert caught.value.response.tool_note.startswith("Stopped after 2 function calls (max_calls=2)")
    assert chat.history == before and len(chat.turns) == 1
    chat.send("Never mind.")
    sent = emulator.requests[-1].json["contents"]
    assert [c["role"] for c in sent] == ["user", "model", "user"]
    assert not any("functionCall" in p for c in sent for p in c["parts"])
    stream = chat.stream("get_rainfall for Huế in month 10", tools=[get_rainfall], tool_mode="any", max_calls=1)
    with pytest.raises(GeminiError, match=r"max_calls=1"):
        for _ in stream:
            pass
    assert len(chat.turns) == 2


def test_saving_and_loading_keeps_the_exchange(client, emulator, tmp_path):
    chat = client.chat(G3)
    chat.send("get_rainfall for Huế in month 10", tools=[get_rainfall])
    chat.save(tmp_path / "chat.json")
    loaded = type(chat).load(tmp_path / "chat.json", client)
    assert loaded.history == chat.history and len(loaded.history) == 4
    loaded.send("And in month 11?")
    assert emulator.requests[-1].json["contents"][:4] == chat.history


def test_build_request_declares_the_tools_without_loop_options(client):
    chat = client.chat(FLASH, tools=[get_rainfall], max_calls=3)
    body = chat.build_request("Rain?")
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "get_rainfall" and "max_calls" not in body


@pytest.mark.parametrize("store", [True, False])
def test_interactions_requires_action_is_answered_with_function_results(client, emulator, store):
    seen = []
    chat = client.chat(G3, interactions=True, store=store)
    result = chat.send("get_rainfall for Huế in month 10", tools=[get_rainfall], on_call=seen.append)
    assert result.status == "completed" and "get_rainfall returned 795.6" in result.text
    assert seen[0]["args"] == {"city": "Huế", "month": 10} and seen[0]["result"] == 795.6
    bodies = [r.json for r in emulator.requests if r.path.endswith("/interactions") and r.method == "POST"]
    assert len(bodies) == 2
    assert bodies[0]["tools"][0]["type"] == "function" and bodies[0]["tools"][0]["name"] == "get_rainfall"
    results = [step for step in bodies[1]["input"] if step.get("type") == "function_result"]
    assert results == [{"type": "function_result", "name": "get_rainfall", "result": 795.6,
                        "call_id": seen[0]["id"]}]
    if store:
        assert bodies[1]["previous_interaction_id"] and bodies[1]["input"] == results
    else:
        assert "previous_interaction_id" not in bodies[1]
        assert [s["type"] for s in bodies[1]["input"]][0] == "user_input"
    kinds = [step["type"] for step in chat.turns[0].steps]
    assert "function_call" in kinds and "function_result" in kinds and kinds[-1] == "model_output"
    chat.send("Thanks.")  # continues after the exchange
    assert len(chat) == 2


def test_interactions_streamed_exchange(client, emulator):
    chat = client.chat(G3, interactions=True)
    stream = chat.stream("get_rainfall for Hà Nội in month 10", tools=[get_rainfall])
    events = list(stream)
    assert events and "get_rainfall returned 131.0" in stream.response.text
    assert chat.turns[0].interaction_id == stream.response.id


def test_interactions_manual_mode_leaves_the_call_to_the_user(client, emulator):
    chat = client.chat(G3, interactions=True)
    result = chat.send("get_rainfall for Huế in month 10", tools=[get_rainfall], tool_mode="manual")
    assert result.status == "requires_action" and result.function_calls[0]["name"] == "get_rainfall"


def test_recorded_requires_action_is_answered_and_continued(client, emulator):
    path = recording("interactions/vercel_tool-call-step1_requires_action.json")
    emulator.replay(path.read_bytes(), content_type="application/json", match="interactions")
    asked = []

    def getWeather(location: str) -> dict:  # noqa: N802 - the recorded function's name
        """The weather in a location."""
        asked.append(location)
        return {"temperature_c": 18, "sky": "fog"}

    chat = client.chat("gemini-2.5-flash", interactions=True, store=False)
    result = chat.send("What is the weather in San Francisco?", tools=[getWeather])
    assert asked == ["San Francisco"] and result.status == "completed"
    follow_up = [r.json for r in emulator.requests if r.path.endswith("/interactions")][-1]
    recorded = json.loads(path.read_bytes())["steps"]
    assert [step["type"] for step in follow_up["input"]] == ["user_input", "thought", "function_call",
                                                            "function_result"]
    assert follow_up["input"][1:3] == recorded  # the thought signature and the call go back as received
    assert follow_up["input"][3] == {"type": "function_result", "name": "getWeather", "call_id": "zggxzq8r",
                                     "result": {"temperature_c": 18, "sky": "fog"}}
    assert "getWeather returned" in result.text


def test_rerunning_a_cell_with_tools_replaces_its_whole_exchange(client, emulator):
    chat = client.chat(G3, tools=[get_rainfall])
    chat.send("get_rainfall for Huế in month 10", cell_id="a")
    chat.send("Hello", cell_id="b")
    assert len(chat.history) == 6
    again = chat.send("get_rainfall for Hà Nội in month 10", cell_id="a")
    assert chat.last_replaced == (0, 1) and len(chat) == 1
    assert chat.history[1:] == again.history_contents and "131.0" in chat.history[-1]["parts"][0]["text"]
    first_request = [r.json for r in emulator.requests if ":generateContent" in r.path][-2]
    assert len(first_request["contents"]) == 1  # the replaced exchange was not sent
