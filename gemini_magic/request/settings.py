"""Generation settings as one value, in the API's terms, validated once where they enter.

`%config GeminiMagics` traits, `%%gemini` options and `Client` keyword arguments all become a
`GenerationSettings` through `GenerationSettings.from_options`, so a bad value gets the same message
whichever way it came in, before anything is sent:

    >>> GenerationSettings.from_options(temperature=0.2, max_output_tokens=100).generation_config()
    {'temperature': 0.2, 'maxOutputTokens': 100}
    >>> GenerationSettings.from_options(temperature=float("nan"))
    Traceback (most recent call last):
    ...
    gemini_magic.errors.SettingsError: temperature (-t/--temperature) must be between 0 and 2; got nan.

Ranges are those of the API reference (GenerationConfig: temperature [0, 2], topP [0, 1], topK >= 1,
candidateCount 1-8, at most 5 stopSequences; ThinkingConfig: thinkingBudget >= -1, thinkingLevel for
Gemini 3 models, not together with a budget). See ../shared/API_NOTES.md.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..errors import SettingsError

THINKING_LEVELS = ("minimal", "low", "medium", "high")

# snake_case field → (camelCase wire name, how a person names it: the Python keyword and the magic's option)
_FIELDS = {
    "temperature": ("temperature", "temperature (-t/--temperature)"),
    "top_p": ("topP", "top_p (--top-p)"),
    "top_k": ("topK", "top_k (--top-k)"),
    "max_output_tokens": ("maxOutputTokens", "max_output_tokens (--max-tokens)"),
    "stop_sequences": ("stopSequences", "stop_sequences (--stop)"),
    "seed": ("seed", "seed (--seed)"),
    "candidate_count": ("candidateCount", "candidate_count (-n/--candidates)"),
    "thinking_budget": ("thinkingBudget", "thinking_budget (--thinking-budget)"),
    "thinking_level": ("thinkingLevel", "thinking_level (--thinking-level)"),
    "include_thoughts": ("includeThoughts", "include_thoughts (--show-thoughts)"),
    "response_mime_type": ("responseMimeType", "response_mime_type (--json)"),
}
_ALIASES = {"max_tokens": "max_output_tokens", "candidates": "candidate_count", "stop": "stop_sequences",
            "show_thoughts": "include_thoughts"}
# generationConfig fields passed through as given (camelCase), after a type check of their own by the API.
EXTRA_FIELDS = frozenset({
    "responseSchema", "responseJsonSchema", "responseModalities", "presencePenalty", "frequencyPenalty",
    "responseLogprobs", "logprobs", "speechConfig", "thinkingConfig", "mediaResolution",
    "enableEnhancedCivicAnswers", "imageConfig",
})


def camel_case(name: str) -> str:
    """`max_output_tokens` → `maxOutputTokens`; camelCase names pass unchanged."""
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def snake_case(name: str) -> str:
    """`maxOutputTokens` → `max_output_tokens`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_BY_CAMEL = {camel: name for name, (camel, _) in _FIELDS.items()}


@dataclass(frozen=True)
class GenerationSettings:
    """Validated generation settings (None: the model's default). Build with `from_options`.

    `extra` holds other generationConfig fields in camelCase (responseModalities, speechConfig, ...);
    `safety_settings` is the request's safetySettings list, as the API takes it.
    """

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    max_output_tokens: int | None = None
    stop_sequences: tuple[str, ...] | None = None
    seed: int | None = None
    candidate_count: int | None = None
    thinking_budget: int | None = None
    thinking_level: str | None = None
    include_thoughts: bool | None = None
    response_mime_type: str | None = None
    safety_settings: tuple = ()
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_options(cls, *, config: dict | None = None, safety_settings: Any = None,
                     **options: Any) -> "GenerationSettings":
        """Settings from keyword arguments in snake_case or camelCase (`temperature=0.2`,
        `maxOutputTokens=100`), plus `config` (a generationConfig dict) and `safety_settings`.

        Raises SettingsError (a GeminiError and a ValueError) naming the setting, its allowed range
        and the value given; TypeError for a name that is not a generation setting."""
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for source in (config or {}), options:
            for key, value in source.items():
                name = _ALIASES.get(key, key)
                name = _BY_CAMEL.get(name, name)
                if name in _FIELDS:
                    if value is not None:
                        values[name] = value
                elif camel_case(key) in EXTRA_FIELDS:
                    if value is not None:
                        extra[camel_case(key)] = value
                else:
                    known = sorted(set(_FIELDS) | {snake_case(f) for f in EXTRA_FIELDS})
                    raise TypeError(f"Unknown generation setting {key!r}. Known: {', '.join(known)}.")
        thinking = extra.pop("thinkingConfig", None)
        if thinking is not None:
            if not isinstance(thinking, dict):
                raise SettingsError(f"thinkingConfig must be a dict; got {type(thinking).__name__}.")
            for key, value in thinking.items():
                name = _BY_CAMEL.get(key, key)
                if name not in ("thinking_budget", "thinking_level", "include_thoughts"):
                    raise SettingsError(f"Unknown thinkingConfig field {key!r}; known: thinkingBudget, "
                                        "thinkingLevel, includeThoughts.")
                values.setdefault(name, value)
        if safety_settings:
            values["safety_settings"] = _safety_settings(safety_settings)
        settings = cls(extra=extra, **{k: _check(k, v) for k, v in values.items() if k != "safety_settings"},
                       **({"safety_settings": values["safety_settings"]} if "safety_settings" in values else {}))
        settings._check_together()
        return settings

    def merged(self, other: "GenerationSettings") -> "GenerationSettings":
        """These settings with every value that `other` sets put over them."""
        changes = {f.name: getattr(other, f.name) for f in fields(self)
                   if f.name not in ("extra", "safety_settings") and getattr(other, f.name) is not None}
        merged = replace(self, **changes, extra={**self.extra, **other.extra},
                         safety_settings=other.safety_settings or self.safety_settings)
        if other.thinking_level is not None and other.thinking_budget is None:
            merged = replace(merged, thinking_budget=None)
        elif other.thinking_budget is not None and other.thinking_level is None:
            merged = replace(merged, thinking_level=None)
        merged._check_together()
        return merged

    def generation_config(self) -> dict:
        """The request's generationConfig (camelCase), only the fields that are set."""
        config = dict(self.extra)
        for name, (camel, _) in _FIELDS.items():
            value = getattr(self, name)
            if value is None or name in ("thinking_budget", "thinking_level", "include_thoughts"):
                continue
            config[camel] = list(value) if isinstance(value, tuple) else value
        thinking = {camel: getattr(self, name) for name, camel in (
            ("thinking_budget", "thinkingBudget"), ("thinking_level", "thinkingLevel"),
            ("include_thoughts", "includeThoughts")) if getattr(self, name) is not None}
        if thinking:
            config["thinkingConfig"] = thinking
        return config

    def _check_together(self) -> None:
        if self.thinking_budget is not None and self.thinking_level is not None:
            raise SettingsError("thinking_budget (--thinking-budget) and thinking_level (--thinking-level) "
                                "cannot be used together (the API refuses both); give one of them.")


def _safety_settings(value: Any) -> tuple:
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, dict) for item in value):
        raise SettingsError("safety_settings must be a list of {'category': ..., 'threshold': ...} dicts, "
                            "as the API takes them.")
    for item in value:
        if not item.get("category") or not item.get("threshold"):
            raise SettingsError(f"Each safety setting needs a category and a threshold; got {item!r}.")
    return tuple(value)


def _check(name: str, value: Any) -> Any:
    """One setting's value, checked and normalised; SettingsError when it cannot be sent."""
    label = _FIELDS[name][1]
    if name == "temperature":
        return _number(label, value, 0.0, 2.0)
    if name == "top_p":
        return _number(label, value, 0.0, 1.0)
    if name == "top_k":
        return _integer(label, value, 1, None)
    if name == "max_output_tokens":
        return _integer(label, value, 1, None)
    if name == "candidate_count":
        return _integer(label, value, 1, 8)
    if name == "seed":
        return _integer(label, value, -2 ** 31, 2 ** 31 - 1)
    if name == "thinking_budget":
        return _integer(label, value, -1, None)
    if name == "thinking_level":
        level = str(value).strip().lower()
        if level not in THINKING_LEVELS:
            raise SettingsError(f"{label} must be one of {', '.join(THINKING_LEVELS)}; got {value!r}.")
        return level
    if name == "include_thoughts":
        if not isinstance(value, bool):
            raise SettingsError(f"{label} must be True or False; got {value!r}.")
        return value
    if name == "stop_sequences":
        stops = (value,) if isinstance(value, str) else value
        if not isinstance(stops, (list, tuple)) or not all(isinstance(s, str) for s in stops):
            raise SettingsError(f"{label} must be a string or a list of strings; got {value!r}.")
        if len(stops) > 5:
            raise SettingsError(f"{label} takes at most 5 stop sequences; got {len(stops)}.")
        if any(not s for s in stops):
            raise SettingsError(f"{label}: a stop sequence cannot be empty.")
        return tuple(stops)
    if name == "response_mime_type":
        if not isinstance(value, str) or "/" not in value:
            raise SettingsError(f"{label} must be a MIME type such as 'application/json'; got {value!r}.")
        return value.strip()
    raise AssertionError(name)


def _number(label: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool):
        raise SettingsError(f"{label} must be a number between {low:g} and {high:g}; got {value!r}.")
    if not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{label} must be a number between {low:g} and {high:g}; got {value!r}.") from None
    value = float(value)
    if not math.isfinite(value) or not low <= value <= high:
        raise SettingsError(f"{label} must be between {low:g} and {high:g}; got {value:g}.")
    return value


def _integer(label: str, value: Any, low: int | None, high: int | None) -> int:
    allowed = (f"between {low} and {high}" if high is not None else f"{low} or more")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{label} must be a whole number {allowed}; got {value!r}.")
    if (low is not None and value < low) or (high is not None and value > high):
        raise SettingsError(f"{label} must be {allowed}; got {value}.")
    return value


def check_model(model: Any) -> str:
    """A model name, stripped; SettingsError when it is empty or cannot be one."""
    if not isinstance(model, str) or not model.strip():
        raise SettingsError("The model name is empty; give one such as -m gemini-2.5-flash "
                            "(or model='gemini-2.5-flash'); %gemini models lists them.")
    model = model.strip()
    if any(char.isspace() for char in model) or any(char in model for char in "?#%\\"):
        raise SettingsError(f"{model!r} is not a model name (it has spaces or ?, #, %, \\ in it); "
                            "give one such as gemini-2.5-flash; %gemini models lists them.")
    return model
