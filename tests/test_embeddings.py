"""Embeddings for many texts (api/embeddings.py) against the emulator over loopback."""

from __future__ import annotations

import sys

import pytest

from gemini_magic.api.embeddings import MAX_BATCH, embed, embed_requests

try:
    import numpy as np
except ImportError:  # the suite also runs without numpy (tests/without_optional_deps)
    np = None

needs_numpy = pytest.mark.skipif(np is None, reason="numpy is not installed")


def embed_calls(emulator):
    return [r for r in emulator.requests if r.path.endswith(":batchEmbedContents")]


@needs_numpy
def test_shape_dtype_and_order(client, emulator):
    texts = [f"review number {n}" for n in range(7)]
    vectors = embed(client, texts, dimensions=16)
    assert isinstance(vectors, np.ndarray) and vectors.dtype == np.float32 and vectors.shape == (7, 16)
    one_by_one = np.vstack([embed(client, [t], dimensions=16) for t in texts])
    assert np.array_equal(vectors, one_by_one)  # row n is text n's vector, whatever the grouping
    assert not np.allclose(vectors[0], vectors[1])
    body = embed_calls(emulator)[0].json
    assert body["requests"][0] == {"model": "models/gemini-embedding-001", "outputDimensionality": 16,
                                   "content": {"parts": [{"text": "review number 0"}]}}


@needs_numpy
def test_full_size_vectors_are_unit_and_reduced_ones_are_not_unless_normalized(client, emulator):
    full = embed(client, ["a", "b"])
    assert full.shape == (2, 3072) and np.allclose(np.linalg.norm(full, axis=1), 1.0, atol=1e-5)
    small = embed(client, ["a", "b"], dimensions=768)
    assert np.allclose(small, full[:, :768], atol=1e-6)  # the service's reduced vector is the prefix
    assert (np.linalg.norm(small, axis=1) < 0.9).all()
    unit = embed(client, ["a", "b"], dimensions=768, normalize=True)
    assert np.allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-5)


@needs_numpy
def test_groups_of_at_most_100_sent_concurrently_with_progress(client, emulator):
    pd = pytest.importorskip("pandas", exc_type=ImportError)
    texts = pd.Series([f"t{n}" for n in range(250)])
    seen = []
    vectors = embed(client, texts, dimensions=4, task_type="clustering", concurrency=3,
                    progress=lambda done, total: seen.append((done, total)))
    assert vectors.shape == (250, 4)
    sizes = sorted(len(r.json["requests"]) for r in embed_calls(emulator))
    assert sizes == [50, MAX_BATCH, MAX_BATCH]
    assert all(r.json["requests"][0]["taskType"] == "CLUSTERING" for r in embed_calls(emulator))
    assert sorted(seen)[-1] == (250, 250) and len(seen) == 3
    assert np.allclose(vectors[249], embed(client, ["t249"], dimensions=4, task_type="CLUSTERING")[0])


@needs_numpy
def test_a_failed_group_is_retried_by_the_transport(client, emulator):
    emulator.inject("status", match="embed", code=503)
    vectors = embed(client, ["x", "y"], dimensions=8)
    assert vectors.shape == (2, 8) and len(embed_calls(emulator)) == 2


@needs_numpy
def test_empty_input_and_bad_arguments(client, emulator):
    assert embed(client, [], dimensions=8).shape == (0, 8)
    with pytest.raises(ValueError, match="task_type"):
        embed(client, ["x"], task_type="dreaming")
    with pytest.raises(ValueError, match="dimensions"):
        embed(client, ["x"], dimensions=0)
    with pytest.raises(TypeError, match="str"):
        embed_requests([1], "gemini-embedding-001")
    with pytest.raises(TypeError, match=r"^The text at position 1 holds int 5, not a str, so nothing was sent\. "
                                        r"Convert the texts first"):
        embed(client, ["x", 5, "y"])
    with pytest.raises(TypeError, match=r"^The text at position 2 has no value \(None\), so nothing was sent\. Fill"):
        embed(client, ["x", "y", None])
    assert embed_calls(emulator) == []


def test_without_numpy_a_list_of_lists(client, emulator, monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy now raises ImportError
    vectors = embed(client, ["a", "b", "c"], dimensions=5, normalize=True)
    assert isinstance(vectors, list) and [len(v) for v in vectors] == [5, 5, 5]
    assert all(isinstance(x, float) for x in vectors[0])
    assert all(abs(sum(x * x for x in v) - 1) < 1e-9 for v in vectors)
    assert vectors[0] != vectors[1]


# -- at the rate limit: the rows engine's limiter, 429s, resumption (api/embed_runs.py) ---------------

@needs_numpy
def test_concurrent_groups_keep_input_order_and_meet_429s_without_losing_a_text(client, emulator):
    texts = [f"text {n}" for n in range(1200)]
    expected = np.vstack([embed(client, texts[i:i + MAX_BATCH], dimensions=8) for i in range(0, 1200, MAX_BATCH)])
    emulator.reset()
    emulator.pace = 0.0
    emulator.set_rate_limit(rpm=300)  # 5 a second, a burst of 5: 12 groups sent 8 at a time meet 429s
    vectors = embed(client, texts, dimensions=8, concurrency=8)
    assert np.array_equal(vectors, expected)  # every text, in input order
    refused = emulator.rate_limits.refused
    assert refused > 0 and len(embed_calls(emulator)) == 12 + refused  # each group answered once, plus the 429s


def test_rpm_cap_paces_groups(client, emulator):
    import time

    started = time.monotonic()
    embed(client, [f"t{n}" for n in range(600)], dimensions=4, rpm=600, concurrency=6)
    assert time.monotonic() - started >= 0.45  # 6 groups at 10 a second: 5 gaps of 0.1 s
    assert len(embed_calls(emulator)) == 6


@needs_numpy
def test_cache_dir_after_an_interruption_sends_only_the_missing_groups(client, emulator, tmp_path):
    texts = [f"review {n}" for n in range(500)]

    def interrupt(done, total):
        if done >= 200:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        embed(client, texts, dimensions=8, concurrency=1, cache_dir=tmp_path, progress=interrupt)
    assert len(list(tmp_path.glob("*.json"))) == 2  # the groups answered before the interrupt
    first = len(embed_calls(emulator))
    seen = []
    vectors = embed(client, texts, dimensions=8, cache_dir=tmp_path, progress=lambda d, t: seen.append(d))
    resent = [r.json["requests"][0]["content"]["parts"][0]["text"] for r in embed_calls(emulator)[first:]]
    assert "review 0" not in resent and "review 100" not in resent and "review 400" in resent
    assert seen[0] == 200 and seen[-1] == 500 and len(list(tmp_path.glob("*.json"))) == 5
    sent = len(embed_calls(emulator))
    again = embed(client, texts, dimensions=8, cache_dir=tmp_path)  # all kept: nothing sent
    assert np.array_equal(vectors, again) and len(embed_calls(emulator)) == sent
    assert np.array_equal(vectors, embed(client, texts, dimensions=8))


@needs_numpy
def test_a_failed_group_keeps_the_answered_ones_in_the_cache(client, emulator, tmp_path):
    from gemini_magic.errors import APIError

    texts = [f"line {n}" for n in range(300)]
    emulator.inject("status", match="embed", code=400)
    with pytest.raises(APIError):
        embed(client, texts, dimensions=8, concurrency=3, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2
    before = len(embed_calls(emulator))
    vectors = embed(client, texts, dimensions=8, cache_dir=tmp_path)
    assert len(embed_calls(emulator)) == before + 1 and vectors.shape == (300, 8)
