"""Pure builders of request bodies: the GenerateContentRequest, its contents, model paths. No I/O.

    >>> from gemini_magic.request.settings import GenerationSettings
    >>> build_body([{"role": "user", "parts": [{"text": "Hi"}]}], system_parts=[{"text": "Be brief"}],
    ...            settings=GenerationSettings.from_options(temperature=0.2))
    {'contents': [{'role': 'user', 'parts': [{'text': 'Hi'}]}], 'systemInstruction': {'parts': [{'text': 'Be brief'}]}, 'generationConfig': {'temperature': 0.2}}
"""

from __future__ import annotations

from typing import Any

from .settings import GenerationSettings, check_model


def model_path(model: str) -> str:
    """`gemini-2.5-flash` → `models/gemini-2.5-flash`; `models/...` and `tunedModels/...` unchanged.

    Raises SettingsError for an empty or malformed name."""
    model = check_model(model)
    return model if "/" in model else f"models/{model}"


def build_body(contents: list[dict], *, system_parts: list[dict] | None = None,
               settings: GenerationSettings | None = None, tools: list | None = None,
               tool_config: dict | None = None, cached_content: str | None = None) -> dict:
    """A GenerateContentRequest body from wire contents and validated settings (keys in the API's order)."""
    body: dict[str, Any] = {"contents": contents}
    if system_parts:
        body["systemInstruction"] = {"parts": system_parts}
    settings = settings or GenerationSettings()
    config = settings.generation_config()
    if config:
        body["generationConfig"] = config
    if settings.safety_settings:
        body["safetySettings"] = list(settings.safety_settings)
    if tools:
        body["tools"] = tools
    if tool_config:
        body["toolConfig"] = tool_config
    if cached_content:
        body["cachedContent"] = cached_content
    return body


def count_tokens_body(model: str, body: dict) -> dict:
    """The countTokens body for a request: just its contents when that is all it has, else the whole
    request wrapped as `generateContentRequest` (so system instruction, tools and settings count)."""
    if body.keys() == {"contents"}:
        return {"contents": body["contents"]}
    return {"generateContentRequest": {"model": model_path(model), **body}}
