"""Masked-diffusion decoding of a batch of independent rows, for the dlm target's answers.

:class:`~promptfill.sampling.MaskedDiffusionSampler` decodes one canvas whose copies vote for
one shared infill. A target's prompts must not vote together: each row here has its own
response slots, its own commit quota and its own random generator. So a row's answer is the
one that the sampler gives for that row's context alone, whatever other rows share the batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..sampling import Canvas, MaskedDiffusionSampler, SamplerConfig, sample_tokens
from ..sampling._logits import filter_scores
from ..sampling._sampler import _make_generator, _quota, _top_slots


@dataclass(frozen=True)
class RowBatch:
    """Single-row canvases stacked into one right-padded batch.

    Attributes:
        input_ids: ``[B, L]`` long, each row's context, right-padded with the pad id.
        attention_mask: ``[B, L]`` long, 1 for real tokens and 0 for padding.
        positions: ``[B, S]`` long, the position of each row's response slot ``s``.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    positions: torch.Tensor


def stack_rows(canvases: Sequence[Canvas], pad_token_id: int) -> RowBatch:
    """Stack one-context canvases that all have ``S`` slots into a right-padded batch.

    Right padding keeps every real token at the position it has alone, so models with absolute
    or rotary positions need no position ids, and the attention mask hides the padding.

    NOTE: a model whose forward takes no attention mask attends to the padding, and the backend
    warns once. Its answers then depend on the longest prompt of the batch, so use
    ``batch_size=1`` for such a model.
    """
    width = max(canvas.input_ids.shape[1] for canvas in canvases)
    num_slots = canvases[0].num_slots
    input_ids = torch.full((len(canvases), width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(canvases), width), dtype=torch.long)
    positions = torch.empty((len(canvases), num_slots), dtype=torch.long)
    for row, canvas in enumerate(canvases):
        length = canvas.input_ids.shape[1]
        input_ids[row, :length] = canvas.input_ids[0]
        attention_mask[row, :length] = canvas.attention_mask[0]
        positions[row, canvas.occurrence_slots] = canvas.occurrence_positions
    return RowBatch(input_ids=input_ids, attention_mask=attention_mask, positions=positions)


def row_seed(seed: int | None, prompt: str) -> int | None:
    """Derive a row's generator seed from the sampler seed and its prompt; None stays None.

    Seeding by prompt, not by position in the batch, makes a sampled answer independent of
    which other prompts share the batch and of their order.
    """
    if seed is None:
        return None
    digest = hashlib.sha256(f"{seed}\n{prompt}".encode()).digest()
    # 63 bits, inside the range torch.Generator.manual_seed accepts.
    return int.from_bytes(digest[:8], "big") >> 1


class RowwiseDecoder:
    """Unmask the response slots of every row of a batch, each row on its own schedule.

    Every step runs one forward pass over the rows still decoding. Then each row proposes a
    token per masked slot and commits its own quota of them, by the sampler's schedule and
    remasking rule, exactly as :class:`~promptfill.sampling.MaskedDiffusionSampler` does for a
    single-context canvas.

    Args:
        config: Sampler settings. The rowwise decoder reads ``steps``, ``remasking``,
            ``temperature``, ``top_k``, ``top_p`` and ``threshold`` and ignores the settings
            about candidates and layout.
    """

    def __init__(self, config: SamplerConfig) -> None:
        self.config = config
        self.sampler = MaskedDiffusionSampler(config)

    def decode(self, backend: Any, batch: RowBatch, generators: Sequence[torch.Generator]) -> tuple[torch.Tensor, int]:
        """Fill every row's masked slots.

        Args:
            backend: An object with ``logits(input_ids [B, L], attention_mask [B, L]) -> [B, L, V]``,
                ``forbidden_token_ids`` and ``device``.
            batch: The rows, with mask tokens at ``batch.positions``.
            generators: One random source per row, used when sampling or remasking draws noise.

        Returns:
            The committed tokens ``[B, S]`` (on the CPU) and the number of forward passes.
        """
        device = torch.device(backend.device)
        input_ids = batch.input_ids.to(device)  # [B, L]
        attention_mask = batch.attention_mask.to(device)  # [B, L]
        positions = batch.positions.to(device)  # [B, S]
        masked = torch.ones(positions.shape, dtype=torch.bool, device=device)  # [B, S]
        tokens = torch.zeros(positions.shape, dtype=torch.long, device=device)  # [B, S]
        forbidden = backend.forbidden_token_ids.to(device)
        total_steps = self.sampler.planned_steps(positions.shape[1])
        forward_passes = 0

        for step in range(total_steps):
            # 1. One forward pass for the rows that still have masked slots. Only threshold
            # decoding lets some rows finish before others.
            rows = masked.any(dim=1).nonzero().squeeze(1)  # [b]
            if rows.numel() == 0:
                break
            logits = backend.logits(input_ids[rows], attention_mask[rows])  # [b, L, V]
            forward_passes += 1

            # 2. Each row chooses the tokens to commit, and they are written to its context.
            logprobs = _slot_logprobs(logits, positions[rows], forbidden)  # [b, S, V]
            commit, proposed = self._choose(logprobs, masked[rows], total_steps - step, [generators[r] for r in rows.tolist()])
            committed_rows, committed_slots = commit.nonzero(as_tuple=True)
            batch_rows = rows[committed_rows]
            tokens[batch_rows, committed_slots] = proposed[committed_rows, committed_slots]
            masked[batch_rows, committed_slots] = False
            input_ids[batch_rows, positions[batch_rows, committed_slots]] = proposed[committed_rows, committed_slots]
        return tokens.cpu(), forward_passes

    def _choose(
        self, logprobs: torch.Tensor, masked: torch.Tensor, steps_left: int, generators: list[torch.Generator]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return which slots each row commits now ``[b, S]`` bool, and their tokens ``[b, S]``.

        The operations and their order follow ``MaskedDiffusionSampler._step`` with one copy per
        slot, so that greedy answers match the sampler's token for token. Random draws use each
        row's own generator.
        """
        config = self.config

        # 1. Propose a token per slot.
        probs = logprobs.log_softmax(dim=-1).exp()  # [b, S, V]
        if config.temperature == 0:
            proposed = logprobs.argmax(dim=-1)  # [b, S]
        else:
            scores = filter_scores(logprobs, config.top_k, config.top_p, config.temperature)
            proposed = torch.stack([
                sample_tokens(scores[row], config.temperature, generator) for row, generator in enumerate(generators)
            ])
        token_probs = probs.gather(-1, proposed.unsqueeze(-1)).squeeze(-1)  # [b, S]

        # 2. Commit the schedule's quota of each row by remasking score, plus (with a threshold)
        # every slot whose token is likelier than the threshold.
        remasking = self.sampler.remasking
        scores = torch.cat([
            remasking.confidence(probs[row : row + 1], proposed[row : row + 1], generator)
            for row, generator in enumerate(generators)
        ]).float()  # [b, S]
        scores = scores.masked_fill(~masked, float("-inf"))
        commit = _top_slots(scores, _quota(masked, steps_left))
        if config.threshold is not None:
            commit |= token_probs > config.threshold
        return commit & masked, proposed


def make_generators(seed: int | None, prompts: Sequence[str], device: torch.device | str) -> list[torch.Generator]:
    """Return one generator per prompt, seeded by :func:`row_seed`."""
    return [_make_generator(row_seed(seed, prompt), torch.device(device)) for prompt in prompts]


def _slot_logprobs(logits: torch.Tensor, positions: torch.Tensor, forbidden: torch.Tensor) -> torch.Tensor:
    """Return each slot's float32 log-probabilities over the allowed tokens, ``[b, S, V]``.

    Args:
        logits: ``[b, L, V]`` model output.
        positions: ``[b, S]`` the position of each slot in its row.
        forbidden: Token ids that a slot may not take.
    """
    row_index = torch.arange(logits.shape[0], device=logits.device).unsqueeze(1)  # [b, 1]
    slot_logits = logits[row_index, positions].float()  # [b, S, V]
    slot_logits[..., forbidden[forbidden < slot_logits.shape[-1]]] = float("-inf")
    return slot_logits.log_softmax(dim=-1)
