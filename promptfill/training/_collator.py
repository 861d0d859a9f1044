"""Collate tokenized pairs into masked-diffusion training batches."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ._config import MaskingConfig
from ._data import TokenizedPair


class MaskedDiffusionCollator:
    """Pad a list of pairs and mask tokens for one masked-diffusion training step.

    Each sequence b draws one mask ratio ``t_b ~ U(eps, 1)``; each eligible token is then masked
    independently with probability ``t_b``. Which tokens are eligible depends on the mode:

    * ``full_sequence``: every prompt and response token (prompt and response masked jointly);
    * ``response_only``: response tokens only, the prompt stays clean (standard SFT);
    * ``two_stage``: ``full_sequence`` until the training progress passes ``stage_split``, then
      ``response_only``. The trainer reports progress through :meth:`set_progress`.

    Special tokens that frame the sequence ([CLS], the prompt/response [SEP]) are never masked;
    the closing end-of-sequence token is part of the response and is masked when ``mask_eos``.
    Padding is never masked and never enters the loss.

    Returns a dict with ``input_ids [B, L]`` (masked), ``attention_mask [B, L]``, ``labels [B, L]``
    (clean id at masked positions, -100 elsewhere), ``mask_ratio [B]`` (t_b), ``eligible [B, L]``
    (the tokens that could have been masked) and ``prompt_mask [B, L]`` (prompt-side tokens).
    """

    def __init__(
        self,
        mask_token_id: int,
        pad_token_id: int,
        config: MaskingConfig | None = None,
        *,
        special_token_ids: Sequence[int] = (),
        fixed_ratio: float | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        self.mask_token_id = mask_token_id
        self.pad_token_id = pad_token_id
        self.config = config or MaskingConfig()
        self.special_token_ids = torch.tensor(sorted(set(special_token_ids)), dtype=torch.long)
        self.fixed_ratio = fixed_ratio
        self.generator = generator
        self.progress = 0.0

    @property
    def active_mode(self) -> str:
        """The mode used for the next batch (two_stage resolves to one of the other two)."""
        if self.config.mode != "two_stage":
            return self.config.mode
        return "full_sequence" if self.progress < self.config.stage_split else "response_only"

    def set_progress(self, fraction: float) -> None:
        """Record how far training has gone (0 to 1); only the two_stage mode reads it."""
        self.progress = fraction

    def __call__(self, batch: Sequence[TokenizedPair | dict]) -> dict[str, torch.Tensor]:
        # 1. Pad to the longest sequence.
        items = [_as_pair(item) for item in batch]
        B, L = len(items), max(len(item.input_ids) for item in items)
        clean = torch.full((B, L), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((B, L), dtype=torch.long)
        prompt_mask = torch.zeros((B, L), dtype=torch.bool)
        for b, item in enumerate(items):
            n = len(item.input_ids)
            clean[b, :n] = torch.tensor(item.input_ids, dtype=torch.long)
            attention_mask[b, :n] = 1
            prompt_mask[b, : item.prompt_length] = True

        # 2. Decide which tokens may be masked.
        eligible = attention_mask.bool() & ~torch.isin(clean, self.special_token_ids)
        if self.config.mask_eos:
            last = attention_mask.sum(dim=1) - 1  # [B] index of the closing token
            eligible[torch.arange(B), last] = True
        if self.active_mode == "response_only":
            eligible &= ~prompt_mask

        # 3. Draw t_b ~ U(eps, 1) and mask each eligible token with probability t_b.
        if self.fixed_ratio is not None:
            mask_ratio = torch.full((B,), self.fixed_ratio)
        else:
            eps = self.config.eps
            mask_ratio = eps + (1.0 - eps) * torch.rand(B, generator=self.generator)
        masked = eligible & (torch.rand((B, L), generator=self.generator) < mask_ratio[:, None])
        # Guarantee at least one masked token per sequence that has any eligible token, so no
        # sequence contributes an empty, zero-weight term to the loss.
        empty = ~masked.any(dim=1) & eligible.any(dim=1)
        for b in torch.nonzero(empty).flatten().tolist():
            candidates = torch.nonzero(eligible[b]).flatten()
            pick = candidates[torch.randint(len(candidates), (1,), generator=self.generator)]
            masked[b, pick] = True

        input_ids = torch.where(masked, torch.full_like(clean, self.mask_token_id), clean)
        labels = torch.where(masked, clean, torch.full_like(clean, -100))
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "labels": labels,
            "mask_ratio": mask_ratio,
            "eligible": eligible,
            "prompt_mask": prompt_mask,
        }


def _as_pair(item: TokenizedPair | dict) -> TokenizedPair:
    if isinstance(item, TokenizedPair):
        return item
    return TokenizedPair(list(item["input_ids"]), int(item["prompt_length"]), bool(item.get("truncated", False)))
