"""Remasking strategies: which still-masked hole tokens to commit first at each step.

Each strategy scores every slot; the sampler commits the highest scores. Third-party strategies
register under the ``promptfill.remasking`` entry point group with a class whose
``confidence`` method follows :class:`RemaskingStrategy`.
"""

from __future__ import annotations

from typing import Protocol

import torch

from .._registry import Registry

__all__ = [
    "REMASKING",
    "EntropyRemasking",
    "LowConfidenceRemasking",
    "MarginRemasking",
    "RandomRemasking",
    "RemaskingStrategy",
]


class RemaskingStrategy(Protocol):
    """Score slots so that a higher score is committed sooner."""

    def confidence(
        self, probs: torch.Tensor, tokens: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Score each slot.

        Args:
            probs: ``[N, S, V]`` float, the combined distribution of each slot.
            tokens: ``[N, S]`` long, the token sampled for each slot.
            generator: Random source for strategies that need one.

        Returns:
            ``[N, S]`` float scores; higher means commit sooner.
        """
        ...


REMASKING: Registry[RemaskingStrategy] = Registry("remasking strategy", "promptfill.remasking")


@REMASKING.register("low_confidence")
class LowConfidenceRemasking:
    """Commit the tokens the model is surest of: score = p(chosen token)."""

    def confidence(
        self, probs: torch.Tensor, tokens: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        return probs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)


@REMASKING.register("random")
class RandomRemasking:
    """Commit slots in a uniformly random order, ignoring the model's confidence."""

    def confidence(
        self, probs: torch.Tensor, tokens: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        noise_device = generator.device if generator is not None else probs.device
        noise = torch.rand(tokens.shape, generator=generator, device=noise_device)
        return noise.to(probs.device)


@REMASKING.register("margin")
class MarginRemasking:
    """Commit slots whose top choice leads the runner-up most: score = p1 - p2."""

    def confidence(
        self, probs: torch.Tensor, tokens: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        top_two = probs.topk(2, dim=-1).values  # [N, S, 2]
        return top_two[..., 0] - top_two[..., 1]


@REMASKING.register("entropy")
class EntropyRemasking:
    """Commit slots whose whole distribution is sharpest: score = -entropy."""

    def confidence(
        self, probs: torch.Tensor, tokens: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        # xlogy gives 0 * log 0 = 0 for tokens with zero probability (forbidden ids).
        return torch.xlogy(probs, probs).sum(dim=-1)
