"""DiffusionTarget on a tiny random BERT: generation, all-masked log-likelihood, caching."""

from __future__ import annotations

import pytest
import torch

from promptfill import ConfigError, load_backend
from promptfill.targets import TARGETS, DiffusionTarget, MemoryCache

PROMPT = "Review: a fine film. Is it positive?"


@pytest.fixture(scope="module")
def tiny_backend(tiny_bert_dir):
    return load_backend(str(tiny_bert_dir), device="cpu")


def test_generate_is_deterministic(tiny_backend):
    target = DiffusionTarget(tiny_backend, max_tokens=4)

    first = target.generate([PROMPT])[0]
    second = DiffusionTarget(tiny_backend, max_tokens=4).generate([PROMPT])[0]

    assert first.ok
    assert isinstance(first.text, str)
    assert first.text == second.text
    assert first.completion_tokens <= 4


def test_loglikelihood_matches_manual_computation(tiny_backend):
    target = DiffusionTarget(tiny_backend)
    requests = [(PROMPT, "yes indeed"), ("Short prompt.", "no")]

    responses = target.loglikelihood(requests)

    tokenizer = tiny_backend.tokenizer
    for (prompt, continuation), response in zip(requests, responses):
        prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
        answer_ids = tokenizer.encode(continuation, add_special_tokens=False)
        ids = [tokenizer.cls_token_id, *prompt_ids, tokenizer.sep_token_id, *[tokenizer.mask_token_id] * len(answer_ids), tokenizer.sep_token_id]
        with torch.no_grad():
            logits = tiny_backend.model(input_ids=torch.tensor([ids])).logits[0]  # [L, V]
        start = len(prompt_ids) + 2
        logprobs = logits[start : start + len(answer_ids)].log_softmax(-1)
        expected = float(sum(logprobs[i, token] for i, token in enumerate(answer_ids)))
        assert response.num_tokens == len(answer_ids)
        assert response.logprob == pytest.approx(expected, abs=1e-4)


def test_loglikelihood_batch_size_does_not_change_values(tiny_backend):
    requests = [(PROMPT, "yes"), ("Another, longer prompt about a film.", "no way"), ("Q?", "maybe")]

    one_batch = DiffusionTarget(tiny_backend, batch_size=8).loglikelihood(requests)
    single = DiffusionTarget(tiny_backend, batch_size=1).loglikelihood(requests)

    assert [r.logprob for r in one_batch] == pytest.approx([r.logprob for r in single], abs=1e-4)


def test_empty_continuation_is_error(tiny_backend):
    (response,) = DiffusionTarget(tiny_backend).loglikelihood([(PROMPT, "  ")])

    assert response.error == "continuation '  ' has no tokens to score"


def test_cache_second_call_hits(tiny_backend):
    target = DiffusionTarget(tiny_backend, max_tokens=3, cache=MemoryCache())

    target.generate([PROMPT])
    target.loglikelihood([(PROMPT, "yes")])
    requests_after_first = target.stats.requests
    again = target.generate([PROMPT])[0]
    target.loglikelihood([(PROMPT, "yes")])

    assert requests_after_first == 2
    assert target.stats.requests == 2
    assert target.stats.cache_hits == 2
    assert again.cached is True


def test_identity_names_model_and_settings(tiny_backend):
    identity = DiffusionTarget(tiny_backend, max_tokens=5, temperature=0.5).identity()

    assert identity["model"] == tiny_backend.name
    assert identity["max_tokens"] == 5
    assert identity["temperature"] == 0.5


def test_created_by_name_from_path(tiny_bert_dir):
    target = TARGETS.create("dlm", model=str(tiny_bert_dir), device="cpu", max_tokens=2)

    assert isinstance(target, DiffusionTarget)
    assert target.generate(["hi"])[0].ok


def test_invalid_max_tokens(tiny_backend):
    with pytest.raises(ConfigError, match=r"max_tokens=0 is invalid; pass an integer >= 1"):
        DiffusionTarget(tiny_backend, max_tokens=0)
