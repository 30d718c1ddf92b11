"""Embeddings for many texts: `embed(client, texts, ...)` -> a float32 array of shape (N, D).

    from gemini_magic.api.embeddings import embed
    vectors = embed(client, reviews["text"], dimensions=768, task_type="CLASSIFICATION")
    vectors.shape          # (len(reviews), 768)

Texts go to `models/{model}:batchEmbedContents` in groups of at most 100 (the service refuses more:
"at most 100 requests can be in one batch"), several groups at a time, admitted by the
rows engine's AdaptiveLimiter (429s slow every sender and wait the RetryInfo delay; 5xx retried with
backoff; api/embed_runs.py). `cache_dir=` keeps finished groups so a re-run sends only the missing
ones. Vectors come back in input order. `tpm=` paces groups to a tokens-a-minute limit too, each
group's tokens estimated as the service's rule of thumb (one token for about 4 bytes of UTF-8 text).
`batch=True` sends every text as one Batch API job instead (`:asyncBatchEmbedContent`,
api/embed_batches.py: half price, finished within 24 hours, no rate limit to meet), re-attaching
to the same job when run again; `batch="auto"` does so only above the sizes in `wants_batch`.
gemini-embedding-001 returns unit vectors only at its full size (3072); reduced sizes
(`dimensions=768`, ...) are not normalised by the service: pass `normalize=True` to scale each row
to length 1 (what cosine similarity wants).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ..request.body import model_path

DEFAULT_EMBEDDING_MODEL = "gemini-embedding-001"
MAX_BATCH = 100  # BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch
AUTO_BATCH_TEXTS = 50_000  # batch="auto" without rpm/tpm: 500 requests or more go through the Batch API
AUTO_BATCH_MINUTES = 30.0  # batch="auto" with rpm/tpm: when the online run would take longer than this
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
    check_texts(texts)
    return [{**base, "content": {"parts": [{"text": text}]}} for text in texts]


def check_texts(texts: list, labels: list | None = None) -> None:
    """Raise ConversionError (a TypeError) naming the first text that is not a str: its index label
    (`labels`, a Series' index) or its position, what it holds, and the fix; nothing is sent."""
    from ..errors import ConversionError
    from ..request.rows import is_missing

    for position, text in enumerate(texts):
        if isinstance(text, str):
            continue
        where = f"index {labels[position]!r}" if labels is not None else f"position {position}"
        if is_missing(text):
            raise ConversionError(
                f"The text at {where} has no value ({text!r}), so nothing was sent. Fill the missing values "
                "(df.fillna(...)) or drop them (df.dropna(subset=[...]), texts.dropna()), then embed again.")
        raise ConversionError(f"The text at {where} holds {type(text).__name__} {text!r:.60}, not a str, so "
                              "nothing was sent. Convert the texts first (texts.astype(str), or [str(t) for t in "
                              "texts]).")


def estimate_tokens(text: str) -> int:
    """Tokens of one text as the limiter counts them: ceil(UTF-8 bytes / 4), at least 1 (an estimate:
    the service counts with its tokenizer; about 4 characters of English make a token)."""
    return max(1, -(-len(text.encode("utf-8")) // 4))


def wants_batch(batch: Any, count: int, tokens: int, rpm: float | None, tpm: float | None) -> bool:
    """Whether `embed` goes through the Batch API. True/False as given; "auto": when the online run
    would take longer than AUTO_BATCH_MINUTES at the `rpm`/`tpm` given (a batch job is half price and
    such a run gains little from answering sooner), or, with no limits given, above
    AUTO_BATCH_TEXTS texts (500 requests: at the free tier's 100 requests a minute, 5 minutes and
    more of online calls). Raises ValueError for anything else."""
    if batch is True or batch is False:
        return batch
    if batch != "auto":
        raise ValueError(f'batch must be True, False or "auto", not {batch!r}.')
    if rpm is None and tpm is None:
        return count > AUTO_BATCH_TEXTS
    minutes = max(-(-count // MAX_BATCH) / rpm if rpm else 0.0, tokens / tpm if tpm else 0.0)
    return minutes > AUTO_BATCH_MINUTES


def embed(client: Any, texts: Iterable[str], model: str = DEFAULT_EMBEDDING_MODEL, task_type: str | None = None,
          dimensions: int | None = None, concurrency: int = 8, progress: Callable[[int, int], None] | None = None,
          normalize: bool = False, title: str | None = None, rpm: float | None = None, cache_dir: Any = None,
          tpm: float | None = None, batch: Any = False, **batch_options: Any):
    """Embed every text: a numpy float32 array of shape (len(texts), D), rows in input order.

    `texts`: a list, Series or any iterable of str. `task_type`: one of TASK_TYPES. `dimensions`:
    `outputDimensionality` (D; the model's full size when None). `concurrency`: groups of 100 in
    flight at once, admitted by the rows engine's AdaptiveLimiter (api/limiter.py): a 429 halves it,
    paces to the accepted rate and waits the RetryInfo delay before the group is sent again. `rpm`:
    a cap in requests a minute (one request is one group of up to 100 texts). `cache_dir`: a
    directory keeping each finished group (one JSON file per group, as rows' `cache_dir`), so a run
    interrupted or failed part-way sends only the missing groups when run again. `tpm`: a cap in
    tokens a minute (each text estimated by `estimate_tokens`); a group waits until it fits.
    `batch`: False (the default: online calls as above), True (one Batch API job of every text:
    half price, up to 24 hours; run again to re-attach to the same job rather than pay twice; see
    api/embed_batches.embed_batch, whose `poll=`, `max_poll=`, `timeout=`, `new=`, `started=` pass
    through), or "auto" (the Batch API only above the sizes `wants_batch` gives). In batch mode
    `progress(done, total)` follows the job's counts and `concurrency`, `rpm`, `tpm`, `cache_dir`
    are not used; a job that ends FAILED, CANCELLED or EXPIRED raises BatchError.
    `progress(done, total)` (texts) is called from this thread as groups finish.
    `normalize`: scale each vector to length 1. Without numpy installed, returns a list of lists
    of floats instead. Raises ValueError/TypeError for bad arguments (nothing sent), and the
    client's APIError / APIConnectionError when a group fails after its retries (groups already
    answered stay in `cache_dir`).
    """
    if isinstance(texts, str):
        texts = [texts]  # one text, not its characters: shape (1, D)
    labels = list(texts.index) if hasattr(texts, "tolist") and hasattr(texts, "index") and \
        not isinstance(texts, (list, tuple)) else None  # a Series: its index labels name a bad text
    texts = list(texts.tolist() if hasattr(texts, "tolist") else texts)
    if labels is not None and len(labels) != len(texts):
        labels = None
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number, 1 or more; got {concurrency!r}.")
    for name, value in (("rpm", rpm), ("tpm", tpm)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            raise ValueError(f"{name} must be a number above 0 ({'requests' if name == 'rpm' else 'tokens'} a "
                             f"minute), not {value!r}.")
    unknown = set(batch_options) - {"poll", "max_poll", "timeout", "new", "started"}
    if unknown:
        raise TypeError(f"embed() got an unexpected keyword argument {sorted(unknown)[0]!r}.")
    check_texts(texts, labels)
    requests = embed_requests(texts, model, task_type, dimensions, title)
    tokens = [estimate_tokens(text) for text in texts]
    if wants_batch(batch, len(texts), sum(tokens), rpm, tpm):
        if not requests:
            rows: list = []
        else:
            from .embed_batches import embed_batch

            rows = embed_batch(client, requests, model, progress=progress, **batch_options)
    else:
        if batch_options:
            raise TypeError(f"{sorted(batch_options)[0]}= is for batch=True; online embedding does not poll.")
        groups = [requests[i:i + MAX_BATCH] for i in range(0, len(requests), MAX_BATCH)]
        group_tokens = [sum(tokens[i:i + MAX_BATCH]) for i in range(0, len(tokens), MAX_BATCH)]
        from .embed_runs import run_groups

        results = run_groups(client, f"{model_path(model)}:batchEmbedContents", groups, concurrency=concurrency,
                             rpm=rpm, tpm=tpm, tokens=group_tokens, cache_dir=cache_dir, progress=progress,
                             total=len(texts))
        rows = [vector for group in results for vector in group]
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
