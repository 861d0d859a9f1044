"""EmbeddingScorer with the bundled all-MiniLM-L6-v2 sentence encoder."""

from __future__ import annotations

import pytest

from promptfill.scoring import EmbeddingScorer
from promptfill.targets import CallableTarget

TEMPLATE = "Q: {{ question }} [MASK] ||| {{ answer }}"


@pytest.fixture(scope="module")
def scorer():
    table = {"match": "The cat sat on the mat.", "paraphrase": "A kitten is sitting on a rug.", "offtopic": "Stock prices fell sharply today.", "blank": ""}
    target = CallableTarget(lambda prompt: next(v for k, v in table.items() if k in prompt), name="table")
    return EmbeddingScorer(target)


def test_similarity_ordering(scorer, make_candidate):
    candidate = make_candidate(TEMPLATE, ["Answer."])
    reference = "The cat sat on the mat."
    examples = [{"question": q, "answer": reference} for q in ("match", "paraphrase", "offtopic", "blank")]

    same, related, unrelated, empty = scorer.score(candidate, examples).per_example

    assert same == pytest.approx(1.0, abs=1e-4)
    assert related > unrelated
    assert unrelated < 0.5
    assert empty == 0.0


def test_embeddings_are_unit_length(scorer):
    vectors = scorer.embed(["one sentence", "another, longer sentence about films"])

    assert tuple(vectors.shape) == (2, 384)
    assert vectors.norm(dim=-1).tolist() == pytest.approx([1.0, 1.0], abs=1e-5)
