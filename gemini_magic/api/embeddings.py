"""Embeddings for many texts: `embed(client, texts, ...)` -> a float32 array of shape (N, D).

    from gemini_magic.api.embeddings import embed
    vectors = embed(client, reviews["text"], dimensions=768, task_type="CLASSIFICATION")
    vectors.shape          # (len(reviews), 768)

Texts go to `models/{model}:batchEmbedContents` in groups of at most 100 (the service refuses more:
"at most 100 requests can be in one batch"), several groups at a time, each retried by the
client's transport (429 with RetryInfo, 5xx). Vectors come back in input order.
gemini-embedding-001 returns unit vectors only at its full size (3072); reduced sizes
(`dimensions=768`, ...) are not normalised by the service: pass `normalize=True` to scale each row
to length 1 (what cosine similarity wants).
"""

from __future__ import annotations

import concurrent.futures
from typing import Any, Callable, Iterable

from ..request.body import model_path

DEFAULT_EMBEDDING_MODEL = "gemini-embedding-001"
MAX_BATCH = 100  # BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch
TASK_TYPES = ("RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY", "CLASSIFICATION", "CLUSTERING",
              "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY")


def embed_requests(texts: list[str], model: str, task_type: str | None = None, dimensions: int | None = None,
                   title: str | None = None) -> list[dict]:
    """The EmbedContentRequest of each text (pure). Raises ValueError for a bad task type or size."""
    if task_type is not None and task_type.upper() not in TASK_TYPES:
        raise ValueError(f"Unknown task_type {task_type!r}; use one of {', '.join(TASK_TYPES)}.")
    if dimensions is not None and (isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1):
        raise ValueError(f"dimensions must be a positive whole number (such as 768), not {dimensions!r}.")
    name = "models/" + model_path(model).split("/", 1)[-1]
    base: dict[str, Any] = {"model": name}
    if task_type:
        base["taskType"] = task_type.upper()
    if title:
        base["title"] = title
    if dimensions:
        base["outputDimensionality"] = dimensions
    requests = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"Each text to embed must be a str, not {type(text).__name__}.")
        requests.append({**base, "content": {"parts": [{"text": text}]}})
    return requests


def embed(client: Any, texts: Iterable[str], model: str = DEFAULT_EMBEDDING_MODEL, task_type: str | None = None,
          dimensions: int | None = None, concurrency: int = 4, progress: Callable[[int, int], None] | None = None,
          normalize: bool = False, title: str | None = None):
    """Embed every text: a numpy float32 array of shape (len(texts), D), rows in input order.

    `texts`: a list, Series or any iterable of str. `task_type`: one of TASK_TYPES. `dimensions`:
    `outputDimensionality` (D; the model's full size when None). `concurrency`: groups of 100 in
    flight at once. `progress(done, total)` is called from this thread as groups finish.
    `normalize`: scale each vector to length 1. Without numpy installed, returns a list of lists
    of floats instead. Raises ValueError/TypeError for bad arguments (nothing sent), and the
    client's APIError / APIConnectionError when a group fails after its retries.
    """
    if isinstance(texts, str):
        texts = [texts]  # one text, not its characters: shape (1, D)
    texts = list(texts.tolist() if hasattr(texts, "tolist") else texts)
    requests = embed_requests(texts, model, task_type, dimensions, title)
    path = f"{model_path(model)}:batchEmbedContents"
    groups = [requests[i:i + MAX_BATCH] for i in range(0, len(requests), MAX_BATCH)]
    results: list[list | None] = [None] * len(groups)

    def send(number: int) -> list:
        answer = client.request("POST", path, json={"requests": groups[number]})
        vectors = [item.get("values", []) for item in answer.get("embeddings", [])]
        if len(vectors) != len(groups[number]):
            from ..errors import StreamProtocolError

            raise StreamProtocolError(f"The service answered {len(vectors)} embeddings for {len(groups[number])} texts.")
        return vectors

    done = 0
    if groups:
        with concurrent.futures.ThreadPoolExecutor(max(1, min(concurrency, len(groups))),
                                                   thread_name_prefix="gemini-embed") as pool:
            futures = {pool.submit(send, n): n for n in range(len(groups))}
            try:
                for future in concurrent.futures.as_completed(futures):
                    results[futures[future]] = future.result()
                    done += len(groups[futures[future]])
                    if progress is not None:
                        progress(done, len(texts))
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    rows = [vector for group in results for vector in group or []]
    try:
        import numpy as np
    except ImportError:
        if normalize:
            rows = [_unit(row) for row in rows]
        return rows
    array = np.asarray(rows, dtype=np.float32).reshape(len(rows), -1) if rows else \
        np.zeros((0, dimensions or 0), dtype=np.float32)
    if normalize and len(array):
        norms = np.linalg.norm(array, axis=1, keepdims=True)
        array = array / np.where(norms == 0, 1, norms)
    return array


def _unit(row: list) -> list:
    norm = sum(v * v for v in row) ** 0.5 or 1.0
    return [v / norm for v in row]
