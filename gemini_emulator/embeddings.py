"""``embedContent`` and ``batchEmbedContents``: deterministic vectors, the service's checks.

Shapes (recordings/models_tokens_embed_cache/llmgemini_batchEmbedContents_768.json): one answer is
``{"embedding": {"values": [...]}}``, a batch answer ``{"embeddings": [{"values": [...]}, ...]}``
in request order. A vector depends only on the text, the task type and the title: the full
3072-value vector has norm 1, and ``outputDimensionality: d`` answers its first ``d`` values,
NOT renormalised - as the recording shows (its 768 values have norm 0.57) and the API notes say
(reduced gemini-embedding-001 vectors are not normalised; clients normalise them).
A batch holds at most 100 requests (the service's message, quoted in langchain-ai/langchainjs#4491).
"""

from __future__ import annotations

import hashlib
import math
import operator
import struct

from gemini_magic.constants import MODEL_CATALOGUE

from .errors import ApiError, bad_request
from .validation import camel, pick

FULL_DIMENSIONS = 3072
MAX_BATCH = 100
TASK_TYPES = ("TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY",
              "CLASSIFICATION", "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY")
REQUEST_FIELDS = {"model", "content", "taskType", "title", "outputDimensionality"}


def check_model(model: str) -> None:
    """404 like the service for a model that does not embed."""
    for row in MODEL_CATALOGUE:
        if row[0] == model and "embedContent" in row[4]:
            return
    raise ApiError(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                        "embedContent. Call ListModels to see the list of available models and their "
                        "supported methods.")


def embed_one(body: dict, model: str, path: str = "") -> dict:
    """The ``{"embedding": {"values": [...]}}`` answer to one EmbedContentRequest."""
    for key in body:
        if camel(key) not in REQUEST_FIELDS:
            raise bad_request(f'Invalid JSON payload received. Unknown name "{key}"{path and " at " + repr(path)}: '
                              "Cannot find field.")
    named = pick(body, "model")
    if named is not None and named not in (model, f"models/{model}"):
        raise bad_request(f"Model name mismatch: the request names {named!r} but the URL names models/{model}.",
                          [(f"{path}model" if path else "model", "must match the model in the URL")])
    text = _text(pick(body, "content"), path)
    task = pick(body, "taskType") or "TASK_TYPE_UNSPECIFIED"
    if task not in TASK_TYPES:
        raise bad_request(f"Invalid value at '{path}task_type' (type.googleapis.com/google.ai.generativelanguage."
                          f"v1beta.TaskType), \"{task}\"", [(f"{path}task_type", f"Invalid value \"{task}\"")])
    size = pick(body, "outputDimensionality")
    if size is None:
        size = FULL_DIMENSIONS
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= FULL_DIMENSIONS:
        raise bad_request(f"* EmbedContentRequest.output_dimensionality: must be between 1 and {FULL_DIMENSIONS}\n",
                          [(f"{path}output_dimensionality", f"must be between 1 and {FULL_DIMENSIONS}")])
    title = pick(body, "title") or ""
    return {"embedding": {"values": vector(text, task, title, size)}}


def embed_batch(body: dict, model: str) -> dict:
    """The ``{"embeddings": [...]}`` answer to a BatchEmbedContentsRequest (at most 100 requests)."""
    for key in body:
        if camel(key) != "requests":
            raise bad_request(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
    requests = pick(body, "requests")
    if not isinstance(requests, list) or not requests:
        raise bad_request("* BatchEmbedContentsRequest.requests: contents is not specified\n",
                          [("requests", "contents is not specified")])
    if len(requests) > MAX_BATCH:
        raise bad_request(f"* BatchEmbedContentsRequest.requests: at most {MAX_BATCH} requests can be in one batch\n",
                          [("requests", f"at most {MAX_BATCH} requests can be in one batch")])
    answers = []
    for index, request in enumerate(requests):
        if not isinstance(request, dict):
            raise bad_request(f"Invalid value at 'requests[{index}]': a request must be an object.")
        answers.append(embed_one(request, model, f"requests[{index}].")["embedding"])
    return {"embeddings": answers}


def tokens(body: dict, single: bool) -> int:
    """The tokens of a checked EmbedContentRequest (`single`) or BatchEmbedContentsRequest, by the
    emulator's token rule (answers.text_tokens per text); 0 for a body that is not one (its 400
    comes when it is answered)."""
    from .answers import text_tokens

    try:
        requests = [body] if single else pick(body, "requests")
        return sum(text_tokens(_text(pick(request, "content"), "")) for request in requests)
    except (ApiError, TypeError, AttributeError):
        return 0


def vector(text: str, task: str, title: str, size: int) -> list[float]:
    """The first `size` values of a deterministic unit vector of FULL_DIMENSIONS values."""
    seed = "\x1f".join((task, title, text)).encode("utf-8")
    raw = hashlib.shake_256(seed).digest(2 * FULL_DIMENSIONS)
    values = struct.unpack(f"<{FULL_DIMENSIONS}h", raw)  # 16-bit: squares stay small ints, summed fast
    scale = 1.0 / (math.sqrt(sum(map(operator.mul, values, values))) or 1.0)
    return [v * scale for v in values[:size]]


def encode(answer: dict) -> bytes:
    """An answer as the service prints it (2-space indent, one value a line, 8 significant digits),
    written directly: ``json.dumps(indent=2)`` takes seconds for 100 vectors of 3072 values."""
    def one(item: dict, pad: str) -> str:
        values = f",\n{pad}    ".join(map(_FORMAT, item["values"]))
        return f'{pad}{{\n{pad}  "values": [\n{pad}    {values}\n{pad}  ]\n{pad}}}'

    if "embedding" in answer:
        return ('{\n  "embedding": ' + one(answer["embedding"], "  ").lstrip() + "\n}\n").encode("ascii")
    items = ",\n".join(one(item, "    ") for item in answer["embeddings"])
    return ('{\n  "embeddings": [\n' + items + "\n  ]\n}\n").encode("ascii")


_FORMAT = "{:.8g}".format


def _text(content, path: str) -> str:
    if not isinstance(content, dict) or not isinstance(pick(content, "parts"), list) or not pick(content, "parts"):
        raise bad_request(f"* EmbedContentRequest.{path}content: contents is not specified\n",
                          [(f"{path}content", "contents is not specified")])
    texts = []
    for part in pick(content, "parts"):
        if not isinstance(part, dict) or not isinstance(part.get("text"), str):
            raise bad_request(f"* EmbedContentRequest.{path}content.parts: only text parts can be embedded "
                              "by this model\n", [(f"{path}content.parts", "only text parts are supported")])
        texts.append(part["text"])
    return "".join(texts)
