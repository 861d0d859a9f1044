"""Integration tests on the embedded model and the example task files."""

import json
import os
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from promptfill import PromptInfiller
from promptfill.cli import app

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def embedded():
    return PromptInfiller.from_pretrained(device="cpu")


def test_embedded_model_loads_offline(embedded, monkeypatch):
    assert os.environ.get("HF_HUB_OFFLINE") in (None, "1")
    assert embedded.backend.kind == "masked_lm"
    assert embedded.tokenizer.mask_token == "[MASK]"
    assert embedded.model.config.num_hidden_layers == 6


def test_embedded_model_predicts_label_words(embedded):
    tokenizer = embedded.tokenizer
    ids = tokenizer("title : great product . is the review positive or [MASK] ?", return_tensors="pt")
    with torch.no_grad():
        logits = embedded.model(**ids).logits
    position = (ids["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0]
    top = tokenizer.convert_ids_to_tokens(logits[0, position].topk(3).indices)
    assert "negative" in top


@pytest.mark.parametrize("task", ["antonyms.yaml", "sentiment.yaml"])
def test_example_task_files_fill(task):
    result = CliRunner().invoke(app, ["fill", str(EXAMPLES_DIR / task), "--json", "-n", "2"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "promptfill/embedded-minilm-l6"
    for candidate in data["candidates"]:
        (fill,) = candidate["fills"]
        assert fill["text"].strip()
        assert not any(token in ("[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]") for token in fill["tokens"])
