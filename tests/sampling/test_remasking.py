"""Remasking strategies score designed distributions in the expected order."""

from __future__ import annotations

import math

import pytest
import torch

from promptfill.errors import UnknownNameError
from promptfill.sampling import REMASKING

# Slot 0 splits its mass evenly between two tokens; slot 1 puts 0.4 on one token and spreads
# the rest thinly. Slot 0 has the higher top probability and the lower entropy, slot 1 the
# larger margin between its top two tokens.
EVEN_PAIR = [0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]
FLAT_TAIL = [0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
# Slot 0 here is confident but spread; slot 1 is an even pair.
SPREAD_LEADER = [0.6, 0.1, 0.1, 0.1, 0.1, 0.0, 0.0]


def score(name: str, rows: list[list[float]]) -> torch.Tensor:
    probs = torch.tensor([rows])  # [N=1, S, V]
    tokens = probs.argmax(dim=-1)  # [1, S]
    return REMASKING.create(name).confidence(probs, tokens, None)[0]


def test_registry_lists_builtin_strategies() -> None:
    assert REMASKING.names() == ["entropy", "low_confidence", "margin", "random"]


def test_unknown_strategy_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError) as error:
        REMASKING.get("lowest_confidence")

    assert str(error.value) == (
        "unknown remasking strategy 'lowest_confidence'; valid names are: entropy, low_confidence, margin, random"
    )


def test_low_confidence_scores_chosen_probability() -> None:
    scores = score("low_confidence", [EVEN_PAIR, FLAT_TAIL])

    assert scores.tolist() == pytest.approx([0.5, 0.4])


def test_margin_scores_gap_between_top_two() -> None:
    scores = score("margin", [EVEN_PAIR, FLAT_TAIL])

    assert scores.tolist() == pytest.approx([0.0, 0.3])
    assert int(scores.argmax()) == 1


def test_entropy_scores_negative_entropy() -> None:
    scores = score("entropy", [EVEN_PAIR, FLAT_TAIL])

    expected_even = -math.log(2)
    expected_flat = 0.4 * math.log(0.4) + 6 * 0.1 * math.log(0.1)
    assert scores.tolist() == pytest.approx([expected_even, expected_flat], abs=1e-6)


@pytest.mark.parametrize(
    ("name", "rows", "first_slot"),
    [
        ("low_confidence", [EVEN_PAIR, FLAT_TAIL], 0),
        ("margin", [EVEN_PAIR, FLAT_TAIL], 1),
        ("entropy", [EVEN_PAIR, FLAT_TAIL], 0),
        ("low_confidence", [SPREAD_LEADER, EVEN_PAIR], 0),
        ("margin", [SPREAD_LEADER, EVEN_PAIR], 0),
        ("entropy", [SPREAD_LEADER, EVEN_PAIR], 1),
    ],
)
def test_strategy_prefers_expected_slot(name: str, rows: list[list[float]], first_slot: int) -> None:
    assert int(score(name, rows).argmax()) == first_slot


def test_random_strategy_repeats_with_seed() -> None:
    probs = torch.full((2, 5, 3), 1 / 3)
    tokens = torch.zeros(2, 5, dtype=torch.long)
    strategy = REMASKING.create("random")

    first = strategy.confidence(probs, tokens, torch.Generator().manual_seed(7))
    again = strategy.confidence(probs, tokens, torch.Generator().manual_seed(7))
    other = strategy.confidence(probs, tokens, torch.Generator().manual_seed(8))

    assert first.shape == (2, 5)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
