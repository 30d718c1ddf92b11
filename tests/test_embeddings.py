"""Embeddings for many texts (api/embeddings.py) against the emulator over loopback."""

from __future__ import annotations

import pytest

from gemini_magic.api.embeddings import MAX_BATCH, embed, embed_requests

np = pytest.importorskip("numpy")


def embed_calls(emulator):
    return [r for r in emulator.requests if r.path.endswith(":batchEmbedContents")]


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


def test_full_size_vectors_are_unit_and_reduced_ones_are_not_unless_normalized(client, emulator):
    full = embed(client, ["a", "b"])
    assert full.shape == (2, 3072) and np.allclose(np.linalg.norm(full, axis=1), 1.0, atol=1e-5)
    small = embed(client, ["a", "b"], dimensions=768)
    assert np.allclose(small, full[:, :768], atol=1e-6)  # the service's reduced vector is the prefix
    assert (np.linalg.norm(small, axis=1) < 0.9).all()
    unit = embed(client, ["a", "b"], dimensions=768, normalize=True)
    assert np.allclose(np.linalg.norm(unit, axis=1), 1.0, atol=1e-5)


def test_groups_of_at_most_100_sent_concurrently_with_progress(client, emulator):
    pd = pytest.importorskip("pandas")
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


def test_a_failed_group_is_retried_by_the_transport(client, emulator):
    emulator.inject("status", match="embed", code=503)
    vectors = embed(client, ["x", "y"], dimensions=8)
    assert vectors.shape == (2, 8) and len(embed_calls(emulator)) == 2


def test_empty_input_and_bad_arguments(client, emulator):
    assert embed(client, [], dimensions=8).shape == (0, 8)
    with pytest.raises(ValueError, match="task_type"):
        embed(client, ["x"], task_type="dreaming")
    with pytest.raises(ValueError, match="dimensions"):
        embed(client, ["x"], dimensions=0)
    with pytest.raises(TypeError, match="str"):
        embed_requests([1], "gemini-embedding-001")
    assert embed_calls(emulator) == []
