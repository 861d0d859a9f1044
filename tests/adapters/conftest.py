"""A tiny random infiller shared by the adapter tests."""

from __future__ import annotations

import pytest

from promptfill import PromptInfiller, SamplerConfig


@pytest.fixture(scope="session")
def tiny_infiller(tiny_bert_dir):
    """A 2-layer random BERT infiller: 3 candidates, one hole length tried per hole."""
    return PromptInfiller.from_pretrained(
        str(tiny_bert_dir), device="cpu", sampler=SamplerConfig(temperature=1.0, num_candidates=3, length_trials=1)
    )
