"""Settings the real service refuses, refused by the emulator too (over loopback), in the service's words:
safetySettings outside their enums, thinkingBudget 0 on a model that always thinks, thinkingLevel on a
Gemini 2 model (or a level Gemini 3 Pro lacks), and responseModalities IMAGE on a text model."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from gemini_magic.errors import BadRequestError

try:
    from .test_emulator_support import GENERATE, STREAM_SSE, answer_text, call, text_request
except ImportError:
    from test_emulator_support import GENERATE, STREAM_SSE, answer_text, call, text_request

TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta."


def with_safety(*settings) -> dict:
    return {**text_request("Hello"), "safetySettings": list(settings)}


def generate_path(model: str) -> str:
    return GENERATE.replace("gemini-2.5-flash", model)


def test_an_unknown_safety_category_names_the_invalid_enum_value(emulator):
    reply = call(emulator, "POST", GENERATE, with_safety({"category": "BOGUS", "threshold": "BLOCK_NONE"}))
    assert reply.status == 400
    message = f"Invalid value at 'safety_settings[0].category' ({TYPE}HarmCategory), \"BOGUS\""
    assert reply.error() == {"code": 400, "message": message, "status": "INVALID_ARGUMENT", "details": [
        {"@type": "type.googleapis.com/google.rpc.BadRequest",
         "fieldViolations": [{"field": "safety_settings[0].category", "description": message}]}]}


def test_every_invalid_value_gets_its_line_and_violation(emulator):
    reply = call(emulator, "POST", STREAM_SSE, with_safety(
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_SOME"},
        {"category": "HARM_CATEGORY_IMAGE_HATE", "threshold": "BLOCK_NONE"}))
    assert reply.status == 400 and reply.headers["content-type"].startswith("application/json")
    error = reply.error()
    assert error["message"].splitlines() == [
        f"Invalid value at 'safety_settings[0].threshold' ({TYPE}SafetySetting.HarmBlockThreshold), \"BLOCK_SOME\"",
        f"Invalid value at 'safety_settings[1].category' ({TYPE}HarmCategory), \"HARM_CATEGORY_IMAGE_HATE\""]
    fields = [v["field"] for v in error["details"][0]["fieldViolations"]]
    assert fields == ["safety_settings[0].threshold", "safety_settings[1].category"]


def test_a_category_gemini_does_not_filter_on_is_refused_with_the_predicate(emulator):
    reply = call(emulator, "POST", GENERATE, with_safety({"category": "HARM_CATEGORY_TOXICITY",
                                                         "threshold": "BLOCK_NONE"}))
    assert reply.status == 400
    assert reply.error()["message"] == (
        "* GenerateContentRequest.safety_settings[0]: element predicate failed: $.category in "
        "(HarmCategory.HARM_CATEGORY_HATE_SPEECH, HarmCategory.HARM_CATEGORY_SEXUALLY_EXPLICIT, "
        "HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT, HarmCategory.HARM_CATEGORY_HARASSMENT, "
        "HarmCategory.HARM_CATEGORY_CIVIC_INTEGRITY)\n")


def test_valid_safety_settings_in_any_case_are_accepted(emulator):
    reply = call(emulator, "POST", GENERATE, with_safety(
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_ONLY_HIGH"},
        {"category": "harm_category_harassment", "threshold": "off"}))
    assert reply.status == 200 and "was not asked: the local emulator echoes" in answer_text(reply.json)


def test_the_client_raises_the_safety_refusal(client, emulator):
    with pytest.raises(BadRequestError, match=r"safety_settings\[0\]\.category.*\"BOGUS\"") as caught:
        client.generate("gemini-2.5-flash", "Hello", safety_settings=[{"category": "BOGUS", "threshold": "BLOCK_NONE"}])
    assert caught.value.status == "INVALID_ARGUMENT" and caught.value.status_code == 400


@pytest.mark.parametrize("model", ["gemini-2.5-pro", "gemini-3-pro-preview"])
def test_budget_zero_is_refused_by_a_model_that_only_thinks(emulator, model):
    reply = call(emulator, "POST", generate_path(model), text_request("x", thinkingConfig={"thinkingBudget": 0}))
    assert reply.status == 400
    assert reply.error() == {"code": 400, "message": "Budget 0 is invalid. This model only works in thinking mode.",
                             "status": "INVALID_ARGUMENT"}


def test_budget_zero_turns_thinking_off_where_it_can(emulator):
    reply = call(emulator, "POST", GENERATE, text_request("x", thinkingConfig={"thinkingBudget": 0}))
    assert reply.status == 200 and "thoughtsTokenCount" not in reply.json["usageMetadata"]
    pro = call(emulator, "POST", generate_path("gemini-2.5-pro"),
               text_request("x", thinkingConfig={"thinkingBudget": 128}))
    assert pro.status == 200 and pro.json["usageMetadata"]["thoughtsTokenCount"] > 0


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite", "gemini-2.0-flash"])
def test_thinking_level_is_refused_by_gemini_2_models(emulator, model):
    reply = call(emulator, "POST", generate_path(model), text_request("x", thinkingConfig={"thinkingLevel": "low"}))
    assert reply.status == 400
    assert reply.error() == {"code": 400, "message": "Thinking level is not supported for this model.",
                             "status": "INVALID_ARGUMENT"}


def test_thinking_level_on_gemini_3(emulator):
    flash = call(emulator, "POST", generate_path("gemini-3-flash-preview"),
                 text_request("x", thinkingConfig={"thinkingLevel": "minimal"}))
    assert flash.status == 200 and "was not asked: the local emulator echoes" in answer_text(flash.json)
    pro = call(emulator, "POST", generate_path("gemini-3-pro-preview"),
               text_request("x", thinkingConfig={"thinkingLevel": "MINIMAL"}))
    assert pro.status == 400 and pro.error()["message"] == (  # recordings/errors/vercel_400_thinking-level-unsupported
        "Thinking level MINIMAL is not supported for this model. Please retry with other thinking level.")
    bogus = call(emulator, "POST", generate_path("gemini-3-flash-preview"),
                 text_request("x", thinkingConfig={"thinkingLevel": "extreme"}))
    assert bogus.status == 400 and bogus.error()["message"] == (
        f"Invalid value at 'generation_config.thinking_config.thinking_level' "
        f"({TYPE}GenerationConfig.ThinkingConfig.ThinkingLevel), \"extreme\"")


def test_refused_thinking_in_a_batch_is_that_row_s_error(emulator):
    rows = [{"request": text_request("fine")},
            {"request": text_request("no thinking", thinkingConfig={"thinkingBudget": 0})}]
    body = {"batch": {"displayName": "two rows", "inputConfig": {"requests": {"requests": rows}}}}
    reply = call(emulator, "POST", "/v1beta/models/gemini-2.5-pro:batchGenerateContent", body)
    assert reply.status == 200, reply.body
    name = reply.json["name"]
    for _ in range(5):  # pending, running, then done
        done = call(emulator, "GET", f"/v1beta/{name}").json
        if done.get("done"):
            break
    answers = done["response"]["inlinedResponses"]["inlinedResponses"]
    assert "response" in answers[0] and "error" not in answers[0]
    assert answers[1]["error"] == {"code": 400,
                                   "message": "Budget 0 is invalid. This model only works in thinking mode."}


def test_the_magic_shows_the_refusal(shell, emulator):
    with pytest.raises(UsageError, match="Budget 0 is invalid. This model only works in thinking mode."):
        shell.run_cell_magic("gemini", "-m gemini-2.5-pro --thinking-budget 0", "Quick answer please")
    with pytest.raises(UsageError, match="Thinking level is not supported for this model."):
        shell.run_cell_magic("gemini", "-m gemini-2.5-flash --thinking-level low", "Quick answer please")
