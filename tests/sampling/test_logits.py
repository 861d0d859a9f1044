"""Top-k and top-p filtering and Gumbel-max token sampling."""

from __future__ import annotations

import math

import pytest
import torch

from promptfill.sampling import filter_top_k, filter_top_p, sample_tokens

NEG_INF = float("-inf")


def log_probs(*probabilities: float) -> torch.Tensor:
    return torch.tensor([math.log(p) for p in probabilities])


def test_top_k_keeps_largest_scores() -> None:
    scores = torch.tensor([[1.0, 4.0, 3.0, 2.0]])

    assert filter_top_k(scores, 2).tolist() == [[NEG_INF, 4.0, 3.0, NEG_INF]]


def test_top_k_larger_than_vocabulary_keeps_all() -> None:
    scores = torch.tensor([1.0, 2.0])

    assert filter_top_k(scores, 5).tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("top_p", "kept"),
    [(0.5, [True, False, False, False]), (0.7, [True, True, False, False]), (0.9, [True, True, True, False])],
)
def test_top_p_keeps_smallest_nucleus(top_p: float, kept: list[bool]) -> None:
    # Unsorted on purpose: the nucleus is found by probability, not by position.
    scores = log_probs(0.15, 0.5, 0.05, 0.3)
    kept_by_position = [kept[2], kept[0], kept[3], kept[1]]

    filtered = filter_top_p(scores, top_p)

    assert torch.isfinite(filtered).tolist() == kept_by_position


def test_top_p_measures_mass_at_sampling_temperature() -> None:
    scores = log_probs(0.6, 0.3, 0.1)

    # At temperature 1 the top token alone has 0.6 >= 0.55; at temperature 3 the
    # distribution flattens (about 0.43, 0.34, 0.23) and two tokens are needed.
    assert torch.isfinite(filter_top_p(scores, 0.55)).tolist() == [True, False, False]
    assert torch.isfinite(filter_top_p(scores, 0.55, temperature=3.0)).tolist() == [True, True, False]


def test_greedy_at_zero_temperature() -> None:
    scores = torch.tensor([[0.1, 2.0, 1.0], [3.0, -1.0, 0.0]])

    assert sample_tokens(scores, 0.0).tolist() == [1, 0]


def test_gumbel_sampling_matches_softmax() -> None:
    probabilities = [0.6, 0.3, 0.1]
    scores = log_probs(*probabilities).expand(20_000, 3)

    tokens = sample_tokens(scores, 1.0, torch.Generator().manual_seed(0))

    frequencies = torch.bincount(tokens, minlength=3).double() / tokens.numel()
    assert frequencies.tolist() == pytest.approx(probabilities, abs=0.015)


def test_sampling_never_picks_excluded_tokens() -> None:
    scores = torch.tensor([0.0, NEG_INF, 0.0, NEG_INF]).expand(2_000, 4)

    tokens = sample_tokens(scores, 2.0, torch.Generator().manual_seed(1))

    assert set(tokens.tolist()) == {0, 2}


def test_sampling_repeats_with_seed() -> None:
    scores = torch.zeros(50, 10)

    first = sample_tokens(scores, 1.0, torch.Generator().manual_seed(3))
    again = sample_tokens(scores, 1.0, torch.Generator().manual_seed(3))
    other = sample_tokens(scores, 1.0, torch.Generator().manual_seed(4))

    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert first.dtype == torch.long
