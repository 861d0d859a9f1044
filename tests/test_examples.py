"""The example task files under examples/ run through `promptfill fill` and score every candidate.

The fast cases run each example on a copy of its task file that points at a tiny random BERT and
uses fewer examples. The slow cases run the files unchanged on the embedded model, and the GSM8K
file against a loopback OpenAI-compatible server through --target.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from promptfill.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()

# Each example with the dev-set size its task file gives, and the scorer it names.
SCORED_EXAMPLES = {
    "classification.yaml": (16, "choice"),
    "instruction_induction.yaml": (30, "exact_match"),
    "gsm8k.yaml": (8, "numeric"),
}


@pytest.fixture(autouse=True)
def _run_in_tmp(tmp_path, monkeypatch):
    # `promptfill fill` records runs under ./runs; keep them out of the checkout.
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def tiny_bert_512(tmp_path_factory, minilm_tokenizer) -> Path:
    """A random 2-layer BERT with 512 positions, enough for one Amazon review or GSM8K problem."""
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=minilm_tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, max_position_embeddings=512,
    )
    path = tmp_path_factory.mktemp("tiny-bert-512")
    BertForMaskedLM(config).save_pretrained(str(path))
    minilm_tokenizer.save_pretrained(str(path))
    return path


def shrunk_copy(name: str, tmp_path: Path, model: Path, dev_limit: int) -> Path:
    """Copy an example task file with absolute data paths, a tiny model and fewer examples."""
    task = yaml.safe_load((EXAMPLES / name).read_text())
    for key in ("examples_file", "dev_examples_file"):
        task[key] = str(EXAMPLES / task[key])
    task.update(model=str(model), device="cpu", examples_limit=2, dev_examples_limit=dev_limit, cache=False)
    if isinstance(task.get("target"), dict):
        task["target"]["settings"]["max_tokens"] = 2
    else:
        # The classification file leaves the target to the infiller's own model.
        task["target"] = {"name": "dlm", "settings": {"max_tokens": 2}}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    return path


def run_fill(task: Path, *options: str) -> dict:
    result = runner.invoke(app, ["fill", str(task), "--json", "--quiet", "--no-cache", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def check_scored(result: dict, dev_size: int, scorer: str) -> None:
    """Assert ranked, scored candidates, with survivors scored on the whole dev set."""
    candidates = result["candidates"]
    assert result["scorer"] == scorer
    assert candidates, "no candidates"
    assert [c["rank"] for c in candidates] == list(range(1, len(candidates) + 1))
    for candidate in candidates:
        assert candidate["error"] is None, candidate["error"]
        assert candidate["score"] is not None
        per_example = candidate["score"]["per_example"]
        if candidate["eliminated_in_round"] is None:
            assert len(per_example) == dev_size
        else:
            assert 0 < len(per_example) < dev_size
        assert all(0.0 <= value <= 1.0 for value in per_example)
    survivors = [c["score"]["value"] for c in candidates if c["eliminated_in_round"] is None]
    assert survivors == sorted(survivors, reverse=True)


@pytest.mark.parametrize("name", sorted(SCORED_EXAMPLES))
def test_example_runs_on_tiny_model(name, tmp_path, tiny_bert_512):
    dev_size, scorer = 4, SCORED_EXAMPLES[name][1]
    task = shrunk_copy(name, tmp_path, tiny_bert_512, dev_limit=dev_size)
    result = run_fill(task, "-n", "1", "--seed", "0")
    check_scored(result, dev_size, scorer)
    assert result["target"]["name"] == "dlm"


def test_example_files_validate():
    from promptfill.cli._task import load_task_file

    for name in [*SCORED_EXAMPLES, "antonyms.yaml", "sentiment.yaml"]:
        spec, base = load_task_file(EXAMPLES / name)
        assert spec.load_examples(base), name
    for name, (dev_size, scorer) in SCORED_EXAMPLES.items():
        spec, base = load_task_file(EXAMPLES / name)
        assert len(spec.load_dev_examples(base)) == dev_size, name
        assert spec.scorer_name == scorer, name


def test_dev_sets_disjoint_from_few_shot():
    from promptfill.cli._task import load_task_file

    for name in SCORED_EXAMPLES:
        spec, base = load_task_file(EXAMPLES / name)
        fewshot = {json.dumps(e, sort_keys=True) for e in spec.load_examples(base)}
        dev = {json.dumps(e, sort_keys=True) for e in spec.load_dev_examples(base)}
        assert not fewshot & dev, name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCORED_EXAMPLES))
def test_example_runs_on_embedded_model(name):
    dev_size, scorer = SCORED_EXAMPLES[name]
    result = run_fill(EXAMPLES / name, "-n", "1", "--seed", "0")
    check_scored(result, dev_size, scorer)


@pytest.mark.slow
def test_gsm8k_example_runs_against_openai_endpoint():
    sys.path.insert(0, str(Path(__file__).parent / "targets"))
    from openai_server import OpenAIServer

    with OpenAIServer() as server:
        result = run_fill(
            EXAMPLES / "gsm8k.yaml", "-n", "1", "--seed", "0", "--target", "openai",
            "-T", f"base_url={server.base_url}", "-T", "model=loopback-model", "-T", "api_key_env=null",
        )
        requests = server.received("/v1/chat/completions")
    check_scored(result, 8, "numeric")
    assert result["target"]["name"] == "openai"
    scored_examples = sum(len(c["score"]["per_example"]) for c in result["candidates"])
    assert len(requests) == scored_examples
