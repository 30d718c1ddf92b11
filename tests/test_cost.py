"""What an answer cost: the dated price table, estimates from recorded and emulated usage, overrides,
the Batch discount, models without a price, and max_cost refusing before anything is sent.

Expected dollars are written as token counts times the published rate (dollars per 1M tokens), so a
wrong field (cached tokens billed twice, thinking left out) fails.
"""

from __future__ import annotations

import json

import pytest
from IPython.core.error import UsageError

from conftest import TEST_KEY, recording
from gemini_magic import Client, Response
from gemini_magic.errors import CostLimitError, SettingsError
from gemini_magic.pricing import PRICES, PRICES_DATE, Cost, ModelPrices, estimate, format_usd, total

FLASH = "gemini-2.5-flash"
M = 1_000_000


def _usage_of(path) -> dict:
    """The last usageMetadata of a recorded answer (unary JSON or SSE)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)["usageMetadata"]
    events = [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]
    return [e["usageMetadata"] for e in events if "usageMetadata" in e][-1]


def test_recorded_flash_answer_with_thinking_costs_its_tokens_at_the_table_rates():
    usage = _usage_of(recording("function_call/adk_gemini-2.5-flash_functionCall_unary.json"))
    assert usage["thoughtsTokenCount"] == 50
    cost = estimate(usage, FLASH)
    assert cost.items == pytest.approx({"input": 155 * 0.30 / M, "output": 18 * 2.50 / M, "thinking": 50 * 2.50 / M})
    assert cost.total == pytest.approx((155 * 0.30 + (18 + 50) * 2.50) / M)
    assert cost.date == PRICES_DATE and cost.model == FLASH and not cost.batch


def test_recorded_pro_answer_with_tool_use_tokens_bills_them_as_input():
    usage = _usage_of(recording("grounding/pydantic_gemini-2.5-pro_file-search.sse"))
    cost = estimate(usage, "gemini-2.5-pro")
    assert cost.items["tool use input"] == pytest.approx(770 * 1.25 / M)
    assert cost.total == pytest.approx(((15 + 770) * 1.25 + (37 + 742) * 10.00) / M)


def test_cached_tokens_are_billed_at_the_cached_rate_not_twice(client):
    from gemini_magic.api.caches import create_cache

    lecture = "The moon pulls the oceans and the water rises and falls twice a day. " * 80
    cache = create_cache(client, FLASH, lecture)
    answer = client.generate(FLASH, "Why two tides a day?", cache=cache)
    usage = answer.usage
    cached, prompt = usage["cachedContentTokenCount"], usage["promptTokenCount"]
    assert cached == cache.total_tokens and prompt > cached
    cost = answer.cost
    assert cost.items["cached input"] == pytest.approx(cached * 0.03 / M)
    assert cost.items["input"] == pytest.approx((prompt - cached) * 0.30 / M)
    assert cost.total == pytest.approx(((prompt - cached) * 0.30 + cached * 0.03
                                        + usage.get("candidatesTokenCount", 0) * 2.50
                                        + usage.get("thoughtsTokenCount", 0) * 2.50) / M)


def test_audio_and_image_tokens_have_their_own_rates():
    usage = {"promptTokenCount": 1000, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 400},
                                                               {"modality": "AUDIO", "tokenCount": 600}],
             "candidatesTokenCount": 10}
    assert estimate(usage, FLASH).total == pytest.approx((400 * 0.30 + 600 * 1.00 + 10 * 2.50) / M)
    image = {"promptTokenCount": 20, "candidatesTokenCount": 1300,
             "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": 1290}]}
    cost = estimate(image, "gemini-2.5-flash-image")
    assert cost.items == pytest.approx({"input": 20 * 0.30 / M, "output": 10 * 2.50 / M, "image output": 1290 * 30.0 / M})
    speech = {"promptTokenCount": 9, "candidatesTokenCount": 400,
              "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": 400}]}
    assert estimate(speech, "gemini-2.5-flash-preview-tts").items["audio output"] == pytest.approx(400 * 10.0 / M)


def test_a_long_prompt_is_billed_at_the_long_context_rates():
    short = estimate({"promptTokenCount": 200_000, "candidatesTokenCount": 1000}, "gemini-2.5-pro")
    long = estimate({"promptTokenCount": 200_001, "candidatesTokenCount": 1000}, "gemini-2.5-pro")
    assert short.total == pytest.approx((200_000 * 1.25 + 1000 * 10.0) / M)
    assert long.total == pytest.approx((200_001 * 2.50 + 1000 * 15.0) / M)


def test_a_model_without_a_price_gets_no_estimate_and_its_footer_shows_tokens_only():
    from gemini_magic.render.final import footer_line

    usage = {"promptTokenCount": 5, "candidatesTokenCount": 3, "totalTokenCount": 8}
    assert "gemini-flash-latest" not in PRICES and estimate(usage, "gemini-flash-latest") is None
    response = Response([{"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
                          "usageMetadata": usage}], model="gemini-flash-latest")
    assert response.cost is None
    line = footer_line(response)
    assert "tokens: prompt 5 / answer 3 / total 8" in line and "$" not in line
    priced = Response(response.raw, model=FLASH)
    assert footer_line(priced).endswith(f"≈ {format_usd((5 * 0.30 + 3 * 2.50) / M)} (prices of {PRICES_DATE})")


def test_overrides_change_one_rate_or_price_a_new_model():
    usage = {"promptTokenCount": 1000, "candidatesTokenCount": 100}
    cheaper = estimate(usage, FLASH, prices={FLASH: {"output": 1.0}})
    assert cheaper.total == pytest.approx((1000 * 0.30 + 100 * 1.0) / M) and cheaper.date == "custom"
    assert "your prices" in cheaper.footer()
    new = estimate(usage, "gemini-flash-latest", prices={"gemini-flash-latest": {"input": 1, "output": 2}})
    assert new.total == pytest.approx((1000 * 1 + 100 * 2) / M)
    with pytest.raises(ValueError, match="need output"):
        estimate(usage, "my-model", prices={"my-model": {"input": 1}})
    with pytest.raises(SettingsError, match="unknown price field 'inptu'"):
        Client(api_key=TEST_KEY, prices={FLASH: {"inptu": 1}})
    with pytest.raises(SettingsError, match="max_cost"):
        Client(api_key=TEST_KEY, max_cost=-1)


def test_client_prices_reach_every_answer(emulator):
    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, prices={FLASH: {"input": 100, "output": 100}})
    unary = client.generate(FLASH, "Hi")
    streamed = client.stream(FLASH, "Hi").until_done()
    for answer in (unary, streamed):
        tokens = sum(answer.usage.get(k, 0) for k in ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount"))
        assert answer.cost.total == pytest.approx(tokens * 100 / M) and answer.cost.date == "custom"


def test_batch_answers_cost_half(client, emulator):
    job = client.batch(["Capital of France?", "Capital of Japan?"], model=FLASH)
    job.wait(poll=0.01)
    answers = job.results()
    for answer in answers:
        assert answer.cost.batch
        assert answer.cost.total == pytest.approx(estimate(answer.usage, FLASH).total / 2)
    assert "batch" in answers[0].cost.footer()
    everything = total(a.cost for a in answers)
    assert everything.total == pytest.approx(sum(a.cost.total for a in answers))


def test_sums_and_formatting():
    a, b = Cost(0.001, {"input": 0.001}, FLASH), Cost(0.002, {"input": 0.0005, "output": 0.0015}, FLASH)
    assert (a + b).total == pytest.approx(0.003) and (a + b).items == pytest.approx({"input": 0.0015, "output": 0.0015})
    assert total([None, None]) is None and total([None, a]) is a
    assert [format_usd(x) for x in (0, 0.000123, 0.0028, 0.5, 12.345)] == ["$0", "$0.00012", "$0.0028", "$0.50",
                                                                          "$12.35"]
    assert ModelPrices.from_mapping({"output": 9}, PRICES[FLASH]).input == PRICES[FLASH].input


def test_max_cost_refuses_before_generating(emulator):
    cheap = Client(api_key=TEST_KEY, base_url=emulator.base_url, max_cost=1e-9)
    with pytest.raises(CostLimitError, match="above max_cost") as raised:
        cheap.generate(FLASH, "Write a long essay about tides.")
    assert raised.value.cost.total > 1e-9
    with pytest.raises(CostLimitError):
        cheap.stream(FLASH, "Write a long essay about tides.")
    with pytest.raises(CostLimitError, match="no price"):
        cheap.generate("gemini-flash-latest", "Hi")
    assert [r.path for r in emulator.requests if "enerateContent" in r.path] == []  # only countTokens went out
    roomy = Client(api_key=TEST_KEY, base_url=emulator.base_url, max_cost=1.0)
    assert roomy.generate(FLASH, "Hi", max_output_tokens=50).text
    # with an answer limit, the estimate covers the prompt and the most the answer can cost
    bounded = roomy.estimate_cost(FLASH, "Hi", max_output_tokens=1000)
    prompt_only = roomy.estimate_cost(FLASH, "Hi")
    assert bounded.total == pytest.approx(prompt_only.total + 1000 * 2.50 / M)


def test_max_cost_counts_the_images_an_image_model_makes_and_refuses_videos(emulator):
    from gemini_magic.pricing import IMAGE_TOKENS

    client = Client(api_key=TEST_KEY, base_url=emulator.base_url, max_cost=0.01)
    image_model = "gemini-2.5-flash-image"
    cost = client.estimate_cost(image_model, "A watercolour fox")
    assert cost.items["image output"] == pytest.approx(IMAGE_TOKENS * PRICES[image_model].image_output / M)
    assert cost.total > 0.01  # one image is about $0.039: above the limit before anything is made
    with pytest.raises(CostLimitError, match="above max_cost"):
        client.generate_images("A watercolour fox", model=image_model)
    with pytest.raises(CostLimitError, match="video's cost cannot be checked"):
        client.generate_videos("A fox running", duration_seconds=8)
    made = [r.path for r in emulator.requests if "enerateContent" in r.path or "predict" in r.path]
    assert made == []  # only countTokens went out
    assert Client(api_key=TEST_KEY, base_url=emulator.base_url).estimate_cost(FLASH, "Hi").items.get(
        "image output", 0) == 0  # a text model's estimate is unchanged


# --- the magic ---------------------------------------------------------------------------------------


def _markdown_outputs(capsys) -> str:
    return capsys.readouterr().out


def test_every_answer_footer_shows_the_estimate(shell, capsys):
    shell.run_cell_magic("gemini", "--no-stream", "Hello there")
    answer = shell.user_ns["_gemini"]
    out = capsys.readouterr().out
    assert f"≈ {answer.cost} (prices of {PRICES_DATE})" in out
    shell.run_cell_magic("gemini", "-m gemini-flash-latest --no-stream", "Hello there")
    out = capsys.readouterr().out
    assert "tokens: prompt" in out and "≈ $" not in out


def test_dry_run_shows_the_estimate(shell, emulator, capsys):
    shell.run_cell_magic("gemini", "--dry-run --max-tokens 100", "Hello there")
    out = capsys.readouterr().out
    assert "(countTokens), ≈ $" in out and "at most the answer's token limit" in out
    assert not [r for r in emulator.requests if "enerateContent" in r.path]


def test_config_prices_and_max_cost(shell, emulator, capsys):
    shell.run_line_magic("config", "GeminiMagics.prices = {'gemini-2.5-flash': {'input': 1000, 'output': 1000}}")
    shell.run_cell_magic("gemini", "--no-stream", "Hello there")
    answer = shell.user_ns["_gemini"]
    tokens = sum(answer.usage.get(k, 0) for k in ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount"))
    assert answer.cost.total == pytest.approx(tokens * 1000 / M)
    assert "(your prices)" in capsys.readouterr().out
    shell.run_line_magic("config", "GeminiMagics.max_cost = 0.0001")
    before = len([r for r in emulator.requests if "enerateContent" in r.path])
    with pytest.raises(UsageError, match="above max_cost"):
        shell.run_cell_magic("gemini", "", "Hello there")
    assert len([r for r in emulator.requests if "enerateContent" in r.path]) == before
    magics = shell.magics_manager.registry["GeminiMagics"]
    shell.run_line_magic("config", "GeminiMagics.max_cost = -5")  # refused: logged, the previous value kept
    assert magics.max_cost == 0.0001


def test_a_chat_footer_shows_the_running_total(shell, capsys):
    shell.user_ns.pop("talk", None)
    for number, prompt in enumerate(("First", "Second")):  # two cells (a frontend sends each one's id)
        shell.run_cell(f"%%gemini --chat talk --no-stream\n{prompt}", store_history=True, cell_id=f"cost-{number}")
    chat = shell.user_ns["talk"]
    assert chat.cost.total == pytest.approx(sum(estimate(t.usage, FLASH).total for t in chat.turns))
    assert f"talk · turn 2 · {chat.total_tokens:,} tokens so far · ≈ {chat.cost} so far" in capsys.readouterr().out
    shell.user_ns.pop("talk", None)


def test_rows_show_their_total(shell, capsys):
    pd = pytest.importorskip("pandas")
    shell.user_ns["reviews"] = pd.DataFrame({"text": ["good", "bad", "fine"]})
    try:
        shell.run_cell_magic("gemini", "--over reviews -o costed", "Label: {row.text}")
    finally:
        shell.user_ns.pop("costed", None)
        shell.user_ns.pop("reviews", None)
    out = capsys.readouterr().out
    assert "3 rows answered into" in out and "in all" in out and "≈ $" in out
