"""The emulator's rate limits, latency, Batch API and embeddings, observed on the wire (http.client only)."""

from __future__ import annotations

import json
import math
import time

import pytest

from gemini_emulator import Emulator

try:
    from .test_emulator_support import GENERATE, KEY, answer_text, call, text_request
except ImportError:
    from test_emulator_support import GENERATE, KEY, answer_text, call, text_request

from conftest import recording

BATCH = "/v1beta/models/gemini-2.5-flash:batchGenerateContent"
EMBED = "/v1beta/models/gemini-embedding-001:embedContent"
BATCH_EMBED = "/v1beta/models/gemini-embedding-001:batchEmbedContents"


@pytest.fixture
def emu():
    with Emulator() as emulator:
        yield emulator


def inline_batch(prompts, keys=None, display_name="rows"):
    entries = []
    for number, prompt in enumerate(prompts):
        entry = {"request": text_request(prompt)}
        if keys is not None:
            entry["metadata"] = {"key": keys[number]}
        entries.append(entry)
    return {"batch": {"displayName": display_name, "inputConfig": {"requests": {"requests": entries}}}}


def get(emu, name):
    reply = call(emu, "GET", f"/v1beta/{name}")
    assert reply.status == 200, reply.body
    return reply.json


# -- rate limits and latency ---------------------------------------------------------------------

def test_per_minute_limit_answers_the_services_429_with_quota_and_retry_info(emu):
    emu.set_rate_limit(rpm=60)  # one a second, a burst of one
    assert call(emu, "POST", GENERATE, text_request()).status == 200
    reply = call(emu, "POST", GENERATE, text_request())
    assert reply.status == 429
    error = reply.error()
    assert error["status"] == "RESOURCE_EXHAUSTED" and "exceeded your current quota" in error["message"]
    assert [d["@type"].rsplit(".", 1)[1] for d in error["details"]] == ["QuotaFailure", "Help", "RetryInfo"]
    violation = error["details"][0]["violations"][0]
    assert violation["quotaId"] == "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
    assert violation["quotaValue"] == "60" and violation["quotaDimensions"]["model"] == "gemini-2.5-flash"
    delay = error["details"][2]["retryDelay"]
    assert delay.endswith("s") and 0 < float(delay[:-1]) <= 1.0
    # the shape of the real body, key for key (recordings/errors/issue_429_*)
    real = json.loads(recording("errors/issue_429_RESOURCE_EXHAUSTED_QuotaFailure_Help_RetryInfo.json").read_text())
    assert error.keys() == real["error"].keys()
    assert error["details"][0]["violations"][0].keys() == real["error"]["details"][0]["violations"][0].keys()
    assert error["details"][1] == real["error"]["details"][1]
    time.sleep(float(delay[:-1]) + 0.02)
    assert call(emu, "POST", GENERATE, text_request()).status == 200  # the delay it gave was enough


def test_per_minute_limit_is_a_steady_rate_per_model(emu):
    emu.set_rate_limit(rpm=600)  # 10 a second, burst of 10
    codes = [call(emu, "POST", GENERATE, text_request()).status for _ in range(14)]
    assert codes[:10] == [200] * 10 and 429 in codes[10:]
    other = "/v1beta/models/gemini-2.0-flash:generateContent"
    assert call(emu, "POST", other, text_request()).status == 200  # counted per model
    assert call(emu, "POST", "/v1beta/models/gemini-2.5-flash:countTokens",
                {"contents": text_request()["contents"]}).status == 200  # only generate requests count
    assert emu.describe()["rate_limited"] >= 1


def test_per_day_limit_says_per_day_and_reset_restores(emu):
    emu.set_rate_limit(rpd=2)
    assert [call(emu, "POST", GENERATE, text_request()).status for _ in range(3)] == [200, 200, 429]
    reply = call(emu, "POST", GENERATE, text_request())
    assert "PerDay" in reply.error()["details"][0]["violations"][0]["quotaId"]
    emu.reset()
    assert call(emu, "POST", GENERATE, text_request()).status == 200


def test_limits_and_latency_over_the_control_endpoint(emu):
    reply = call(emu, "POST", "/emulator/config", {"rate_limit_rpm": 60, "latency": 0.15}, key=None)
    assert reply.status == 200 and reply.json["rate_limit_rpm"] == 60 and reply.json["latency"] == 0.15
    started = time.monotonic()
    assert call(emu, "POST", GENERATE, text_request()).status == 200
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    assert call(emu, "POST", GENERATE, text_request()).status == 429
    assert time.monotonic() - started < 0.15  # refused at once, before the latency
    call(emu, "POST", "/emulator/config", {"rate_limit_rpm": None, "latency": 0}, key=None)
    assert [call(emu, "POST", GENERATE, text_request()).status for _ in range(3)] == [200] * 3


def test_answers_echo_each_rows_prompt(emu):
    for prompt in ("Classify: great kettle (5 stars)", "Classify: broke in a day (1 stars)"):
        text = answer_text(call(emu, "POST", GENERATE, text_request(prompt)).json)
        assert f'"{prompt}"' in text


# -- Batch API --------------------------------------------------------------------------------------

def test_inline_batch_goes_pending_running_succeeded_with_string_counts(emu):
    reply = call(emu, "POST", BATCH, inline_batch(["Capital of France?", "Capital of Japan?"], keys=["fr", "jp"]))
    assert reply.status == 200
    job = reply.json
    assert job["name"].startswith("batches/") and "done" not in job
    meta = job["metadata"]
    assert meta["@type"].endswith(".GenerateContentBatch") and meta["model"] == "models/gemini-2.5-flash"
    assert meta["state"] == "BATCH_STATE_PENDING" and meta["displayName"] == "rows"
    assert meta["batchStats"] == {"requestCount": "2", "pendingRequestCount": "2"}
    assert meta["createTime"].endswith("Z") and len(meta["createTime"].split(".")[1]) == 10  # nanoseconds + Z
    running = get(emu, job["name"])
    assert running["metadata"]["state"] == "BATCH_STATE_RUNNING" and "done" not in running
    done = get(emu, job["name"])
    assert done["done"] is True and done["metadata"]["state"] == "BATCH_STATE_SUCCEEDED"
    assert done["metadata"]["batchStats"] == {"requestCount": "2", "successfulRequestCount": "2"}
    assert "endTime" in done["metadata"]
    assert done["response"]["@type"].endswith(".GenerateContentBatchOutput")
    inlined = done["response"]["inlinedResponses"]["inlinedResponses"]
    assert [item["metadata"]["key"] for item in inlined] == ["fr", "jp"]
    assert '"Capital of France?"' in answer_text(inlined[0]["response"])
    assert '"Capital of Japan?"' in answer_text(inlined[1]["response"])
    assert done["metadata"]["output"]["inlinedResponses"] == done["response"]["inlinedResponses"]


def test_finished_job_has_the_recorded_shape(emu):
    job = call(emu, "POST", BATCH, inline_batch(["a", "b", "c"])).json
    get(emu, job["name"])
    done = get(emu, job["name"])
    real = json.loads(recording("batch/lc4j_batch_SUCCEEDED_inline.json").read_text())
    assert set(real) <= set(done) and set(real["metadata"]) <= set(done["metadata"])
    assert set(real["response"]) <= set(done["response"])
    ours = done["response"]["inlinedResponses"]["inlinedResponses"][0]
    theirs = real["response"]["inlinedResponses"]["inlinedResponses"][0]
    assert ours.keys() == theirs.keys() == {"response"}  # no keys given: no metadata
    running = json.loads(recording("batch/cn_batch_RUNNING.json").read_text())
    assert get(emu, call(emu, "POST", BATCH, inline_batch(["x"])).json["name"]) and \
        set(running["metadata"]) <= set(get(emu, job["name"])["metadata"]) | {"endTime"}


def test_a_request_the_service_refuses_becomes_that_rows_error(emu):
    body = inline_batch(["fine"], keys=["ok"])
    body["batch"]["inputConfig"]["requests"]["requests"].append(
        {"request": {"contents": [{"role": "robot", "parts": [{"text": "x"}]}]}, "metadata": {"key": "bad"}})
    name = call(emu, "POST", BATCH, body).json["name"]
    get(emu, name)
    done = get(emu, name)
    assert done["metadata"]["batchStats"] == {"requestCount": "2", "successfulRequestCount": "1",
                                              "failedRequestCount": "1"}
    bad = done["response"]["inlinedResponses"]["inlinedResponses"][1]
    assert bad["metadata"] == {"key": "bad"} and bad["error"]["code"] == 400 and "role" in bad["error"]["message"]


def upload(emu, data: bytes, name="input.jsonl") -> str:
    start = call(emu, "POST", "/upload/v1beta/files", {"file": {"displayName": name}},
                 headers={"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
                          "X-Goog-Upload-Header-Content-Length": str(len(data)),
                          "X-Goog-Upload-Header-Content-Type": "application/jsonl"})
    url = start.headers["x-goog-upload-url"].split(str(emu.port), 1)[1]
    final = call(emu, "POST", url, raw=data, headers={"X-Goog-Upload-Command": "upload, finalize",
                                                       "X-Goog-Upload-Offset": "0"})
    return final.json["file"]["name"]


def test_file_input_gives_a_responses_file_downloadable_with_alt_media(emu):
    lines = [json.dumps({"key": f"k{n}", "request": text_request(f"prompt number {n}")}) for n in range(3)]
    name = upload(emu, ("\n".join(lines) + "\n").encode())
    job = call(emu, "POST", BATCH, {"batch": {"displayName": "file", "inputConfig": {"fileName": name}}}).json
    get(emu, job["name"])
    done = get(emu, job["name"])
    results_file = done["response"]["responsesFile"]
    assert results_file.startswith("files/") and done["metadata"]["output"]["responsesFile"] == results_file
    file_id = results_file.split("/", 1)[1]
    assert call(emu, "GET", f"/download/v1beta/files/{file_id}:download").status == 400  # alt=media needed
    assert call(emu, "GET", f"/download/v1beta/files/{file_id}:download?alt=media", key=None).status == 403
    reply = call(emu, "GET", f"/download/v1beta/files/{file_id}:download?alt=media")
    assert reply.status == 200
    rows = [json.loads(line) for line in reply.body.decode().splitlines()]
    assert [row["key"] for row in rows] == ["k0", "k1", "k2"]
    assert list(rows[0]) == ["response", "key"]  # compact, key after response, as recorded
    assert reply.body.decode().splitlines()[0].startswith('{"response":{')
    assert all(f'"prompt number {n}"' in answer_text(row["response"]) for n, row in enumerate(rows))


def test_list_cancel_delete_and_forced_states(emu):
    first = call(emu, "POST", BATCH, inline_batch(["a"])).json["name"]
    second = call(emu, "POST", BATCH, inline_batch(["b"])).json["name"]
    listing = call(emu, "GET", "/v1beta/batches").json
    assert [op["name"] for op in listing["operations"]] == [second, first]  # newest first
    assert all(op["metadata"]["state"] == "BATCH_STATE_PENDING" for op in listing["operations"])  # list does not advance
    page = call(emu, "GET", "/v1beta/batches?pageSize=1").json
    assert len(page["operations"]) == 1 and page["nextPageToken"]
    assert call(emu, "POST", f"/v1beta/{first}:cancel").json == {}
    cancelled = get(emu, first)
    assert cancelled["metadata"]["state"] == "BATCH_STATE_CANCELLED" and cancelled["done"] is True
    assert "response" not in cancelled
    for state in ("FAILED", "EXPIRED"):
        forced = emu.set_batch_state(second, state)
        assert forced["metadata"]["state"] == f"BATCH_STATE_{state}" and forced["done"] is True
    assert "error" in get(emu, second) or get(emu, second)["metadata"]["state"] == "BATCH_STATE_EXPIRED"
    reply = call(emu, "POST", "/emulator/batches", {"name": second, "state": "FAILED"}, key=None)
    assert reply.status == 200 and reply.json["error"]["message"]
    assert call(emu, "POST", "/emulator/batches", {"name": second, "state": "ASLEEP"}, key=None).status == 400
    assert call(emu, "DELETE", f"/v1beta/{second}").json == {}
    gone = call(emu, "GET", f"/v1beta/{second}")
    assert gone.status == 404 and gone.error()["status"] == "NOT_FOUND"


def test_states_can_advance_with_time():
    with Emulator(batch_step_seconds=0.2) as emu:
        name = call(emu, "POST", BATCH, inline_batch(["a"])).json["name"]
        assert get(emu, name)["metadata"]["state"] == "BATCH_STATE_PENDING"
        time.sleep(0.45)
        assert get(emu, name)["metadata"]["state"] == "BATCH_STATE_SUCCEEDED"


def test_batch_create_refusals(emu):
    assert call(emu, "POST", BATCH, {"batch": {"inputConfig": {}}}).status == 400
    assert call(emu, "POST", BATCH, {"batch": {"inputConfig": {"requests": {"requests": []}}}}).status == 400
    assert call(emu, "POST", BATCH, {"batch": {"bogus": 1, "inputConfig": {}}}).error()["message"].startswith(
        "Invalid JSON payload received. Unknown name \"bogus\"")
    assert call(emu, "POST", "/v1beta/models/gemini-embedding-001:batchGenerateContent",
                inline_batch(["a"])).status == 404
    assert call(emu, "POST", BATCH, {"batch": {"inputConfig": {"fileName": "files/nope"}}}).status == 403
    assert call(emu, "POST", BATCH, inline_batch(["a"]), key=None).status == 403


# -- embeddings -------------------------------------------------------------------------------------

def embed_request(text, **extra):
    return {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": text}]}, **extra}


def norm(values):
    return math.sqrt(sum(v * v for v in values))


def test_embed_content_is_a_deterministic_unit_vector_of_3072(emu):
    one = call(emu, "POST", EMBED, embed_request("hello")).json
    again = call(emu, "POST", EMBED, embed_request("hello")).json
    other = call(emu, "POST", EMBED, embed_request("hello", taskType="RETRIEVAL_QUERY")).json
    values = one["embedding"]["values"]
    assert list(one) == ["embedding"] and len(values) == 3072 and abs(norm(values) - 1) < 1e-6
    assert again == one and other != one


def test_reduced_dimensions_are_the_prefix_not_renormalised_as_recorded(emu):
    full = call(emu, "POST", EMBED, embed_request("hello"))
    small = call(emu, "POST", EMBED, embed_request("hello", outputDimensionality=768)).json["embedding"]["values"]
    assert len(small) == 768 and small == pytest.approx(full.json["embedding"]["values"][:768], rel=1e-6)
    real = json.loads(recording("models_tokens_embed_cache/llmgemini_batchEmbedContents_768.json").read_text())
    real_norm = norm(real["embeddings"][0]["values"])
    assert 0.3 < norm(small) < 0.8 and 0.3 < real_norm < 0.8  # neither is a unit vector
    assert full.body.decode().startswith('{\n  "embedding": {\n    "values": [\n      ')  # one value a line


def test_batch_embed_contents_in_order_and_at_most_100(emu):
    body = {"requests": [embed_request(t, outputDimensionality=8) for t in ("a", "b", "a")]}
    reply = call(emu, "POST", BATCH_EMBED, body)
    vectors = [e["values"] for e in reply.json["embeddings"]]
    assert len(vectors) == 3 and all(len(v) == 8 for v in vectors) and vectors[0] == vectors[2] != vectors[1]
    real = recording("models_tokens_embed_cache/llmgemini_batchEmbedContents_768.json").read_text()
    assert reply.body.decode().split("[")[0] == real.split("[")[0]  # '{\n  "embeddings": '
    too_many = call(emu, "POST", BATCH_EMBED, {"requests": [embed_request("x")] * 101})
    assert too_many.status == 400
    assert too_many.error()["message"] == "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n"
    assert call(emu, "POST", BATCH_EMBED, {"requests": [embed_request("x")] * 100}).status == 200


def test_embedding_refusals(emu):
    assert call(emu, "POST", "/v1beta/models/gemini-2.5-flash:embedContent", embed_request("x")).status == 404
    mismatch = {"requests": [dict(embed_request("x"), model="models/other")]}
    assert call(emu, "POST", BATCH_EMBED, mismatch).status == 400
    assert call(emu, "POST", EMBED, embed_request("x", outputDimensionality=0)).status == 400
    assert call(emu, "POST", EMBED, embed_request("x", taskType="DREAMING")).status == 400
    assert call(emu, "POST", EMBED, {"content": {"parts": []}}).status == 400
    emu.inject("status", match="embed", code=503)
    assert call(emu, "POST", EMBED, embed_request("x")).status == 503
    assert call(emu, "POST", EMBED, embed_request("x")).status == 200


# -- embedding batches and the tokens-a-minute limit ---------------------------------------------------

ASYNC_EMBED = "/v1beta/models/gemini-embedding-001:asyncBatchEmbedContent"


def test_embedding_batch_job_states_and_inlined_embed_responses(emu):
    entries = [{"request": {"content": {"parts": [{"text": text}]}, "outputDimensionality": 3},
                "metadata": {"key": f"k{n}"}} for n, text in enumerate(["alpha", "beta gamma"])]
    reply = call(emu, "POST", ASYNC_EMBED, {"batch": {"displayName": "emb", "inputConfig": {
        "requests": {"requests": entries}}}})
    assert reply.status == 200, reply.body
    job = reply.json
    assert job["metadata"]["@type"].endswith("v1main.EmbedContentBatch") and job["metadata"]["state"] == \
        "BATCH_STATE_PENDING" and job["metadata"]["model"] == "models/gemini-embedding-001"
    assert get(emu, job["name"])["metadata"]["state"] == "BATCH_STATE_RUNNING"
    done = get(emu, job["name"])
    assert done["done"] is True and done["response"]["@type"].endswith("EmbedContentBatchOutput")
    items = done["metadata"]["output"]["inlinedEmbedContentResponses"]["inlinedResponses"]
    assert [item["metadata"]["key"] for item in items] == ["k0", "k1"]
    assert items[1]["response"]["tokenCount"] == "3" and len(items[1]["response"]["embedding"]["values"]) == 3
    online = call(emu, "POST", EMBED, {"content": {"parts": [{"text": "beta gamma"}]}, "outputDimensionality": 3})
    assert items[1]["response"]["embedding"]["values"] == online.json["embedding"]["values"]
    assert call(emu, "POST", "/v1beta/models/gemini-2.5-flash:asyncBatchEmbedContent",
                {"batch": {"inputConfig": {"requests": {"requests": entries}}}}).status == 404


def test_tokens_a_minute_limit_refuses_embedding_calls_past_it(emu):
    emu.set_rate_limit(tpm=60)  # one token a second, a bucket of one
    body = {"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "x" * 40}]}}]}
    assert call(emu, "POST", BATCH_EMBED, body).status == 200  # 10 tokens: admitted on a full bucket, a debt of 9
    refused = call(emu, "POST", BATCH_EMBED, body)
    assert refused.status == 429 and refused.json["error"]["status"] == "RESOURCE_EXHAUSTED"
    details = refused.json["error"]["details"]
    assert details[0]["violations"][0]["quotaId"].startswith("EmbedContentInputTokensPerMinute")
    assert 8 <= float(details[-1]["retryDelay"].rstrip("s")) <= 10  # the debt, paid back at one a second
    assert call(emu, "POST", GENERATE, text_request("hi")).status == 200  # generate is not counted in tokens
    assert emu.describe()["rate_limit_tpm"] == 60
