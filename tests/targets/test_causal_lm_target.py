"""CausalLMTarget on a tiny random GPT-2 with a locally trained byte-level BPE tokenizer."""

from __future__ import annotations

import json

import pytest
import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from promptfill import CheckpointError, UnsupportedModelError
from promptfill.targets import CausalLMTarget, MemoryCache

CORPUS = [
    "Review: the film was great. Sentiment: positive",
    "Review: the plot was dull. Sentiment: negative",
    "Question: what is two plus two? Answer: four",
]


@pytest.fixture(scope="module")
def tiny_gpt2_dir(tmp_path_factory):
    """A 2-layer random GPT-2 saved with a 300-token byte-level BPE tokenizer."""
    path = tmp_path_factory.mktemp("tiny-gpt2")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS * 3, vocab_size=300, min_frequency=1, special_tokens=["<|endoftext|>"])
    bpe.save(str(path / "tokenizer.json"))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(path / "tokenizer.json"), eos_token="<|endoftext|>", bos_token="<|endoftext|>",
        model_max_length=64,
    )
    tokenizer.save_pretrained(str(path))
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2, n_positions=64,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(str(path))
    return path


@pytest.fixture(scope="module")
def target(tiny_gpt2_dir):
    return CausalLMTarget(str(tiny_gpt2_dir), device="cpu", max_new_tokens=5, batch_size=2)


def test_loglikelihood_matches_teacher_forcing(target):
    prompt, continuation = "Review: the film was great. Sentiment:", " positive"

    (response,) = target.loglikelihood([(prompt, continuation)])

    tokenizer = target.tokenizer
    prompt_ids = tokenizer.encode(prompt)
    answer_ids = tokenizer.encode(continuation)
    with torch.no_grad():
        logits = target.model(input_ids=torch.tensor([prompt_ids + answer_ids])).logits[0]  # [L, V]
    logprobs = logits.log_softmax(-1)
    expected = sum(float(logprobs[len(prompt_ids) - 1 + i, token]) for i, token in enumerate(answer_ids))
    assert response.num_tokens == len(answer_ids)
    assert response.logprob == pytest.approx(expected, abs=1e-4)


def test_trailing_prompt_space_moves_to_continuation(target):
    (spaced, moved) = target.loglikelihood([("Sentiment: ", "positive"), ("Sentiment:", " positive")])

    assert spaced.logprob == pytest.approx(moved.logprob, abs=1e-5)
    assert spaced.num_tokens == moved.num_tokens


def test_batched_loglikelihood_equals_single(target, tiny_gpt2_dir):
    requests = [("Review: the plot was dull.", " negative"), ("Question:", " four"), ("Review: the film was great. Sentiment:", " positive")]

    batched = target.loglikelihood(requests)
    single = CausalLMTarget(str(tiny_gpt2_dir), device="cpu", batch_size=1).loglikelihood(requests)

    assert [r.logprob for r in batched] == pytest.approx([r.logprob for r in single], abs=1e-4)


def test_greedy_generation_left_padded_batch_equals_single(target, tiny_gpt2_dir):
    prompts = ["Review: the film was great. Sentiment:", "Question:", "Review: the plot"]

    batched = target.generate(prompts)
    single = CausalLMTarget(str(tiny_gpt2_dir), device="cpu", max_new_tokens=5, batch_size=1).generate(prompts)

    assert all(r.ok for r in batched)
    assert [r.text for r in batched] == [r.text for r in single]
    assert all(r.completion_tokens <= 5 for r in batched)


def test_cache_second_call_hits(tiny_gpt2_dir):
    target = CausalLMTarget(str(tiny_gpt2_dir), device="cpu", max_new_tokens=3, cache=MemoryCache())

    target.generate(["Question:"])
    target.generate(["Question:"])

    assert target.stats.requests == 1
    assert target.stats.cache_hits == 1


def test_prompt_too_long_is_error(target):
    (response,) = target.generate(["word " * 80])

    assert response.error is not None
    assert "exceeds the 64-token context" in response.error


def test_not_a_checkpoint_raises(tmp_path):
    with pytest.raises(CheckpointError, match=r"contains no config.json"):
        CausalLMTarget(str(tmp_path))


def test_masked_lm_raises(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertForMaskedLM"]}))

    with pytest.raises(UnsupportedModelError, match=r"is a masked LM \(BertForMaskedLM\), not a causal LM; use it as the target with target='dlm'"):
        CausalLMTarget(str(tmp_path))
