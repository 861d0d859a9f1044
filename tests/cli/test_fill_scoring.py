"""`promptfill fill` with scorers, targets, halving and the response cache, from task files."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from promptfill.cli import app

runner = CliRunner()

EXAMPLES = [
    {"text": "a wonderful film", "label": "positive"},
    {"text": "dull and far too long", "label": "negative"},
]
DEV = [{"text": f"film {i}", "label": "positive" if i % 2 else "negative"} for i in range(6)]


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path, monkeypatch):
    # Run directories default to ./runs; keep them out of the checkout.
    monkeypatch.chdir(tmp_path)


def write_task(tmp_path, model_dir, **overrides):
    task = {
        "model": str(model_dir),
        "device": "cpu",
        "template": "Review: {{ text }} [MASK:2-3] ||| {{ label }}",
        "examples": EXAMPLES,
        "dev_examples": DEV,
        "sampler": {"num_candidates": 2, "temperature": 1.0, "length_trials": 2, "seed": 0},
        "scorer": {"name": "exact_match"},
        # Two-token answers keep the target fast; dlm without a model is the infiller's own.
        "target": {"name": "dlm", "settings": {"max_tokens": 2}},
        "cache": str(tmp_path / "cache.sqlite"),
    }
    task.update(overrides)
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    return path


def run_json(*args):
    result = runner.invoke(app, ["fill", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_default_target_then_cache_hits(tmp_path, tiny_bert_dir):
    task = str(write_task(tmp_path, tiny_bert_dir))
    first = run_json(task)
    candidates = len(first["candidates"])
    assert first["target"]["name"] == "dlm"
    assert first["target"]["identity"]["max_tokens"] == 2
    assert first["target"]["stats"]["requests"] == candidates * len(DEV)
    assert all(len(c["score"]["per_example"]) == len(DEV) for c in first["candidates"])
    second = run_json(task)
    assert second["target"]["stats"]["requests"] == 0
    assert second["target"]["stats"]["cache_hits"] == candidates * len(DEV)
    assert [c["score"] for c in second["candidates"]] == [c["score"] for c in first["candidates"]]


def test_no_cache_sends_every_request(tmp_path, tiny_bert_dir):
    task = str(write_task(tmp_path, tiny_bert_dir))
    run_json(task)
    again = run_json(task, "--no-cache")
    assert again["target"]["stats"]["cache_hits"] == 0
    assert again["target"]["stats"]["requests"] == len(again["candidates"]) * len(DEV)


def test_halving_from_the_task_file(tmp_path, tiny_bert_dir):
    task = str(write_task(tmp_path, tiny_bert_dir, dev_examples=DEV * 3, halving={"min_examples": 2, "keep": 1}, cache=False))
    data = run_json(task, "-n", "4")
    counts = sorted({c["score"]["count"] for c in data["candidates"] if c["score"]})
    assert counts[-1] == len(DEV) * 3
    assert counts[0] < len(DEV) * 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nosuch"], "unknown target 'nosuch'"),
        (["--target", "dlm", "-T", "max_tokens"], "--target-setting 'max_tokens' is invalid; write KEY=VALUE"),
        (["-T", "model=x"], "--target-setting needs a target"),
    ],
)
def test_bad_target_options_exit_2(tmp_path, tiny_bert_dir, args, message):
    task = write_task(tmp_path, tiny_bert_dir, target=None)
    result = runner.invoke(app, ["fill", str(task), "--quiet", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_unknown_scorer_exits_2_before_loading_the_model(tmp_path):
    task = write_task(tmp_path, tmp_path / "no-such-model", scorer="nosuch")
    result = runner.invoke(app, ["fill", str(task), "--quiet"])
    assert result.exit_code == 2
    assert "unknown scorer 'nosuch'" in result.output


def test_target_without_target_scorer_rejected(tmp_path, tiny_bert_dir):
    task = write_task(tmp_path, tiny_bert_dir, scorer=None)
    result = runner.invoke(app, ["fill", str(task), "--quiet"])
    assert result.exit_code == 2
    assert "does not use a target model" in result.output
