"""Run directories written from real fills with a tiny random BERT, for the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptfill import FunctionScorer, PromptInfiller, SamplerConfig
from report_runs import EXAMPLES, TEMPLATE, PerExampleScorer, write_run_directory


@pytest.fixture(scope="session")
def infiller(tiny_bert_dir):
    return PromptInfiller.from_pretrained(str(tiny_bert_dir), device="cpu", sampler=SamplerConfig(temperature=1.0, num_candidates=4, length_trials=2))


@pytest.fixture(scope="session")
def scored_result(infiller):
    """A fill ranked by a scorer with per-example values; one candidate's scoring failed."""
    return infiller.fill(TEMPLATE, EXAMPLES, scorer=FunctionScorer(PerExampleScorer(), name="length <score>"), seed=3)


@pytest.fixture(scope="session")
def unscored_result(infiller):
    """A fill without a scorer, ranked by model score."""
    return infiller.fill(TEMPLATE, EXAMPLES, seed=4)


@pytest.fixture
def run_dir(tmp_path, scored_result) -> Path:
    """A complete run directory: result, config, environment and progress (with a torn last line)."""
    return write_run_directory(tmp_path / "run", scored_result)


@pytest.fixture
def bare_run_dir(tmp_path, unscored_result) -> Path:
    """A run directory with only result.json, from a fill without a scorer."""
    directory = tmp_path / "bare"
    directory.mkdir()
    unscored_result.to_json(directory / "result.json")
    return directory
