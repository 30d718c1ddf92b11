"""Interactions API input: its forms normalised to steps, and steps turned into received contents.

``input`` may be a string, one content item (``{"type": "text", "text": ...}``, ``image``,
``audio``, ``document``, ``video`` with ``data`` (base64) or ``uri``), a list of content items (one
user turn), a list of steps (``user_input {content}``, ``model_output {content}``, ``thought
{signature, summary}``, ``function_call {id, name, arguments, signature}``, ``function_result
{call_id, name, result, is_error}``, built-in tool call/result steps), or a list of turns
(``{"role": "user" | "model", "content": ...}``). ``normalise`` returns the list of steps.

``to_contents`` maps steps onto Gemini contents (``validation.ReceivedContent``), so the answer
text, the token rule and the turn rules are the ones generateContent uses: user_input and
function_result steps are user turns; model_output, thought, function_call and built-in tool steps
are model turns; consecutive steps of one role make one turn. A thought's signature is carried to
the function call that follows it (``thoughtSignature``), as generateContent carries it on the
call part.
"""

from __future__ import annotations

import json

from . import validation
from .errors import bad_request
from .validation import ReceivedContent, ReceivedPart

CONTENT_TYPES = ("text", "image", "audio", "document", "video")
USER_STEPS = ("user_input", "function_result")
MODEL_STEPS = ("model_output", "thought", "function_call")
TOOL_SUFFIXES = ("_call", "_result")


def _is_step(item) -> bool:
    kind = item.get("type", "") if isinstance(item, dict) else ""
    return kind in USER_STEPS + MODEL_STEPS or (kind.endswith(TOOL_SUFFIXES) and kind not in CONTENT_TYPES)


def _is_content(item) -> bool:
    return isinstance(item, dict) and item.get("type") in CONTENT_TYPES


def _content_list(value, path: str) -> list:
    """A step's ``content``: a string, one content item or a list of them."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if _is_content(value):
        return [value]
    if isinstance(value, list) and all(_is_content(item) for item in value):
        return list(value)
    raise _bad(path, value, "a string or a list of content items (text, image, audio, document, video)")


def normalise(value) -> list[dict]:
    """The ``input`` field as a list of steps; raises the 400 for a shape the API does not take."""
    if value is None or value == "" or value == []:
        raise bad_request("input is required: give a string, content items or steps.",
                          [("input", "input is not specified")])
    if isinstance(value, str) or _is_content(value):
        return [{"type": "user_input", "content": _content_list(value, "input")}]
    if _is_step(value):
        return [value]
    if not isinstance(value, list):
        raise _bad("input", value, "a string, a content item, or a list of content items or steps")
    if all(_is_content(item) for item in value):
        return [{"type": "user_input", "content": list(value)}]
    steps = []
    for index, item in enumerate(value):
        path = f"input[{index}]"
        if _is_step(item):
            steps.append(item)
        elif isinstance(item, dict) and item.get("role") in ("user", "model") and "content" in item:
            kind = "user_input" if item["role"] == "user" else "model_output"
            steps.append({"type": kind, "content": _content_list(item["content"], path + ".content")})
        else:
            raise _bad(path, item, "a step (user_input, model_output, thought, function_call, "
                                   "function_result, ...) or a turn {role, content}")
    return steps


def to_contents(steps: list[dict], resolve_file) -> list[ReceivedContent]:
    """Steps as Gemini contents; ``resolve_file(uri)`` gives a stored file or raises the service's error."""
    contents: list[ReceivedContent] = []
    signature = None
    for index, step in enumerate(steps):
        path = f"input[{index}]"
        kind = step.get("type")
        role = "user" if kind in USER_STEPS else "model"
        parts: list[ReceivedPart] = []
        if kind in ("user_input", "model_output"):
            items = _content_list(step.get("content", []), path + ".content")
            parts = [_item_part(item, f"{path}.content[{n}]", resolve_file) for n, item in enumerate(items)]
        elif kind == "thought":
            signature = step.get("signature") or signature
            summary = step.get("summary") or []
            text = "".join(item.get("text", "") for item in summary if isinstance(item, dict))
            parts = [ReceivedPart("text", text=text, thought=True, raw=step)]  # raw keeps the signature
        elif kind == "function_call":
            name = str(step.get("name", ""))
            call = {"name": name, "args": step.get("arguments") or {}}
            if step.get("id"):
                call["id"] = step["id"]
            raw = {"functionCall": call}
            carried = step.get("signature") or signature
            if carried:
                raw["thoughtSignature"] = carried
            signature = None
            parts = [ReceivedPart("function_call", name=name, raw=raw)]
        elif kind == "function_result":
            name = str(step.get("name") or _call_name(steps[:index], step.get("call_id")))
            raw = {"functionResponse": {"name": name, "response": {"result": step.get("result")}}}
            parts = [ReceivedPart("function_response", name=name, raw=raw)]
        else:  # built-in tool calls and results run on the model's side
            parts = [ReceivedPart("other", name=str(kind), raw=step)]
        if contents and contents[-1].role == role:
            contents[-1].parts.extend(parts)
        else:
            contents.append(ReceivedContent(role, parts))
    return contents


def _call_name(earlier: list[dict], call_id) -> str:
    for step in reversed(earlier):
        if step.get("type") == "function_call" and step.get("id") == call_id:
            return str(step.get("name", ""))
    return ""


def _item_part(item: dict, path: str, resolve_file) -> ReceivedPart:
    kind = item.get("type")
    if kind == "text":
        text = item.get("text")
        if not isinstance(text, str):
            raise _bad(path + ".text", text, "a string")
        return ReceivedPart("text", text=text, raw=item)
    mime = item.get("mime_type") or item.get("mimeType") or ""
    if item.get("data") is not None:
        data = item["data"]
        if not isinstance(data, str):
            raise _bad(path + ".data", data, "base64 text")
        decoded = validation._decode_base64(data, path + ".data")
        return ReceivedPart("inline", mime_type=mime or _default_mime(kind), data=decoded, raw=item)
    if item.get("uri"):
        stored = resolve_file(str(item["uri"]))
        return ReceivedPart("file", mime_type=mime or stored.mime_type, file=stored, raw=item)
    raise bad_request(f"Invalid value at '{path}': a {kind} item needs data or uri.",
                      [(path, f"a {kind} item needs data or uri")])


def _default_mime(kind: str) -> str:
    return {"image": "image/png", "audio": "audio/wav", "document": "application/pdf",
            "video": "video/mp4"}.get(kind, "application/octet-stream")


def _bad(path: str, value, expected: str):
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    shown = shown[:60] + "..." if len(shown) > 60 else shown
    message = f"Invalid value at '{path}', {shown}: expected {expected}."
    return bad_request(message, [(path, message)])
