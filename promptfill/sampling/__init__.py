"""Masked-diffusion decoding restricted to the hole tokens of a prompt template."""

from ._canvas import Canvas, RenderedCopyLike, build_canvas
from ._config import Layout, SamplerConfig, config_error_from_validation
from ._logits import filter_top_k, filter_top_p, sample_tokens
from ._remasking import (
    REMASKING,
    EntropyRemasking,
    LowConfidenceRemasking,
    MarginRemasking,
    RandomRemasking,
    RemaskingStrategy,
)
from ._sampler import MaskedDiffusionSampler, SampleOutput, StepRecord

__all__ = [
    "REMASKING",
    "Canvas",
    "EntropyRemasking",
    "Layout",
    "LowConfidenceRemasking",
    "MarginRemasking",
    "MaskedDiffusionSampler",
    "RandomRemasking",
    "RemaskingStrategy",
    "RenderedCopyLike",
    "SampleOutput",
    "SamplerConfig",
    "StepRecord",
    "build_canvas",
    "config_error_from_validation",
    "filter_top_k",
    "filter_top_p",
    "sample_tokens",
]
