"""Context caching (`cachedContents`): big context sent and paid for once, then named in prompts.

    from gemini_magic.api.caches import create_cache, list_caches, update_cache, delete_cache
    cache = create_cache(client, "gemini-2.5-flash", ["The lecture:", lecture_pdf],
                         system="You answer questions about the lecture.", ttl="1h")
    client.generate("gemini-2.5-flash", "Summarise part 2", cached_content=cache.name)
    update_cache(client, cache, ttl="2h")
    [c.name for c in list_caches(client)], cache.expires_in
    delete_cache(client, cache)

Contents and the system instruction are converted exactly as a prompt's are (`client.prepare`: kernel
objects become parts, large ones are uploaded). Before anything is created the contents are counted
(`countTokens`), and a cache below the model's minimum size is refused at once (the service would
answer 400 "Cached content is too small"). A cache serves only the model it was made for.
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import SettingsError
from ..request.body import model_path
from ..request.durations import to_duration

# The smallest cache each model accepts, in tokens (the caching guide; the service's 400 names the
# same numbers: "min_total_token_count=1024" for Flash, 4096 for Pro). Models not listed: by family.
MINIMUM_CACHE_TOKENS = {
    "gemini-2.5-flash": 1024,
    "gemini-2.5-flash-lite": 1024,
    "gemini-2.0-flash": 1024,
    "gemini-flash-latest": 1024,
    "gemini-3-flash-preview": 1024,
    "gemini-2.5-pro": 4096,
    "gemini-3-pro-preview": 4096,
}
FLASH_MINIMUM, PRO_MINIMUM = 1024, 4096
_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")


def minimum_cache_tokens(model: str) -> int:
    """The smallest cache `model` accepts, in tokens: from MINIMUM_CACHE_TOKENS, else 4,096 for Pro
    models and 1,024 for the others."""
    name = model.split("/", 1)[-1]
    if name in MINIMUM_CACHE_TOKENS:
        return MINIMUM_CACHE_TOKENS[name]
    return PRO_MINIMUM if "pro" in name.lower() else FLASH_MINIMUM


def parse_time(text: Any) -> datetime.datetime | None:
    """An RFC 3339 timestamp of the API (nanoseconds allowed) as an aware UTC datetime; None when absent."""
    if not text:
        return None
    match = _TIMESTAMP.match(str(text))
    if not match:
        return None
    zone = match.group(3) or "Z"
    moment = datetime.datetime.fromisoformat(match.group(1) + ("+00:00" if zone == "Z" else zone))
    micros = int((match.group(2) or "0")[:6].ljust(6, "0"))
    return moment.replace(microsecond=micros).astimezone(datetime.timezone.utc)


def format_time(moment: datetime.datetime) -> str:
    """A datetime as the API's RFC 3339 text in UTC (a naive datetime is taken as local time)."""
    if not isinstance(moment, datetime.datetime):
        raise SettingsError(f"expire_time must be a datetime, not {type(moment).__name__}; or give ttl= "
                            "as a duration such as \"2h\".")
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class CachedContent:
    """A cached content as the service describes it.

    `name` ("cachedContents/..."), `model` (bare id, e.g. "gemini-2.5-flash"), `display_name`,
    `total_tokens` (what the cache holds), `create_time`, `update_time`, `expire_time` (aware UTC
    datetimes), `raw` (the JSON). `expires_in`: seconds left (0 once expired)."""

    name: str
    model: str = ""
    display_name: str = ""
    total_tokens: int | None = None
    create_time: datetime.datetime | None = None
    update_time: datetime.datetime | None = None
    expire_time: datetime.datetime | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict) -> "CachedContent":
        usage = data.get("usageMetadata") or {}
        tokens = usage.get("totalTokenCount")
        return cls(name=data.get("name", ""), model=str(data.get("model", "")).split("/", 1)[-1],
                   display_name=data.get("displayName", "") or "",
                   total_tokens=int(tokens) if tokens is not None else None,
                   create_time=parse_time(data.get("createTime")), update_time=parse_time(data.get("updateTime")),
                   expire_time=parse_time(data.get("expireTime")), raw=data)

    @property
    def expires_in(self) -> float:
        """Seconds until the service forgets this cache (0.0 once expired; inf when no time is known)."""
        if self.expire_time is None:
            return float("inf")
        return max(0.0, self.expire_time.timestamp() - time.time())

    @property
    def expired(self) -> bool:
        return self.expires_in == 0.0

    def check_model(self, model: str) -> None:
        """Raise SettingsError unless `model` is the one this cache was made for (the service refuses
        other models with a 400)."""
        asked = model.split("/", 1)[-1]
        if self.model and asked != self.model:
            raise SettingsError(f"The cache {self.name} was made for {self.model}, not {asked}: ask {self.model} "
                                f"with it, or create a cache for {asked}.")

    def __str__(self) -> str:
        return self.name


def cache_name(cache: Any) -> str:
    """"cachedContents/abc" from a CachedContent, "cachedContents/abc" or "abc".

    Raises SettingsError for anything else."""
    if isinstance(cache, CachedContent):
        return cache.name
    if isinstance(cache, str) and cache.strip():
        name = cache.strip()
        if name.startswith("cachedContents/") and name.count("/") == 1 and len(name) > len("cachedContents/"):
            return name
        if "/" not in name:
            return f"cachedContents/{name}"
    raise SettingsError(f"{cache!r} is not a cached content: pass what create_cache returned or its name, "
                        "like \"cachedContents/abc123\".")


def create_cache(client, model: str, contents: Any, system: Any = None, ttl: Any = "3600s",
                 display_name: str | None = None, *, expire_time: datetime.datetime | None = None,
                 tools: list | None = None, tool_config: dict | None = None, check_size: bool = True,
                 upload_progress: Any = None) -> CachedContent:
    """Cache `contents` (and a `system` instruction) for `model`; returns the CachedContent.

    `contents` and `system` take what a prompt takes (text, kernel objects, parts, Content dicts) and
    are converted the same way (large objects are uploaded). `ttl`: how long the cache lives ("1h",
    "90m", "3600s", or seconds; default one hour); or `expire_time` (a datetime) instead. With
    `check_size` (default) the contents are counted first (one countTokens call) and a cache below the
    model's minimum (`minimum_cache_tokens`) is refused before it is sent.

    Raises SettingsError (bad ttl, too few tokens, bad model), ConversionError (an object that cannot
    be sent), APIError from the service."""
    lifetime = to_duration(ttl) if expire_time is None else None  # a bad ttl: refused before any upload
    turn = client.prepare(model, contents, system=system, upload_progress=upload_progress)
    if check_size:
        counted = client.count_tokens(turn.model, request=turn).total
        minimum = minimum_cache_tokens(turn.model)
        if counted < minimum:
            raise SettingsError(
                f"The contents to cache come to {counted:,} token{'s' if counted != 1 else ''}, below the model's "
                f"minimum token count for caching ({minimum:,} for {turn.model}): add more content, or send it "
                "with the prompt instead of caching it.")
    body: dict[str, Any] = {"model": model_path(turn.model), "contents": turn.body["contents"]}
    if "systemInstruction" in turn.body:
        body["systemInstruction"] = turn.body["systemInstruction"]
    if tools:
        body["tools"] = tools
    if tool_config:
        body["toolConfig"] = tool_config
    if expire_time is not None:
        body["expireTime"] = format_time(expire_time)
    else:
        body["ttl"] = lifetime
    if display_name:
        body["displayName"] = str(display_name)
    return CachedContent.from_json(client.request("POST", "cachedContents", json=body))


def get_cache(client, cache: Any) -> CachedContent:
    """The cache as the service describes it now. Raises PermissionDeniedError when it does not
    exist or has expired (the service answers 403 for both)."""
    return CachedContent.from_json(client.request("GET", cache_name(cache)))


def list_caches(client, page_size: int = 100) -> list[CachedContent]:
    """Every cache of this API key that has not expired (all pages)."""
    return [CachedContent.from_json(item) for item in client.paginate("cachedContents", "cachedContents", page_size)]


def update_cache(client, cache: Any, ttl: Any = None, *, expire_time: datetime.datetime | None = None) -> CachedContent:
    """Give a cache a new lifetime: `ttl` from now ("2h", "90m", seconds) or an `expire_time`
    (a datetime). Only the expiration of a cache can change. Returns the updated CachedContent.

    Raises SettingsError unless exactly one of ttl and expire_time is given; APIError from the service."""
    if (ttl is None) == (expire_time is None):
        raise SettingsError("Give update_cache either ttl= (such as \"2h\") or expire_time= (a datetime), "
                            "one of the two.")
    if ttl is not None:
        body, mask = {"ttl": to_duration(ttl)}, "ttl"
    else:
        body, mask = {"expireTime": format_time(expire_time)}, "expireTime"
    data = client.request("PATCH", cache_name(cache), json=body, params={"updateMask": mask})
    return CachedContent.from_json(data)


def delete_cache(client, cache: Any) -> None:
    """Delete a cache now (it stops costing storage). Raises PermissionDeniedError when it does not
    exist or has already expired."""
    client.request("DELETE", cache_name(cache))
