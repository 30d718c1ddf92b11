"""Pure builders of request bodies: contents, generation settings, model paths. No I/O.

    >>> build_generate_request("Hi", temperature=0.2, system="Be brief")
    {'contents': [{'role': 'user', 'parts': [{'text': 'Hi'}]}], 'systemInstruction': {'parts': [{'text': 'Be brief'}]}, 'generationConfig': {'temperature': 0.2}}
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

# Keys that make a dict a wire Part (anything else is an object to convert).
PART_KEYS = frozenset({"text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
                       "codeExecutionResult", "inline_data", "file_data", "function_call", "function_response",
                       "thought", "thoughtSignature"})

GENERATION_FIELDS = frozenset({
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities",
    "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty",
    "frequencyPenalty", "responseLogprobs", "logprobs", "speechConfig", "thinkingConfig", "mediaResolution",
    "enableEnhancedCivicAnswers", "imageConfig",
})

Converter = Callable[[Any], dict]


def camel_case(name: str) -> str:
    """`max_output_tokens` → `maxOutputTokens`; camelCase names pass unchanged."""
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def model_path(model: str) -> str:
    """`gemini-2.5-flash` → `models/gemini-2.5-flash`; `models/...` and `tunedModels/...` unchanged."""
    model = model.strip()
    if not model:
        raise ValueError("The model name is empty; pass a name such as 'gemini-2.5-flash'.")
    return model if "/" in model else f"models/{model}"


def is_part(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and value.keys() <= PART_KEYS | {"videoMetadata", "mediaResolution"}


def is_content(value: Any) -> bool:
    return isinstance(value, dict) and "parts" in value and value.keys() <= {"role", "parts"}


def build_parts(items: Iterable[Any], convert: Converter | None) -> list[dict]:
    """Strings become text parts, wire dicts pass unchanged, other objects go through `convert`."""
    parts: list[dict] = []
    for item in items:
        if isinstance(item, str):
            if item:
                parts.append({"text": item})
        elif is_part(item):
            parts.append(item)
        elif convert is not None:
            converted = convert(item)
            parts.extend(converted if isinstance(converted, list) else [converted])
        else:
            raise TypeError(f"Cannot send a {type(item).__name__} without a converter.")
    return parts


def build_contents(contents: Any, convert: Converter | None = None) -> list[dict]:
    """Normalise what a user passes as `contents` into the wire list of Content.

    - a string or one object → one user turn;
    - a list of Content dicts (`{"role", "parts"}`) → the conversation, unchanged;
    - any other list → one user turn whose parts are its items, in order.
    """
    if is_content(contents):
        return [contents]
    if isinstance(contents, (list, tuple)):
        if contents and all(is_content(item) for item in contents):
            return list(contents)
        return [{"role": "user", "parts": build_parts(contents, convert)}]
    return [{"role": "user", "parts": build_parts([contents], convert)}]


def build_generate_request(contents: Any, *, system: Any = None, config: dict | None = None,
                           safety_settings: list | None = None, tools: list | None = None,
                           tool_config: dict | None = None, cached_content: str | None = None,
                           convert: Converter | None = None, **generation: Any) -> dict:
    """A GenerateContentRequest body. Extra keyword arguments are generation settings, in snake_case
    or camelCase (`temperature=0.2`, `max_output_tokens=100`, `thinking_config={...}`)."""
    body: dict[str, Any] = {"contents": build_contents(contents, convert)}
    if system is not None:
        body["systemInstruction"] = system if is_content(system) else {"parts": build_parts(
            system if isinstance(system, (list, tuple)) else [system], convert)}
    settings = {camel_case(k): v for k, v in (config or {}).items()}
    for key, value in generation.items():
        name = camel_case(key)
        if name not in GENERATION_FIELDS:
            raise TypeError(f"Unknown generation setting {key!r}. Known: {', '.join(sorted(GENERATION_FIELDS))}.")
        if value is not None:
            settings[name] = value
    if settings:
        body["generationConfig"] = settings
    if safety_settings:
        body["safetySettings"] = safety_settings
    if tools:
        body["tools"] = tools
    if tool_config:
        body["toolConfig"] = tool_config
    if cached_content:
        body["cachedContent"] = cached_content
    return body
