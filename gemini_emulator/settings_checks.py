"""Settings the service refuses with 400 INVALID_ARGUMENT, in its words.

* ``safetySettings``: a ``category`` or ``threshold`` that is not a value of its enum answers
  ``Invalid value at 'safety_settings[0].category' (type.googleapis.com/google.ai.generativelanguage.
  v1beta.HarmCategory), "BOGUS"``, one line and one BadRequest field violation per bad value (as the
  public bug reports show); a valid enum value Gemini does not filter on (``HARM_CATEGORY_TOXICITY``,
  the PaLM-era ones) answers ``* GenerateContentRequest.safety_settings[0]: element predicate failed:
  $.category in (...)``.
* ``thinkingConfig`` for the model it goes to: ``thinkingBudget: 0`` on a model that always thinks
  (``Budget 0 is invalid. This model only works in thinking mode.``); ``thinkingLevel`` on a Gemini 2
  model (``Thinking level is not supported for this model.``), a level that is no enum value, or a
  level Gemini 3 Pro lacks (recordings/errors/vercel_400_thinking-level-unsupported.json).

Enum values are compared without regard to case, as the service's JSON parser does.
"""

from __future__ import annotations

import json

from .errors import ApiError, bad_request

TYPE = "type.googleapis.com/google.ai.generativelanguage.v1beta."
HARM_CATEGORIES = ("HARM_CATEGORY_UNSPECIFIED", "HARM_CATEGORY_DEROGATORY", "HARM_CATEGORY_TOXICITY",
                   "HARM_CATEGORY_VIOLENCE", "HARM_CATEGORY_SEXUAL", "HARM_CATEGORY_MEDICAL",
                   "HARM_CATEGORY_DANGEROUS", "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH",
                   "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT",
                   "HARM_CATEGORY_CIVIC_INTEGRITY")
# The categories Gemini filters on; the others are valid enum values the service still refuses.
GEMINI_CATEGORIES = ("HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_SEXUALLY_EXPLICIT",
                     "HARM_CATEGORY_DANGEROUS_CONTENT", "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_CIVIC_INTEGRITY")
THRESHOLDS = ("HARM_BLOCK_THRESHOLD_UNSPECIFIED", "BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE",
              "BLOCK_ONLY_HIGH", "BLOCK_NONE", "OFF")
THINKING_LEVELS = ("THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH")
PRO_LEVELS = ("LOW", "HIGH")
# Models whose thinking cannot be turned off (the thinking guide: "Thinking can't be turned off for
# Gemini 2.5 Pro"; the Gemini 3 Pro family answers the same).
ALWAYS_THINKING = ("gemini-2.5-pro", "gemini-3-pro-preview", "gemini-3-pro-image-preview")


def check_safety_settings(value, request_name: str = "GenerateContentRequest") -> None:
    """Raise the service's 400 for a safetySettings list with a value outside its enums."""
    if value is None:
        return
    if not isinstance(value, list):
        raise _bad_values([("safety_settings", TYPE + "SafetySetting", value)])
    bad, refused = [], []
    for index, setting in enumerate(value):
        path = f"safety_settings[{index}]"
        if not isinstance(setting, dict):
            bad.append((path, TYPE + "SafetySetting", setting))
            continue
        category = _enum_name(setting.get("category"), HARM_CATEGORIES)
        if category is None:
            bad.append((f"{path}.category", TYPE + "HarmCategory", setting.get("category")))
        elif category not in GEMINI_CATEGORIES:
            refused.append(path)
        threshold = _enum_name(setting.get("threshold", "HARM_BLOCK_THRESHOLD_UNSPECIFIED"), THRESHOLDS)
        if threshold is None:
            bad.append((f"{path}.threshold", TYPE + "SafetySetting.HarmBlockThreshold", setting.get("threshold")))
    if bad:
        raise _bad_values(bad)
    if refused:
        allowed = ", ".join(f"HarmCategory.{name}" for name in GEMINI_CATEGORIES)
        description = f"element predicate failed: $.category in ({allowed})"
        message = "".join(f"* {request_name}.{path}: {description}\n" for path in refused)
        raise bad_request(message, [(path, description) for path in refused])


def check_thinking(settings: dict, model: str) -> None:
    """Raise the service's 400 for a thinkingConfig the model refuses (``settings`` as validation reads it)."""
    thinking = settings.get("thinkingConfig")
    if not isinstance(thinking, dict):
        return
    budget = thinking.get("thinkingBudget")
    if budget is not None and not isinstance(budget, bool) and budget == 0 and model in ALWAYS_THINKING:
        raise ApiError(400, "Budget 0 is invalid. This model only works in thinking mode.")
    if "thinkingLevel" not in thinking:
        return
    raw = thinking["thinkingLevel"]
    level = _enum_name(raw, THINKING_LEVELS)
    if level is None:
        raise _bad_values([("generation_config.thinking_config.thinking_level",
                            TYPE + "GenerationConfig.ThinkingConfig.ThinkingLevel", raw)])
    if model.startswith("gemini-2"):
        raise ApiError(400, "Thinking level is not supported for this model.")
    if model.startswith("gemini-3-pro") and level not in PRO_LEVELS + ("THINKING_LEVEL_UNSPECIFIED",):
        raise ApiError(400, f"Thinking level {level} is not supported for this model. "
                            "Please retry with other thinking level.")


def _enum_name(value, names: tuple) -> str | None:
    """The enum value's name, from its name (any case) or its number; None when it is neither."""
    if isinstance(value, str) and value.upper() in names:
        return value.upper()
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return names[value]
    return None


def _bad_values(bad: list[tuple[str, str, object]]) -> ApiError:
    lines = []
    for path, type_name, value in bad:
        shown = f'"{value}"' if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"Invalid value at '{path}' ({type_name}), {shown}")
    return bad_request("\n".join(lines), [(path, line) for (path, _, _), line in zip(bad, lines)])
