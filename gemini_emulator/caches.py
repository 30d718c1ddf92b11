"""``cachedContents``: context caching as the service does it, kept in memory.

* ``POST /v1beta/cachedContents`` {model, contents, systemInstruction, tools, toolConfig, ttl |
  expireTime, displayName} → the CachedContent (recordings/models_tokens_embed_cache/
  cookbook_cachedContents-create.json): name, model, createTime, updateTime, expireTime,
  displayName ("" when unset), usageMetadata.totalTokenCount. Default TTL one hour.
* Below the model's minimum size the service answers 400 ``Cached content is too small.
  total_token_count=N, min_total_token_count=M`` (quoted from public bug reports): 1,024 tokens for
  Flash models, 4,096 for Pro models.
* ``GET`` one or a page (``cachedContents``, ``nextPageToken``; ``{}`` when there are none),
  ``PATCH`` with ``ttl`` or ``expireTime`` only (other fields are immutable and refused),
  ``DELETE`` → ``{}``. A cache that does not exist or has expired answers 403, like the service.
* A generate request naming ``cachedContent`` gets the cache's contents before its own:
  ``usageMetadata.promptTokenCount`` includes the cached tokens and ``cachedContentTokenCount`` says
  how many they were; the answer text says which cache it used. The request's model must be the
  cache's (400 otherwise) and it may not set its own systemInstruction, tools or toolConfig (400).

Tokens follow the emulator's rule (answers.py); tools count as the text of their compact JSON.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from . import answers, models, validation
from .errors import ApiError, bad_request
from .paging import page

DEFAULT_TTL_SECONDS = 3600.0
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
FLASH_MINIMUM, PRO_MINIMUM = 1024, 4096
CREATE_FIELDS = {"model", "contents", "systemInstruction", "tools", "toolConfig", "ttl", "expireTime",
                 "displayName", "name", "createTime", "updateTime", "usageMetadata"}
EXPIRATION_FIELDS = {"ttl", "expireTime"}
DURATION = re.compile(r"^(\d+)(\.\d{1,9})?s$")
NOT_FOUND = "CachedContent not found (or permission denied)"


def minimum_tokens(model: str) -> int:
    """The smallest cache the model accepts, in tokens (Pro models need more than Flash ones)."""
    return PRO_MINIMUM if "pro" in model.lower() else FLASH_MINIMUM


def timestamp(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(value, path: str) -> float:
    text = str(value)
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)", text)
    if not isinstance(value, str) or not match:
        raise bad_request(f"Invalid value at '{path}' (type.googleapis.com/google.protobuf.Timestamp), "
                          f"Field '{path}', Invalid time format: {text}", [(path, "Invalid time format")])
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    moment = datetime.datetime.fromisoformat(match.group(1) + zone)
    return moment.timestamp() + float(match.group(2) or 0)


def parse_ttl(value, path: str) -> float:
    match = DURATION.match(value) if isinstance(value, str) else None
    if not match:
        shown = json.dumps(value) if not isinstance(value, str) else f'"{value}"'
        message = f"Invalid value at '{path}' (type.googleapis.com/google.protobuf.Duration), {shown}"
        raise bad_request(message, [(path, message)])
    return float(match.group(1) + (match.group(2) or ""))


def expiration(body: dict, path: str, now: float) -> float | None:
    """The expiry time (epoch seconds) that ``ttl`` or ``expireTime`` asks for; None when neither."""
    ttl, expire = validation.pick(body, "ttl"), validation.pick(body, "expireTime")
    if ttl is not None and expire is not None:
        raise bad_request("Only one of ttl and expire_time can be set.",
                          [(f"{path}.expiration", "Only one of ttl and expire_time can be set.")])
    if ttl is not None:
        seconds = parse_ttl(ttl, f"{path}.ttl")
        if seconds <= 0:
            raise bad_request("ttl must be positive.", [(f"{path}.ttl", "ttl must be positive.")])
        return now + seconds
    if expire is not None:
        when = parse_timestamp(expire, f"{path}.expire_time")
        if when <= now:
            raise bad_request("expire_time must be in the future.",
                              [(f"{path}.expire_time", "expire_time must be in the future.")])
        return when
    return None


@dataclass
class StoredCache:
    """One cached content: what it holds, its token count and its times (epoch seconds)."""

    name: str
    model: str
    display_name: str
    request: object                 # validation.GenerateRequest of its contents and system instruction
    tools: list
    tool_config: dict | None
    tokens: int
    details: list
    created: float
    updated: float
    expires: float
    found: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {"name": self.name, "model": f"models/{self.model}", "createTime": timestamp(self.created),
                "updateTime": timestamp(self.updated), "expireTime": timestamp(self.expires),
                "displayName": self.display_name, "usageMetadata": {"totalTokenCount": self.tokens}}

    # -- hooks for responses.Generation --------------------------------------------------------
    def add_to_prompt(self, tokens: int, details: list) -> tuple[int, list]:
        """The prompt's tokens and per-modality details with the cached ones added (the service
        counts the cache inside promptTokenCount)."""
        merged = {d["modality"]: d["tokenCount"] for d in details if d.get("tokenCount")}
        for detail in self.details:
            merged[detail["modality"]] = merged.get(detail["modality"], 0) + detail["tokenCount"]
        ordered = [{"modality": m, "tokenCount": merged[m]} for m in answers.MODALITY_ORDER if m in merged]
        return tokens + self.tokens, ordered

    def add_to_usage(self, usage: dict) -> None:
        """Insert ``cachedContentTokenCount`` and ``cacheTokensDetails`` in the service's key order."""
        items = list(usage.items())
        usage.clear()
        for key, value in items:
            usage[key] = value
            if key == "promptTokenCount":
                usage["cachedContentTokenCount"] = self.tokens
            elif key == "promptTokensDetails":
                usage["cacheTokensDetails"] = self.details

    def description(self) -> dict:
        contents = self.request.contents
        firsts = [_first_words(c) for c in contents]
        system = " ".join(p.text for p in self.request.system or [] if p.kind == "text")
        return {"name": self.name, "displayName": self.display_name, "model": f"models/{self.model}",
                "tokens": self.tokens, "contents": len(contents), "firstWords": firsts,
                "systemInstruction": system, "attachments": [item["description"] or item["mimeType"]
                                                             for item in self.found],
                "tools": len(self.tools)}

    def mention(self, text: str, model: str) -> str:
        """The answer ``text`` with a note of this cache after its model line (or in its JSON)."""
        about = self.description()
        if text.lstrip().startswith("{"):
            try:
                answer = json.loads(text)
            except ValueError:
                return text
            answer["cachedContent"] = about
            return json.dumps(answer, indent=2, ensure_ascii=False)
        shown = f' "{self.display_name}"' if self.display_name else ""
        lines = [f"**Cached content:** {self.name}{shown} ({self.tokens:,} tokens, "
                 f"{_plural(about['contents'], 'content')})", ""]
        if about["systemInstruction"]:
            lines += [f'- cached system instruction: "{about["systemInstruction"]}"']
        for number, words in enumerate(about["firstWords"], 1):
            lines += [f'- cached content {number}: "{words}"']
        for item in about["attachments"]:
            lines += [f"- cached attachment: {item}"]
        if about["tools"]:
            lines += [f"- cached tools: {about['tools']}"]
        note = "\n".join(lines) + "\n\n"
        end = text.find("\n\n") + 2  # after the answer's first paragraph (the marker's line)
        return text[:end] + note + text[end:] if end >= 2 else note + text


def _first_words(content, count: int = 8) -> str:
    words = " ".join(p.text for p in content.parts if p.kind == "text").split()
    return " ".join(words[:count]) + (" ..." if len(words) > count else "")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class CacheStore:
    """The emulator's cached contents, by id; expired ones vanish when next looked at."""

    def __init__(self):
        self.caches: dict[str, StoredCache] = {}
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.caches.clear()

    def purge_expired(self) -> None:
        now = time.time()
        with self.lock:
            for key in [k for k, c in self.caches.items() if c.expires <= now]:
                del self.caches[key]

    def find(self, cache_id: str) -> StoredCache:
        self.purge_expired()
        with self.lock:
            cache = self.caches.get(cache_id)
        if cache is None:
            raise ApiError(403, NOT_FOUND)
        return cache

    # -- the REST methods ---------------------------------------------------------------------
    def create(self, body: dict, resolve_file) -> dict:
        for key in body:
            if validation.camel(key) not in CREATE_FIELDS:
                raise bad_request(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
        model_name = validation.pick(body, "model")
        if not model_name or not isinstance(model_name, str):
            raise bad_request("* CreateCachedContentRequest.cached_content.model: model is required.\n",
                              [("cached_content.model", "model is required.")])
        model = model_name.split("/", 1)[1] if model_name.startswith("models/") else model_name
        row = models.find(model)
        if row is None or "createCachedContent" not in row[4]:
            raise ApiError(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                                "createCachedContent. Call ListModels to see the list of available models and "
                                "their supported methods.")
        now = time.time()
        expires = expiration(body, "cached_content", now) or now + DEFAULT_TTL_SECONDS
        request = self._parse_contents(body, resolve_file)
        tools = validation.pick(body, "tools") or []
        tool_config = validation.pick(body, "toolConfig")
        tokens, details = answers.prompt_tokens(request)
        if tools or tool_config:
            extra = answers.text_tokens(json.dumps([tools, tool_config], separators=(",", ":"), ensure_ascii=False))
            tokens += extra
            merged = {d["modality"]: d["tokenCount"] for d in details if d.get("tokenCount")}
            merged["TEXT"] = merged.get("TEXT", 0) + extra
            details = [{"modality": m, "tokenCount": merged[m]} for m in answers.MODALITY_ORDER if m in merged]
        minimum = minimum_tokens(model)
        if tokens < minimum:
            raise ApiError(400, f"Cached content is too small. total_token_count={tokens}, "
                                f"min_total_token_count={minimum}")
        display = validation.pick(body, "displayName") or ""
        if not isinstance(display, str) or len(display) > 128:
            raise bad_request("display_name must be a string of at most 128 characters.",
                              [("cached_content.display_name", "at most 128 characters")])
        cache = StoredCache(f"cachedContents/{secrets.token_hex(6)}", model, display, request, list(tools),
                            tool_config, tokens, [d for d in details if d["tokenCount"]], now, now, expires,
                            _attachments(request))
        with self.lock:
            self.caches[cache.name.split("/", 1)[1]] = cache
        return cache.to_json()

    @staticmethod
    def _parse_contents(body: dict, resolve_file):
        wire = {"contents": validation.pick(body, "contents")}
        system = validation.pick(body, "systemInstruction")
        if system is not None:
            wire["systemInstruction"] = system
        if wire["contents"] is None and system is not None:
            # A cache may hold only a system instruction: parse it beside a placeholder turn.
            parsed = validation.parse_generate({**wire, "contents": [{"parts": [{"text": ""}]}]}, resolve_file,
                                               "CreateCachedContentRequest.cached_content")
            parsed.contents = []
            return parsed
        return validation.parse_generate(wire, resolve_file, "CreateCachedContentRequest.cached_content")

    def get(self, cache_id: str) -> dict:
        return self.find(cache_id).to_json()

    def list(self, query: dict) -> dict:
        self.purge_expired()
        with self.lock:
            items = list(self.caches.values())
        chosen, token = page(items, query, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        body = {"cachedContents": [c.to_json() for c in chosen]} if chosen else {}
        if token:
            body["nextPageToken"] = token
        return body

    def update(self, cache_id: str, query: dict, body: dict) -> dict:
        """PATCH: only the expiration (``ttl`` or ``expireTime``) may change."""
        cache = self.find(cache_id)
        mask = [validation.camel(m.strip()) for m in (query.get("updateMask") or query.get("update_mask") or "").split(",")
                if m.strip()]
        for name in mask:
            if name not in EXPIRATION_FIELDS:
                raise bad_request(f"Field {validation.snake(name)} cannot be updated: only the expiration "
                                  "(ttl or expire_time) of a cached content can be updated.",
                                  [("update_mask", f"{validation.snake(name)} cannot be updated")])
        for key in body:
            name = validation.camel(key)
            if name == "name" and body[key] in (cache.name, cache_id):
                continue
            if name not in EXPIRATION_FIELDS:
                raise bad_request(f"Field {validation.snake(name)} cannot be updated: only the expiration "
                                  "(ttl or expire_time) of a cached content can be updated.",
                                  [(f"cached_content.{validation.snake(name)}", "cannot be updated")])
        now = time.time()
        expires = expiration(body, "cached_content", now)
        if expires is None:
            raise bad_request("Either ttl or expire_time must be set to update a cached content.",
                              [("cached_content.expiration", "ttl or expire_time must be set")])
        with self.lock:
            cache.expires, cache.updated = expires, now
        return cache.to_json()

    def delete(self, cache_id: str) -> dict:
        self.find(cache_id)
        with self.lock:
            self.caches.pop(cache_id, None)
        return {}

    # -- generate requests ----------------------------------------------------------------------
    def use(self, name, model: str, body: dict) -> StoredCache:
        """The cache a generate request names in ``cachedContent``, checked as the service checks it."""
        if not isinstance(name, str) or not name.startswith("cachedContents/"):
            raise bad_request(f"Invalid cached_content name: {name}. It should be cachedContents/{{id}}.",
                              [("cached_content", "should be cachedContents/{id}")])
        cache = self.find(name.split("/", 1)[1])
        if cache.model != model:
            raise ApiError(400, f"Model used by GenerateContent request (models/{model}) and CachedContent "
                                f"(models/{cache.model}) has to be the same.")
        if any(validation.pick(body, key) is not None for key in ("systemInstruction", "tools", "toolConfig")):
            raise ApiError(400, "CachedContent can not be used with GenerateContent request setting "
                                "system_instruction, tools or tool_config.\n\nProposed fix: move those values "
                                "to CachedContent from GenerateContent request.")
        return cache


def count_answer(store: CacheStore, body: dict, model: str, total: int, details: list) -> dict:
    """The countTokens answer; when its ``generateContentRequest`` names a ``cachedContent``, the
    cached tokens count in ``totalTokens`` and are reported in ``cachedContentTokenCount``."""
    answer = {"totalTokens": total, "promptTokensDetails": details}
    inner = validation.pick(body, "generateContentRequest")
    name = validation.pick(inner, "cachedContent") if isinstance(inner, dict) else None
    if name is None:
        return answer
    cache = store.use(name, model, inner)
    total, details = cache.add_to_prompt(total, details)
    return {"totalTokens": total, "cachedContentTokenCount": cache.tokens, "promptTokensDetails": details}


def _attachments(request) -> list[dict]:
    """What the cached contents' non-text parts are, described like a prompt's attachments."""
    found = []
    for content in request.contents:
        found.extend(answers.attachments(type(request)([content], None, {}, {})))
    return found


def route(method: str, segments: list[str]) -> tuple[str, str] | None:
    """(action, cache id) of a cachedContents request, or None when the method does not exist."""
    if len(segments) == 1:
        return {"POST": ("create_cache", ""), "GET": ("list_caches", "")}.get(method)
    if len(segments) == 2:
        actions = {"GET": "get_cache", "PATCH": "update_cache", "DELETE": "delete_cache"}
        return (actions[method], segments[1]) if method in actions else None
    return None


def answer(store: CacheStore, action: str, cache_id: str, query: dict, body: dict, resolve_file) -> dict:
    """The JSON answer of one cachedContents method (raises ApiError as the service answers)."""
    if action == "create_cache":
        return store.create(body, resolve_file)
    if action == "list_caches":
        return store.list(query)
    if action == "get_cache":
        return store.get(cache_id)
    if action == "update_cache":
        return store.update(cache_id, query, body)
    return store.delete(cache_id)
