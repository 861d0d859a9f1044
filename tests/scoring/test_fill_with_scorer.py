"""End to end: PromptInfiller.fill with a built-in scorer that binds the infiller's own model."""

from __future__ import annotations

import pytest

from promptfill import PromptInfiller, load_backend
from promptfill.scoring import ExactMatchScorer
from promptfill.targets import DiffusionTarget

TEMPLATE = "Review: {{ text }} [MASK:2] ||| {{ label }}"
EXAMPLES = [
    {"text": "a great film", "label": "positive"},
    {"text": "a dull plot", "label": "negative"},
]
DEV_EXAMPLES = [
    {"text": "fine acting", "label": "positive"},
    {"text": "boring scenes", "label": "negative"},
]


@pytest.fixture(scope="module")
def infiller(tiny_bert_dir):
    return PromptInfiller(load_backend(str(tiny_bert_dir), device="cpu"))


def test_fill_binds_dlm_target_and_scores_every_candidate(infiller):
    scorer = ExactMatchScorer()

    result = infiller.fill(TEMPLATE, EXAMPLES, scorer=scorer, dev_examples=DEV_EXAMPLES, num_candidates=1, seed=0)

    assert isinstance(scorer.target, DiffusionTarget)
    assert scorer.target.backend is infiller.backend
    assert result.scorer == "exact_match"
    for candidate in result.candidates:
        assert candidate.error is None
        assert candidate.score is not None
        assert len(candidate.score.per_example) == len(DEV_EXAMPLES)
        assert set(candidate.score.per_example) <= {0.0, 1.0}

