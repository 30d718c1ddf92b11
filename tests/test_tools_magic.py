"""`%%gemini --tools NAME ...` and the built-in tools, against the emulator's deterministic tool use."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError


def get_rainfall(city: str, month: int) -> float:
    """Average rainfall in millimetres for a city and month (1-12).

    Args:
        city: The city, e.g. "Huế".
        month: The month, 1 to 12.
    """
    return {"Huế": 795.6, "Hà Nội": 260.1}.get(city, 100.0)


def broken(city: str) -> float:
    """Always fails."""
    raise RuntimeError("the weather station is offline")


def _bodies(emulator):
    return [r.json for r in emulator.requests if "enerateContent" in r.path]


@pytest.fixture
def tools(shell):
    shell.user_ns.update(get_rainfall=get_rainfall, broken=broken)
    yield shell


@pytest.mark.parametrize("stream", ["", "--no-stream"])
def test_a_kernel_function_is_called_and_answered(tools, emulator, stream):
    tools.run_cell_magic("gemini", f"--tools get_rainfall -o answer {stream}",
                         "Use get_rainfall: is Huế wetter than Hà Nội in October?")
    answer = tools.user_ns["answer"]
    bodies = _bodies(emulator)
    assert bodies[0]["tools"][0]["functionDeclarations"][0]["name"] == "get_rainfall"
    sent_back = [p for c in bodies[-1]["contents"] for p in c["parts"] if "functionResponse" in p]
    assert sent_back and sent_back[0]["functionResponse"]["name"] == "get_rainfall"
    assert "795.6" in answer.text
    assert any(step["kind"] == "tool" for step in answer.steps)


def test_a_raising_tool_goes_back_to_the_model_as_an_error(tools, emulator):
    tools.run_cell_magic("gemini", "--tools broken -o answer --no-stream", "Call broken for Huế.")
    sent_back = [p for c in _bodies(emulator)[-1]["contents"] for p in c["parts"] if "functionResponse" in p]
    assert sent_back[0]["functionResponse"]["response"]["error"] == "RuntimeError: the weather station is offline"
    assert "failed" in tools.user_ns["answer"].text


def test_manual_mode_runs_nothing(tools, emulator):
    tools.run_cell_magic("gemini", "--tools get_rainfall --tool-mode manual -o proposed --no-stream",
                         "Use get_rainfall for Huế in October.")
    assert len(_bodies(emulator)) == 1
    assert tools.user_ns["proposed"].function_calls[0]["name"] == "get_rainfall"


def test_the_call_limit_stops_with_a_note(tools, emulator, capsys):
    tools.run_cell_magic("gemini", "--tools get_rainfall --tool-mode any --max-calls 2 -o capped --no-stream",
                         "Use get_rainfall for Huế in October.")
    assert tools.user_ns["capped"].tool_note
    assert sum(1 for r in emulator.requests if "enerateContent" in r.path) == 3


def test_built_in_tools_are_sent(tools, emulator):
    tools.run_cell_magic("gemini", "--search --code -o grounded --no-stream", "Thời tiết Huế tháng Mười?")
    sent = _bodies(emulator)[-1]["tools"]
    assert {"googleSearch": {}} in sent and {"codeExecution": {}} in sent


def test_grounded_answers_cite_the_right_characters(tools, emulator):
    tools.run_cell_magic("gemini", "--search -o grounded --no-stream", "Thời tiết Huế tháng Mười?")
    grounded = tools.user_ns["grounded"]
    supports = grounded.grounding_metadata["groundingSupports"]
    assert grounded.citations
    for (start, end, sources), support in zip(grounded.citations, supports):
        assert grounded.text[start:end] == support["segment"]["text"] and sources


@pytest.mark.parametrize("line, message", [
    ("--tools nothing_here", "no function of that name"),
    ("--tool-mode any", "go with --tools"),
])
def test_bad_tool_options_are_refused_before_sending(tools, emulator, line, message):
    with pytest.raises(UsageError, match=message):
        tools.run_cell_magic("gemini", line, "hi")
    assert not _bodies(emulator)


def test_a_value_that_is_not_a_function_is_refused(tools, emulator):
    tools.user_ns["rain"] = 3
    with pytest.raises(UsageError, match="not a function"):
        tools.run_cell_magic("gemini", "--tools rain", "hi")


def test_tools_inside_a_conversation_keep_the_exchange(tools, emulator):
    tools.user_ns.pop("weather", None)
    tools.run_cell_magic("gemini", "--chat weather --tools get_rainfall", "Use get_rainfall for Huế in October.")
    history = tools.user_ns["weather"].history
    assert [c["role"] for c in history] == ["user", "model", "user", "model"]
    assert "functionCall" in history[1]["parts"][0] and "functionResponse" in history[2]["parts"][0]


@pytest.mark.parametrize("stream", ["", "--no-stream"])
def test_the_footer_counts_the_tokens_of_every_request(tools, emulator, capsys, stream):
    tools.run_cell_magic("gemini", f"--tools get_rainfall -o answer {stream}",
                         "Use get_rainfall: is Huế wetter than Hà Nội in October?")
    answer = tools.user_ns["answer"]
    total = sum(step["response"].request_usage["totalTokenCount"] for step in answer.steps if step["kind"] == "model")
    assert total > answer.request_usage["totalTokenCount"]
    footer = [line for line in capsys.readouterr().out.splitlines() if "tokens" in line][-1]
    assert f"tokens ({answer.request_count} requests):" in footer and f"total {total:,}" in footer
    assert [c["name"] for c in answer.function_calls] == ["get_rainfall"] * len(answer.function_calls)
    assert len(answer.function_calls) >= 1


def test_a_chat_turn_stopped_by_the_call_limit_is_not_added(tools, emulator):
    tools.user_ns.pop("trip", None)
    tools.run_cell_magic("gemini", "--chat trip --no-stream", "Hello")
    with pytest.raises(UsageError, match=r"(?s)max_calls=1.*no result answers.*Not added to trip"):
        tools.run_cell_magic("gemini", "--chat trip --tools get_rainfall --tool-mode any --max-calls 1 --no-stream",
                             "Use get_rainfall for Huế in October.")
    chat = tools.user_ns["trip"]
    assert len(chat.turns) == 1 and [c["role"] for c in chat.history] == ["user", "model"]
