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


# Prompts of different lengths, so that batched generation pads every row but the longest.
BATCH_PROMPTS = [
    PROMPT,
    "Q?",
    "Write the plural of the word.\nInput: life\nOutput:",
    "Translate the following sentence into French, carefully and politely: the cat sat on the mat.",
    "Input: world",
]


def answers(responses):
    return [(r.text, r.completion_tokens, r.prompt_tokens) for r in responses]


def test_generate_batched_equals_one_at_a_time(tiny_backend):
    batched = DiffusionTarget(tiny_backend, max_tokens=4, batch_size=8).generate(BATCH_PROMPTS)
    one_at_a_time = DiffusionTarget(tiny_backend, max_tokens=4, batch_size=1).generate(BATCH_PROMPTS)

    assert all(r.ok for r in batched)
    assert answers(batched) == answers(one_at_a_time)


def test_generate_forward_passes_per_batch(tiny_backend, monkeypatch):
    rows_per_pass = []
    logits = tiny_backend.logits

    def recording_logits(input_ids, attention_mask):
        rows_per_pass.append(input_ids.shape[0])
        return logits(input_ids, attention_mask)

    monkeypatch.setattr(tiny_backend, "logits", recording_logits)
    DiffusionTarget(tiny_backend, max_tokens=4, batch_size=2).generate(BATCH_PROMPTS)

    # 5 prompts in batches of 2, 2 and 1, each decoded in 4 steps (one per response token).
    assert rows_per_pass == [2] * 4 + [2] * 4 + [1] * 4


def test_sampled_answers_ignore_batch_composition(tiny_backend):
    settings = {"max_tokens": 4, "temperature": 0.9, "seed": 7}

    together = DiffusionTarget(tiny_backend, batch_size=8, **settings).generate(BATCH_PROMPTS)
    reversed_order = DiffusionTarget(tiny_backend, batch_size=3, **settings).generate(BATCH_PROMPTS[::-1])
    alone = [DiffusionTarget(tiny_backend, **settings).generate([prompt])[0] for prompt in BATCH_PROMPTS]
    other_seed = DiffusionTarget(tiny_backend, batch_size=8, **{**settings, "seed": 8}).generate(BATCH_PROMPTS)

    assert answers(together) == answers(alone)
    assert answers(reversed_order[::-1]) == answers(alone)
    assert answers(other_seed) != answers(together)


def test_too_long_prompt_fails_alone_in_batch(tiny_backend):
    too_long = "word " * 300  # 300 tokens, more than the 256 that the tiny model accepts
    prompts = [PROMPT, too_long, "Q?"]

    responses = DiffusionTarget(tiny_backend, max_tokens=2, batch_size=8).generate(prompts)
    expected = DiffusionTarget(tiny_backend, max_tokens=2, batch_size=1).generate([PROMPT, "Q?"])

    # 300 words, [CLS], [SEP], 2 mask tokens and the closing [SEP].
    assert responses[1].error == (
        f"rendered copy 0 is 305 tokens long (with special tokens), but {tiny_backend.name} accepts at most "
        "256; shorten this example or the template, or use a model with a longer context"
    )
    assert answers([responses[0], responses[2]]) == answers(expected)
