"""Fakes shared by the sampling tests: a rendered copy and a word-level backend with designed logits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

PAD, MASK, SEP = 0, 1, 2
SPECIAL_WORDS = ("[PAD]", "[MASK]", "[SEP]")


@dataclass(frozen=True)
class Copy:
    """Stand-in for templates.RenderedCopy: text segments (str) and hole indices (int)."""

    prompt: tuple[str | int, ...]
    answer: tuple[str | int, ...] | None = None


class FakeBackend:
    """Backend over a whitespace vocabulary whose logits come from a designed function.

    ``logits_fn(input_ids [B, L]) -> [B, L, V]`` receives the whole batch, so a test can make the
    prediction at a hole depend on the tokens around it. Ids 0-2 are [PAD], [MASK] and [SEP];
    they are forbidden inside holes.
    """

    def __init__(
        self,
        words: Sequence[str],
        logits_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
        *,
        max_length: int = 64,
        wrap_ids: tuple[list[int], list[int]] = ([], []),
    ) -> None:
        self.words = [*SPECIAL_WORDS, *words]
        self.vocab = {word: index for index, word in enumerate(self.words)}
        self.vocab_size = len(self.words)
        self.logits_fn = logits_fn or (lambda ids: torch.zeros(*ids.shape, self.vocab_size))
        self.name = "fake-backend"
        self.mask_token_id = MASK
        self.pad_token_id = PAD
        self.separator_ids = [SEP]
        self.max_length = max_length
        self.device = torch.device("cpu")
        self.forbidden_token_ids = torch.tensor([PAD, MASK, SEP])
        self.prefix_ids, self.suffix_ids = wrap_ids
        self.calls: list[tuple[int, int]] = []  # (batch size, length) of each forward pass

    def encode(self, text: str) -> list[int]:
        return [self.vocab[word] for word in text.split()]

    def decode(self, ids: Sequence[int]) -> str:
        return " ".join(self.words[i] for i in ids if i > SEP)

    def wrap(self, ids: Sequence[int]) -> list[int]:
        return [*self.prefix_ids, *ids, *self.suffix_ids]

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        self.calls.append(tuple(input_ids.shape))
        return self.logits_fn(input_ids)


def distribution_logits(probabilities: dict[int, float], vocab_size: int) -> torch.Tensor:
    """Return ``[V]`` logits whose softmax over the non-special ids is ``probabilities``."""
    logits = torch.full((vocab_size,), -1e4)
    for token_id, probability in probabilities.items():
        logits[token_id] = torch.log(torch.tensor(probability))
    return logits


def previous_token_logits(table: dict[int, torch.Tensor], vocab_size: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return a logits function where a [MASK] predicts ``table[previous token]``.

    Positions that are not masks, or whose previous token is not in the table, get all-zero
    logits (a uniform prediction).
    """

    def logits_fn(input_ids: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(*input_ids.shape, vocab_size)
        for row in range(input_ids.shape[0]):
            for position in range(1, input_ids.shape[1]):
                previous = int(input_ids[row, position - 1])
                if int(input_ids[row, position]) == MASK and previous in table:
                    logits[row, position] = table[previous]
        return logits

    return logits_fn
