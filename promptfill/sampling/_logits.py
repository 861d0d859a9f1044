"""Token choice from scores: top-k and top-p filtering, and Gumbel-max sampling in float64."""

from __future__ import annotations

import torch

__all__ = ["filter_scores", "filter_top_k", "filter_top_p", "sample_tokens"]


def filter_top_k(scores: torch.Tensor, top_k: int) -> torch.Tensor:
    """Set every score outside the ``top_k`` largest of its row to ``-inf``.

    Args:
        scores: ``[..., V]`` unnormalized log-probabilities.
        top_k: How many tokens to keep per row; tokens tied with the k-th are kept too.

    Returns:
        ``[..., V]`` filtered scores.
    """
    if top_k >= scores.shape[-1]:
        return scores
    kth_largest = scores.topk(top_k, dim=-1).values[..., -1:]  # [..., 1]
    return scores.masked_fill(scores < kth_largest, float("-inf"))


def filter_top_p(scores: torch.Tensor, top_p: float, temperature: float = 1.0) -> torch.Tensor:
    """Keep the smallest set of most likely tokens whose probability reaches ``top_p`` (nucleus).

    Args:
        scores: ``[..., V]`` unnormalized log-probabilities.
        top_p: Probability mass to keep, in (0, 1]. The most likely token is always kept.
        temperature: The temperature the tokens will be sampled at, so that the nucleus is
            measured on the distribution that is actually sampled.

    Returns:
        ``[..., V]`` scores with tokens outside the nucleus set to ``-inf``.
    """
    if top_p >= 1.0:
        return scores
    sorted_scores, order = scores.sort(dim=-1, descending=True)
    sorted_probs = torch.softmax(sorted_scores.float() / temperature, dim=-1)
    # A token is dropped when the tokens ranked above it already contain top_p of the mass.
    mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs
    drop_sorted = mass_before >= top_p
    drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
    return scores.masked_fill(drop, float("-inf"))


def filter_scores(scores: torch.Tensor, top_k: int | None, top_p: float | None, temperature: float) -> torch.Tensor:
    """Apply top-k, then top-p (each when set) to ``scores: [..., V]`` before sampling."""
    if top_k is not None:
        scores = filter_top_k(scores, top_k)
    if top_p is not None:
        scores = filter_top_p(scores, top_p, temperature)
    return scores


def sample_tokens(
    scores: torch.Tensor, temperature: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Sample one token per row from ``softmax(scores / temperature)``; argmax at temperature 0.

    Sampling uses the Gumbel-max trick: ``argmax(scores / temperature + g)`` with
    ``g = -log(-log(u))`` and ``u ~ Uniform(0, 1)``. The noise and the sum are computed in
    float64, as in LLaDA's reference sampler, because Zheng et al. (2024, arXiv:2409.02908)
    report that low-precision Gumbel-max lowers the quality of text sampled from masked
    diffusion models even while it improves their perplexity.

    Args:
        scores: ``[..., V]`` unnormalized log-probabilities; ``-inf`` marks excluded tokens.
        temperature: 0 for greedy decoding, else the softmax temperature.
        generator: Random source; its device is where the noise is drawn. MPS has no float64,
            so pass a CPU generator there.

    Returns:
        ``[...]`` long token ids on the device of ``scores``.
    """
    if temperature == 0:
        return scores.argmax(dim=-1)
    noise_device = generator.device if generator is not None else scores.device
    uniform = torch.rand(scores.shape, generator=generator, device=noise_device, dtype=torch.float64)
    gumbel = -torch.log(-torch.log(uniform))
    perturbed = scores.to(noise_device, torch.float64) / temperature + gumbel
    return perturbed.argmax(dim=-1).to(scores.device)
