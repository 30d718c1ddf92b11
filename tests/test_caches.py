"""Context caching over loopback: create → use → extend → delete, the emulator's service-shaped
refusals (too small, model mismatch, immutable fields, expiry), and the client's checks before sending."""

from __future__ import annotations

import datetime
import time

import pytest

from gemini_magic.api.caches import (CachedContent, cache_name, create_cache, delete_cache, get_cache, list_caches,
                                     minimum_cache_tokens, parse_time, update_cache)
from gemini_magic.errors import BadRequestError, PermissionDeniedError, SettingsError

FLASH = "gemini-2.5-flash"
LECTURE = "The lecture on tides. " + "The moon pulls the oceans and the water rises and falls twice a day. " * 80


def posts_to_caches(emulator) -> list:
    return [r for r in emulator.requests if r.method == "POST" and r.path.endswith("/cachedContents")]


def cache_used(client, cache, **options) -> dict:
    """What the emulator says it read from the cache, from the structured `cachedContent` field of a
    JSON answer (not from the prose note of a text answer)."""
    answer = client.generate(FLASH, "What is cached?", cached_content=cache.name,
                             response_mime_type="application/json", **options)
    return answer.json()["cachedContent"]


def test_create_use_extend_delete(client, emulator):
    cache = create_cache(client, FLASH, LECTURE, system="You answer questions about the lecture.", ttl="1h",
                         display_name="tides")
    assert cache.name.startswith("cachedContents/") and cache.model == FLASH and cache.display_name == "tides"
    sent = posts_to_caches(emulator)[0].json
    assert sent["model"] == "models/gemini-2.5-flash" and sent["ttl"] == "3600s" and sent["displayName"] == "tides"
    assert sent["systemInstruction"] == {"parts": [{"text": "You answer questions about the lecture."}]}
    assert cache.total_tokens == (len(LECTURE) + 3) // 4 + 10  # the emulator's rule: UTF-8 bytes / 4
    assert 3590 < cache.expires_in <= 3600 and not cache.expired

    answer = client.generate(FLASH, "Why are there two tides a day?", cached_content=cache.name)
    usage = answer.usage
    assert usage["cachedContentTokenCount"] == cache.total_tokens
    assert usage["promptTokenCount"] == cache.total_tokens + 8  # the cache counts inside the prompt
    assert usage["cacheTokensDetails"] == [{"modality": "TEXT", "tokenCount": cache.total_tokens}]
    assert cache_used(client, cache) == {
        "name": cache.name, "displayName": "tides", "model": "models/gemini-2.5-flash", "tokens": cache.total_tokens,
        "contents": 1, "firstWords": ["The lecture on tides. The moon pulls the ..."],
        "systemInstruction": "You answer questions about the lecture.", "attachments": [], "tools": 0}

    extended = update_cache(client, cache, ttl="2h")
    patch = emulator.requests[-1]
    assert patch.method == "PATCH" and patch.json == {"ttl": "7200s"} and patch.query == {"updateMask": "ttl"}
    assert 7190 < extended.expires_in <= 7200 and extended.update_time > cache.update_time
    assert extended.create_time == cache.create_time
    assert get_cache(client, cache.name).expire_time == extended.expire_time
    assert [c.name for c in list_caches(client)] == [cache.name]

    delete_cache(client, cache)
    assert list_caches(client) == []
    with pytest.raises(PermissionDeniedError, match=r"CachedContent not found \(or permission denied\)"):
        get_cache(client, cache)
    with pytest.raises(PermissionDeniedError):
        client.generate(FLASH, "Still there?", cached_content=cache.name)


def test_a_streamed_answer_reports_the_cached_tokens(client, emulator):
    cache = create_cache(client, FLASH, LECTURE)
    stream = client.stream(FLASH, "Summarise", cached_content=cache.name, response_mime_type="application/json")
    list(stream)
    assert stream.response.usage["cachedContentTokenCount"] == cache.total_tokens
    assert stream.response.json()["cachedContent"]["name"] == cache.name


def test_a_json_answer_names_the_cache_in_its_own_field(client, emulator):
    cache = create_cache(client, FLASH, LECTURE, display_name="tides")
    answer = client.generate(FLASH, "Summarise", cached_content=cache.name, response_mime_type="application/json")
    about = answer.json()["cachedContent"]
    assert about["name"] == cache.name and about["tokens"] == cache.total_tokens and about["displayName"] == "tides"


def test_objects_are_converted_exactly_as_in_prompts(client, emulator):
    from PIL import Image

    photo = Image.new("RGB", (64, 48), (200, 30, 30))
    contents = [LECTURE, photo, "End of the material."]
    expected = client.prepare(FLASH, contents, system="Be precise.").body
    cache = create_cache(client, FLASH, contents, system="Be precise.")
    sent = posts_to_caches(emulator)[0].json
    assert sent["contents"] == expected["contents"] and sent["systemInstruction"] == expected["systemInstruction"]
    assert sent["contents"][0]["parts"][1]["inlineData"]["mimeType"] == "image/png"
    answer = client.generate(FLASH, "What colour is the picture?", cached_content=cache.name)
    assert cache_used(client, cache)["attachments"] == ["PNG image, 64 x 48, mode RGB"]
    assert {"modality": "IMAGE", "tokenCount": 258} in answer.usage["cacheTokensDetails"]


def test_too_few_tokens_are_refused_before_anything_is_created(client, emulator):
    with pytest.raises(SettingsError) as caught:
        create_cache(client, FLASH, "A short note that is far too small to cache.")
    message = str(caught.value)
    assert "below the model's minimum token count for caching (1,024 for gemini-2.5-flash)" in message
    assert message.startswith("The contents to cache come to 11 tokens, below") and "add more content" in message
    assert posts_to_caches(emulator) == []  # counted, not sent
    assert [r.path for r in emulator.requests] == ["/v1beta/models/gemini-2.5-flash:countTokens"]


def test_the_service_refuses_a_small_cache_with_its_own_400(client, emulator):
    with pytest.raises(BadRequestError) as caught:
        create_cache(client, FLASH, "Too small.", check_size=False)
    assert str(caught.value).count("Cached content is too small. total_token_count=3, min_total_token_count=1024") == 1


def test_pro_models_need_bigger_caches(client, emulator):
    middle = "Words to cache for a while. " * 400  # about 2,800 tokens: enough for Flash, not for Pro
    assert create_cache(client, FLASH, middle).total_tokens > 1024
    with pytest.raises(SettingsError, match="4,096 for gemini-2.5-pro"):
        create_cache(client, "gemini-2.5-pro", middle)
    with pytest.raises(BadRequestError, match="min_total_token_count=4096"):
        create_cache(client, "gemini-2.5-pro", middle, check_size=False)
    assert [minimum_cache_tokens(m) for m in ("gemini-2.5-flash", "models/gemini-3-pro-preview", "gemini-9-pro-x",
                                               "gemini-9-flash-x")] == [1024, 4096, 4096, 1024]


def test_a_model_mismatch_is_refused(client, emulator):
    cache = create_cache(client, FLASH, LECTURE)
    with pytest.raises(BadRequestError) as caught:
        client.generate("gemini-2.5-pro", "Summarise", cached_content=cache.name)
    assert "Model used by GenerateContent request (models/gemini-2.5-pro) and CachedContent " \
           "(models/gemini-2.5-flash) has to be the same." in str(caught.value)
    with pytest.raises(SettingsError, match="was made for gemini-2.5-flash, not gemini-2.5-pro: ask gemini-2.5-flash"):
        cache.check_model("gemini-2.5-pro")
    cache.check_model("models/gemini-2.5-flash")  # the same model passes


def test_a_request_with_its_own_system_instruction_cannot_use_a_cache(client, emulator):
    cache = create_cache(client, FLASH, LECTURE)
    with pytest.raises(BadRequestError, match="move those values to CachedContent"):
        client.generate(FLASH, "Summarise", cached_content=cache.name, system="Be brief.")


def test_only_the_expiration_can_change(client, emulator):
    cache = create_cache(client, FLASH, LECTURE)
    with pytest.raises(BadRequestError, match="display_name cannot be updated"):
        client.request("PATCH", cache.name, json={"displayName": "renamed"})
    with pytest.raises(BadRequestError, match="model cannot be updated"):
        client.request("PATCH", cache.name, json={"ttl": "60s"}, params={"updateMask": "ttl,model"})
    with pytest.raises(BadRequestError, match="Invalid value at 'cached_content.ttl'"):
        client.request("PATCH", cache.name, json={"ttl": "1h"})
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=5)
    moved = update_cache(client, cache, expire_time=later)
    assert emulator.requests[-1].query == {"updateMask": "expireTime"}
    assert abs((moved.expire_time - later).total_seconds()) < 0.01
    for arguments in ({}, {"ttl": "1h", "expire_time": later}):
        with pytest.raises(SettingsError, match="either ttl= .* or expire_time="):
            update_cache(client, cache, **arguments)


def test_a_cache_expires(client, emulator):
    cache = create_cache(client, FLASH, LECTURE, ttl=0.4)
    assert posts_to_caches(emulator)[0].json["ttl"] == "0.400s"
    assert get_cache(client, cache).name == cache.name
    time.sleep(0.5)
    assert cache.expired and cache.expires_in == 0.0
    with pytest.raises(PermissionDeniedError):
        get_cache(client, cache)
    assert list_caches(client) == []


def test_ttl_spellings_and_expire_time_reach_the_service_as_its_own_forms(client, emulator):
    create_cache(client, FLASH, LECTURE, ttl="90m")
    create_cache(client, FLASH, LECTURE, ttl=120)
    moment = datetime.datetime(2099, 1, 2, 3, 4, 5, 600000, tzinfo=datetime.timezone.utc)
    far = create_cache(client, FLASH, LECTURE, expire_time=moment)
    sent = [r.json for r in posts_to_caches(emulator)]
    assert [s.get("ttl") for s in sent] == ["5400s", "120s", None]
    assert sent[2]["expireTime"] == "2099-01-02T03:04:05.600000Z" and far.expire_time == moment
    with pytest.raises(SettingsError, match="Cannot read 'one hour' as a duration"):
        create_cache(client, FLASH, LECTURE, ttl="one hour")
    assert len(posts_to_caches(emulator)) == 3


def test_listing_follows_pages(client, emulator):
    made = [create_cache(client, FLASH, LECTURE, display_name=f"cache {n}").name for n in range(3)]
    emulator_requests_before = len(emulator.requests)
    found = list_caches(client, page_size=2)
    assert [c.name for c in found] == made and [c.display_name for c in found] == ["cache 0", "cache 1", "cache 2"]
    assert len(emulator.requests) - emulator_requests_before == 2


def test_cache_names_and_the_recorded_create_answer():
    import json

    from conftest import recording

    data = json.loads(recording("models_tokens_embed_cache/cookbook_cachedContents-create.json").read_text())
    cache = CachedContent.from_json(data)
    assert cache.name == "cachedContents/lf0nt062ulc1" and cache.model == "gemini-2.5-flash"
    assert cache.total_tokens == 323383 and cache.display_name == ""
    assert cache.expire_time == datetime.datetime(2024, 7, 11, 18, 7, 47, 635193, tzinfo=datetime.timezone.utc)
    assert cache.expired and str(cache) == cache.name
    assert cache_name(cache) == cache_name("lf0nt062ulc1") == cache_name("cachedContents/lf0nt062ulc1") == cache.name
    for bad in ("", "files/abc", "cachedContents/", None, 3):
        with pytest.raises(SettingsError, match="is not a cached content"):
            cache_name(bad)
    assert parse_time("2024-07-11T18:02:48Z").tzinfo is not None and parse_time(None) is None


def test_count_tokens_with_a_cache_counts_the_cached_tokens(client, emulator):
    cache = create_cache(client, FLASH, LECTURE)
    counted = client.count_tokens(FLASH, "Why are there two tides a day?", cached_content=cache.name)
    assert counted.cached == cache.total_tokens and counted.total == cache.total_tokens + 8
    sent = emulator.requests[-1].json
    assert sent["generateContentRequest"]["cachedContent"] == cache.name
    assert client.count_tokens(FLASH, "Why are there two tides a day?").cached == 0
    with pytest.raises(BadRequestError, match="has to be the same"):
        client.count_tokens("gemini-2.5-pro", "Why?", cached_content=cache.name)
