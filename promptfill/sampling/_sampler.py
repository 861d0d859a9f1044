"""MaskedDiffusionSampler: masked-diffusion decoding restricted to the hole tokens of a canvas."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import torch

from ..errors import ConfigError
from ._canvas import Canvas
from ._config import SamplerConfig
from ._logits import filter_scores, sample_tokens
from ._remasking import REMASKING

logger = logging.getLogger(__name__)

__all__ = ["MaskedDiffusionSampler", "SampleOutput", "StepRecord"]

StepCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class StepRecord:
    """The hole tokens that one denoising step committed, per candidate.

    Attributes:
        step: The step index, from 0.
        slots: For each candidate, the slots committed at this step, in increasing order.
        tokens: For each candidate, the token committed to each of those slots.
        confidences: For each candidate, the probability of each committed token under the
            combined distribution.
    """

    step: int
    slots: tuple[tuple[int, ...], ...]
    tokens: tuple[tuple[int, ...], ...]
    confidences: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class SampleOutput:
    """Infills sampled for one canvas.

    Attributes:
        tokens: ``[N, S]`` long, the token of every slot of every candidate.
        token_logprobs: ``[N, S]`` float, the ranking score. It is each token's log-probability
            summed over the copies that contain its slot and divided by their number, taken
            at temperature 1 at the step that committed the token.
        confidences: ``[N, S]`` float, each token's probability under the combined distribution
            at the step it was committed.
        canvas_ids: ``[N, G, L]`` long, each candidate's contexts with every hole filled.
        history: One :class:`StepRecord` per step when ``record_history`` is set, else None.
        forward_passes: Model calls made (one per step, times the chunks of ``batch_size``).
        steps: Denoising steps run; threshold decoding can finish before the planned count.
    """

    tokens: torch.Tensor
    token_logprobs: torch.Tensor
    confidences: torch.Tensor
    canvas_ids: torch.Tensor
    history: list[StepRecord] | None
    forward_passes: int
    steps: int


@dataclass
class _Occurrences:
    """Every occurrence of every slot, for all ``N`` candidates at once, flattened to ``[N*K]``."""

    candidates: torch.Tensor  # [N*K] candidate index n
    rows: torch.Tensor  # [N*K] row in the repeated canvas, n * G + row
    positions: torch.Tensor  # [N*K]
    slots: torch.Tensor  # [N*K]
    targets: torch.Tensor  # [N*K] row of the flattened [N*S, V] buffer, n * S + slot


@dataclass
class _DecodeState:
    """Decoding state that changes from step to step."""

    input_ids: torch.Tensor  # [N*G, L]
    masked: torch.Tensor  # [N, S] bool, slots still to commit
    tokens: torch.Tensor  # [N, S] long
    token_logprobs: torch.Tensor  # [N, S] float
    confidences: torch.Tensor  # [N, S] float
    occurrence_counts: torch.Tensor  # [S] long, copies that contain each slot
    history: list[StepRecord] | None
    forward_passes: int = 0
    steps: int = 0


class MaskedDiffusionSampler:
    """Fill the hole tokens of a canvas by masked-diffusion decoding.

    At every step the sampler runs the model on every context of every candidate. It combines
    the predictions of all occurrences of each hole token, so the copies vote for one shared
    infill. Then it samples a token for each still-masked hole token and commits the most
    confident ones to every copy at once.

    Args:
        config: Sampler settings; defaults to ``SamplerConfig()``.
        **overrides: Settings that replace those of ``config``, such as ``temperature=0.7``.
    """

    def __init__(self, config: SamplerConfig | None = None, **overrides: Any) -> None:
        config = config if config is not None else SamplerConfig()
        if overrides:
            config = SamplerConfig(**{**config.model_dump(), **overrides})
        self.config = config
        self.remasking = REMASKING.create(config.remasking)

    def sample(
        self,
        backend: Any,
        canvas: Canvas,
        *,
        num_candidates: int | None = None,
        generator: torch.Generator | None = None,
        callback: StepCallback | None = None,
    ) -> SampleOutput:
        """Sample ``N`` infills of the canvas's holes.

        Args:
            backend: A :class:`~promptfill.backends.MaskedLMBackend`, or any object with
                ``logits(input_ids [B, L], attention_mask [B, L]) -> [B, L, V]``,
                ``forbidden_token_ids`` and ``device``.
            canvas: The canvas from :func:`build_canvas`.
            num_candidates: ``N``; defaults to ``config.num_candidates``.
            generator: Random source; defaults to one seeded with ``config.seed``.
            callback: Called as ``callback(step, total_steps)`` after each step, ``step``
                counting from 1, for progress bars.

        Returns:
            Tokens, log-probabilities and confidences ``[N, S]``, on the CPU.
        """
        num_candidates = self.config.num_candidates if num_candidates is None else num_candidates
        if isinstance(num_candidates, bool) or not isinstance(num_candidates, int) or num_candidates < 1:
            raise ConfigError(f"num_candidates={num_candidates!r} is invalid; pass an integer >= 1")
        device = torch.device(backend.device)
        total_steps = self.planned_steps(canvas.num_slots)
        state = self._initial_state(canvas, num_candidates, device)
        if canvas.num_slots == 0:
            return self._output(state)
        if generator is None:
            generator = _make_generator(self.config.seed, device)
        occurrences = _flatten_occurrences(canvas, num_candidates, device)
        attention_mask = canvas.attention_mask.to(device).repeat(num_candidates, 1)  # [N*G, L]

        for step in range(total_steps):
            if not state.masked.any():
                break
            summed = self._sum_logprobs(backend, state, attention_mask, occurrences, canvas.num_slots)
            self._step(state, summed, occurrences, step, total_steps, generator)
            if callback is not None:
                callback(step + 1, total_steps)
        return self._output(state)

    def planned_steps(self, num_slots: int) -> int:
        """Return the denoising steps for ``num_slots`` hole tokens: ``steps``, capped at one per token."""
        steps = self.config.steps
        if steps is None:
            return num_slots
        if steps > num_slots:
            logger.info(
                "steps=%d is more than the %d hole tokens to fill; using %d steps, one token per step",
                steps, num_slots, num_slots,
            )
            return num_slots
        return steps

    def _initial_state(self, canvas: Canvas, num_candidates: int, device: torch.device) -> _DecodeState:
        shape = (num_candidates, canvas.num_slots)
        return _DecodeState(
            input_ids=canvas.input_ids.to(device).repeat(num_candidates, 1),
            masked=torch.ones(shape, dtype=torch.bool, device=device),
            tokens=torch.zeros(shape, dtype=torch.long, device=device),
            token_logprobs=torch.zeros(shape, dtype=torch.float32, device=device),
            confidences=torch.zeros(shape, dtype=torch.float32, device=device),
            history=[] if self.config.record_history else None,
            occurrence_counts=torch.bincount(canvas.occurrence_slots, minlength=canvas.num_slots).to(device),
        )

    def _sum_logprobs(
        self,
        backend: Any,
        state: _DecodeState,
        attention_mask: torch.Tensor,
        occurrences: _Occurrences,
        num_slots: int,
    ) -> torch.Tensor:
        """Run the model and sum each still-masked slot's log-probabilities over its occurrences.

        Returns:
            ``[N, S, V]`` float32; rows of committed slots stay 0.
        """
        num_candidates = state.masked.shape[0]
        num_rows = state.input_ids.shape[0]
        chunk_size = self.config.batch_size or num_rows
        forbidden = backend.forbidden_token_ids.to(state.input_ids.device)
        active = state.masked[occurrences.candidates, occurrences.slots]  # [N*K]
        summed: torch.Tensor | None = None

        for start in range(0, num_rows, chunk_size):
            stop = min(start + chunk_size, num_rows)
            logits = backend.logits(state.input_ids[start:stop], attention_mask[start:stop])  # [b, L, V]
            state.forward_passes += 1
            if summed is None:
                vocab_size = logits.shape[-1]
                summed = torch.zeros(num_candidates * num_slots, vocab_size, device=logits.device)
                forbidden = forbidden[forbidden < vocab_size]
            selected = active & (occurrences.rows >= start) & (occurrences.rows < stop)
            if not selected.any():
                continue
            # Log-softmax per occurrence in float32, over the allowed tokens only, so that every
            # copy contributes a normalized distribution to the product of experts.
            rows = occurrences.rows[selected] - start
            occurrence_logits = logits[rows, occurrences.positions[selected]].float()  # [k, V]
            occurrence_logits[:, forbidden] = float("-inf")
            summed.index_add_(0, occurrences.targets[selected], occurrence_logits.log_softmax(dim=-1))
        # A canvas has at least one row, so the loop above has created the buffer.
        return cast(torch.Tensor, summed).view(num_candidates, num_slots, -1)

    def _step(
        self,
        state: _DecodeState,
        summed: torch.Tensor,
        occurrences: _Occurrences,
        step: int,
        total_steps: int,
        generator: torch.Generator,
    ) -> None:
        """Sample tokens for the masked slots, choose which to commit, and write them to the canvas."""
        config = self.config

        # 1. Propose a token per slot from the combined (product of experts) distribution.
        combined = summed.log_softmax(dim=-1)  # [N, S, V]
        probs = combined.exp()
        if config.temperature == 0:
            proposed = summed.argmax(dim=-1)  # [N, S]
        else:
            scores = filter_scores(summed, config.top_k, config.top_p, config.temperature)
            proposed = sample_tokens(scores, config.temperature, generator)
        token_probs = probs.gather(-1, proposed.unsqueeze(-1)).squeeze(-1)  # [N, S]

        # 2. Choose the slots to commit: the schedule's quota by remasking score, plus (with a
        # threshold) every slot whose token is likelier than the threshold.
        scores = self.remasking.confidence(probs, proposed, generator).float()
        scores = scores.masked_fill(~state.masked, float("-inf"))
        commit = _top_slots(scores, _quota(state.masked, total_steps - step))
        if config.threshold is not None:
            commit |= token_probs > config.threshold
        commit &= state.masked

        # 3. Record the committed tokens and write them to every occurrence.
        state.tokens[commit] = proposed[commit]
        summed_token = summed.gather(-1, proposed.unsqueeze(-1)).squeeze(-1)  # [N, S]
        state.token_logprobs[commit] = (summed_token / state.occurrence_counts)[commit]
        state.confidences[commit] = token_probs[commit]
        state.masked &= ~commit
        written = commit[occurrences.candidates, occurrences.slots]  # [N*K]
        state.input_ids[occurrences.rows[written], occurrences.positions[written]] = proposed[
            occurrences.candidates[written], occurrences.slots[written]
        ]
        state.steps += 1
        if state.history is not None:
            state.history.append(_record(step, commit, proposed, token_probs))

    def _output(self, state: _DecodeState) -> SampleOutput:
        num_candidates = state.masked.shape[0]
        return SampleOutput(
            tokens=state.tokens.cpu(),
            token_logprobs=state.token_logprobs.cpu(),
            confidences=state.confidences.cpu(),
            canvas_ids=state.input_ids.view(num_candidates, -1, state.input_ids.shape[-1]).cpu(),
            history=state.history,
            forward_passes=state.forward_passes,
            steps=state.steps,
        )


def _quota(masked: torch.Tensor, steps_left: int) -> torch.Tensor:
    """Return how many slots each candidate commits now: ``ceil(remaining / steps_left)``, ``[N]``.

    With no extra commits this spreads ``S`` slots evenly over the steps, earlier steps taking
    the remainder (7 slots in 3 steps: 3, 2, 2), and it always finishes by the last step.
    """
    remaining = masked.sum(dim=1)
    return torch.div(remaining + steps_left - 1, steps_left, rounding_mode="floor")


def _top_slots(scores: torch.Tensor, quota: torch.Tensor) -> torch.Tensor:
    """Mark the ``quota[n]`` highest scores of each row; ties go to the lower slot. ``[N, S]`` bool."""
    order = scores.argsort(dim=1, descending=True, stable=True)
    positions = torch.arange(scores.shape[1], device=scores.device).expand_as(order)
    ranks = torch.empty_like(order).scatter_(1, order, positions)
    return ranks < quota.unsqueeze(1)


def _flatten_occurrences(canvas: Canvas, num_candidates: int, device: torch.device) -> _Occurrences:
    num_occurrences = canvas.occurrence_slots.shape[0]
    candidates = torch.arange(num_candidates, device=device).repeat_interleave(num_occurrences)
    slots = canvas.occurrence_slots.to(device).repeat(num_candidates)
    return _Occurrences(
        candidates=candidates,
        rows=candidates * canvas.num_contexts + canvas.occurrence_rows.to(device).repeat(num_candidates),
        positions=canvas.occurrence_positions.to(device).repeat(num_candidates),
        slots=slots,
        targets=candidates * canvas.num_slots + slots,
    )


def _make_generator(seed: int | None, device: torch.device) -> torch.Generator:
    """Return a generator on ``device``, or on the CPU for MPS, which has no float64 for the noise."""
    generator_device = device if device.type in ("cpu", "cuda") else torch.device("cpu")
    generator = torch.Generator(device=generator_device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator


def _record(step: int, commit: torch.Tensor, tokens: torch.Tensor, confidences: torch.Tensor) -> StepRecord:
    slots, chosen, probabilities = [], [], []
    for row in range(commit.shape[0]):
        committed = commit[row].nonzero().squeeze(1)
        slots.append(tuple(committed.tolist()))
        chosen.append(tuple(tokens[row, committed].tolist()))
        probabilities.append(tuple(confidences[row, committed].tolist()))
    return StepRecord(step=step, slots=tuple(slots), tokens=tuple(chosen), confidences=tuple(probabilities))
