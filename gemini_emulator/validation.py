"""Check a GenerateContentRequest the way the service does, and turn it into plain Python values.

Errors mimic the real messages: parse-level problems stop at once ("Invalid JSON payload received.
Unknown name ...", "Invalid value at 'contents[0].parts[1].inline_data.data' (TYPE_BYTES), Base64
decoding failed for ..."), while semantic ones are collected as ``* GenerateContentRequest.<path>:
<description>`` lines. Both carry a google.rpc.BadRequest detail whose ``field`` uses the
service's snake_case path. Requests may use camelCase or snake_case names, as the service accepts.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, field

from . import settings_checks, structured
from .errors import ApiError, bad_request

TOP_LEVEL = {"contents", "systemInstruction", "generationConfig", "safetySettings", "tools",
             "toolConfig", "cachedContent", "model", "store"}
GENERATION_CONFIG = {
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities",
    "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty",
    "frequencyPenalty", "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers", "speechConfig",
    "thinkingConfig", "mediaResolution", "imageConfig", "audioTimestamp", "enableAffectiveDialog",
    "routingConfig", "modelSelectionConfig", "automaticFunctionCalling", "toolConfig",
}
RESPONSE_MIME_TYPES = ("text/plain", "application/json", "application/xml", "application/yaml",
                       "text/x.enum")
# The members of the Part "data" oneof; exactly one must be set.
PART_DATA = ("text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
             "codeExecutionResult", "toolCall", "toolResponse")
STANDARD_BASE64 = re.compile(rb"^[A-Za-z0-9+/]*={0,2}$")


@dataclass
class ReceivedPart:
    """One part as received: kind is text, inline, file, function_call, function_response or other."""

    kind: str
    text: str = ""
    mime_type: str = ""
    data: bytes = b""
    file: object = None
    name: str = ""
    thought: bool = False
    raw: dict = field(default_factory=dict)


@dataclass
class ReceivedContent:
    role: str
    parts: list


@dataclass
class GenerateRequest:
    contents: list
    system: list | None
    config: dict          # generationConfig exactly as received (echoed in answers)
    settings: dict        # the same with camelCase keys, for reading


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def pick(obj: dict, name: str, default=None):
    """A field by its camelCase name, or its snake_case spelling."""
    if name in obj:
        return obj[name]
    return obj.get(snake(name), default)


def parse_json(body: bytes) -> dict:
    try:
        value = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        message = f"Invalid JSON payload received. Unexpected token.\n{_excerpt(body, exc)}"
        raise bad_request(message)
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise bad_request('Invalid JSON payload received. Unknown name "": Root element must be a message.')
    return value


def _excerpt(body: bytes, exc) -> str:
    position = getattr(exc, "pos", 0) or 0
    text = body[max(0, position - 20):position + 20].decode("utf-8", "replace")
    return text.replace("\n", " ")


def parse_generate(body: dict, resolve_file, request_name="GenerateContentRequest") -> GenerateRequest:
    """Validate a GenerateContentRequest body; ``resolve_file(uri)`` returns a stored file or raises."""
    for key in body:
        if camel(key) not in TOP_LEVEL:
            message = f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.'
            raise bad_request(message)
    settings_checks.check_safety_settings(pick(body, "safetySettings"), request_name)  # enum values
    checker = _Checker(request_name, resolve_file)
    contents = checker.contents(pick(body, "contents"))
    system = None
    instruction = pick(body, "systemInstruction")
    if instruction is not None:
        system = checker.content(instruction, "system_instruction", role_required=False).parts
    config = pick(body, "generationConfig") or {}
    settings = checker.generation_config(config)
    checker.finish()
    return GenerateRequest(contents, system, config, settings)


def parse_count(body: dict, resolve_file) -> GenerateRequest:
    """countTokens takes ``contents`` or a whole ``generateContentRequest``."""
    for key in body:
        if camel(key) not in {"contents", "generateContentRequest"}:
            raise bad_request(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
    inner = pick(body, "generateContentRequest")
    if inner is not None:
        if not isinstance(inner, dict):
            raise bad_request("Invalid value at 'generate_content_request' "
                              "(type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentRequest)")
        return parse_generate(inner, resolve_file)
    return parse_generate({"contents": pick(body, "contents")}, resolve_file, "CountTokensRequest")


class _Checker:
    """Walks a request, raising at once on malformed JSON and collecting semantic violations."""

    def __init__(self, request_name, resolve_file):
        self.request_name = request_name
        self.resolve_file = resolve_file
        self.violations: list[tuple[str, str]] = []

    def violation(self, path: str, description: str) -> None:
        self.violations.append((path, description))

    def finish(self) -> None:
        if self.violations:
            message = "".join(f"* {self.request_name}.{path}: {text}\n" for path, text in self.violations)
            raise bad_request(message, self.violations)

    def contents(self, value) -> list:
        if value is None or value == []:
            self.violation("contents", "contents is not specified")
            self.finish()
        if not isinstance(value, list):
            raise _invalid("contents", "type.googleapis.com/google.ai.generativelanguage.v1beta.Content", value)
        multi_turn = len(value) > 1
        return [self.content(item, f"contents[{i}]", role_required=multi_turn) for i, item in enumerate(value)]

    def content(self, value, path: str, role_required: bool) -> ReceivedContent:
        if not isinstance(value, dict):
            raise _invalid(path, "type.googleapis.com/google.ai.generativelanguage.v1beta.Content", value)
        role = value.get("role") or ""
        if path.startswith("contents"):
            if role and role not in ("user", "model"):
                self.violation(f"{path}.role", "Please use a valid role: user, model.")
            elif not role and role_required:
                self.violation(f"{path}.role", "role must be specified in multi-turn conversations: "
                                               "use user or model.")
        parts = value.get("parts")
        if not parts:
            self.violation(f"{path}.parts", "contents.parts must not be empty.")
            return ReceivedContent(role or "user", [])
        if not isinstance(parts, list):
            raise _invalid(f"{path}.parts", "type.googleapis.com/google.ai.generativelanguage.v1beta.Part", parts)
        return ReceivedContent(role or "user", [self.part(p, f"{path}.parts[{i}]") for i, p in enumerate(parts)])

    def part(self, value, path: str) -> ReceivedPart:
        if not isinstance(value, dict):
            raise _invalid(path, "type.googleapis.com/google.ai.generativelanguage.v1beta.Part", value)
        present = [name for name in PART_DATA if name in value or snake(name) in value]
        if len(present) > 1:
            raise bad_request(f"Invalid value at '{path}' (oneof), oneof field 'data' is already set. "
                              f"Cannot set '{present[1]}'", [(path, "oneof field 'data' is already set")])
        if not present:
            self.violation(f"{path}.data", "required oneof field 'data' must have one initialized field")
            return ReceivedPart("other", raw=value)
        kind = present[0]
        thought = pick(value, "thought") is True
        payload = pick(value, kind)
        if kind == "text":
            if not isinstance(payload, str):
                raise _invalid(f"{path}.text", "TYPE_STRING", payload)
            return ReceivedPart("text", text=payload, thought=thought, raw=value)
        if kind == "inlineData":
            return self.inline_data(payload, f"{path}.inline_data", value)
        if kind == "fileData":
            return self.file_data(payload, f"{path}.file_data", value)
        if kind in ("functionCall", "functionResponse"):
            name = payload.get("name", "") if isinstance(payload, dict) else ""
            return ReceivedPart(snake(kind), name=str(name), raw=value)
        return ReceivedPart("other", name=kind, raw=value)

    def inline_data(self, blob, path: str, raw: dict) -> ReceivedPart:
        if not isinstance(blob, dict):
            raise _invalid(path, "type.googleapis.com/google.ai.generativelanguage.v1beta.Blob", blob)
        mime = pick(blob, "mimeType")
        data = blob.get("data")
        if not mime:
            self.violation(f"{path}.mime_type", "mime_type is not specified")
        if not isinstance(data, str):
            if data is None:
                self.violation(f"{path}.data", "data is not specified")
                return ReceivedPart("inline", mime_type=mime or "", raw=raw)
            raise _invalid(f"{path}.data", "TYPE_BYTES", data)
        return ReceivedPart("inline", mime_type=mime or "", data=_decode_base64(data, f"{path}.data"), raw=raw)

    def file_data(self, value, path: str, raw: dict) -> ReceivedPart:
        if not isinstance(value, dict):
            raise _invalid(path, "type.googleapis.com/google.ai.generativelanguage.v1beta.FileData", value)
        uri = pick(value, "fileUri")
        if not uri or not isinstance(uri, str):
            self.violation(f"{path}.file_uri", "file_uri is not specified")
            return ReceivedPart("file", raw=raw)
        stored = self.resolve_file(uri)  # raises the service's 403 / 400 FAILED_PRECONDITION
        return ReceivedPart("file", mime_type=pick(value, "mimeType") or stored.mime_type, file=stored, raw=raw)

    def generation_config(self, config) -> dict:
        if not isinstance(config, dict):
            raise _invalid("generation_config", "type.googleapis.com/google.ai.generativelanguage.v1beta."
                                                "GenerationConfig", config)
        settings = {}
        for key, value in config.items():
            name = camel(key)
            if name not in GENERATION_CONFIG:
                message = (f'Invalid JSON payload received. Unknown name "{key}" at \'generation_config\': '
                           "Cannot find field.")
                raise bad_request(message, [("generation_config", message)])
            settings[name] = value
        where = "generation_config."
        if "temperature" in settings:
            temperature = _number(settings["temperature"], where + "temperature", "TYPE_FLOAT")
            if not 0.0 <= temperature <= 2.0:
                self.violation(where + "temperature", "temperature must be in the range [0.0, 2.0]")
        if "candidateCount" in settings:
            count = _integer(settings["candidateCount"], where + "candidate_count")
            settings["candidateCount"] = count
            if not 1 <= count <= 8:
                self.violation(where + "candidate_count", "candidate_count must be in the range [1, 8]")
        if "maxOutputTokens" in settings:
            settings["maxOutputTokens"] = _integer(settings["maxOutputTokens"], where + "max_output_tokens")
            if settings["maxOutputTokens"] < 1:
                self.violation(where + "max_output_tokens", "max_output_tokens must be positive")
        stops = settings.get("stopSequences")
        if stops is not None:
            if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
                raise _invalid(where + "stop_sequences", "TYPE_STRING", stops)
            if len(stops) > 5:
                self.violation(where + "stop_sequences", "stop_sequences must not have more than 5 entries")
        mime = settings.get("responseMimeType")
        if mime is not None and mime not in RESPONSE_MIME_TYPES:
            self.violation(where + "response_mime_type", "allowed mimetypes are `text/plain`, "
                           "`application/json`, `application/xml`, `application/yaml` and `text/x.enum`.")
        for path, text in structured.check(settings, where):  # response schemas (structured.py)
            self.violation(path, text)
        thinking = settings.get("thinkingConfig")
        if thinking is not None:
            if not isinstance(thinking, dict):
                raise _invalid(where + "thinking_config", "type.googleapis.com/google.ai.generativelanguage."
                                                          "v1beta.ThinkingConfig", thinking)
            settings["thinkingConfig"] = {camel(k): v for k, v in thinking.items()}
        return settings


def _decode_base64(text: str, path: str) -> bytes:
    """Standard alphabet with correct padding only: url-safe '-'/'_' and missing '=' are refused."""
    raw = text.encode("ascii", "replace")
    try:
        if not STANDARD_BASE64.match(raw) or len(raw) % 4:
            raise binascii.Error("not standard base64")
        return base64.b64decode(raw, validate=True)
    except binascii.Error:
        shown = text if len(text) <= 40 else text[:40] + "..."
        message = f"Invalid value at '{path}' (TYPE_BYTES), Base64 decoding failed for \"{shown}\""
        raise bad_request(message, [(path, message)])


def _number(value, path: str, type_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _invalid(path, type_name, value)
    return float(value)


def _integer(value, path: str) -> int:
    # Proto JSON accepts integers, integral floats and decimal strings for int32 fields.
    if isinstance(value, bool):
        raise _invalid(path, "TYPE_INT32", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    raise _invalid(path, "TYPE_INT32", value)


def _invalid(path: str, type_name: str, value) -> ApiError:
    shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f'"{value}"'
    if len(shown) > 60:
        shown = shown[:60] + "..."
    message = f"Invalid value at '{path}' ({type_name}), {shown}"
    return bad_request(message, [(path, message)])
