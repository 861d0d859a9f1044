"""SamplerConfig: the settings of masked-diffusion infilling."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ConfigError
from ._remasking import REMASKING

__all__ = ["Layout", "SamplerConfig", "ValidatedConfig", "config_error_from_validation"]

Layout = Literal["concat", "batch", "packed"]


def config_error_from_validation(error: ValidationError, config_class: type[BaseModel]) -> ConfigError:
    """Convert a pydantic ``ValidationError`` into a :class:`ConfigError` that names each field.

    A :class:`ConfigError` raised inside a validator (such as an unknown remasking name) is
    returned as it is, so that its own message and type survive.

    Args:
        error: The pydantic error.
        config_class: The config class that failed to validate; its name prefixes the message.
    """
    owner = config_class.__name__
    problems = []
    for detail in error.errors():
        original = (detail.get("ctx") or {}).get("error")
        if isinstance(original, ConfigError):
            return original
        field = ".".join(str(part) for part in detail["loc"]) or "value"
        if detail["type"] == "extra_forbidden":
            valid = ", ".join(sorted(config_class.model_fields))
            problems.append(f"{field!r} is not a setting; valid settings are: {valid}")
        else:
            problems.append(f"{field}={detail['input']!r} is invalid: {detail['msg']}")
    return ConfigError(f"{owner}: " + "; ".join(problems))


class ValidatedConfig(BaseModel):
    """Base of settings models whose invalid values raise :class:`ConfigError`, not pydantic's error.

    Both construction and assignment are checked, so a caller catches one error type.
    """

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as error:
            raise config_error_from_validation(error, type(self)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except ValidationError as error:
            raise config_error_from_validation(error, type(self)) from None


class SamplerConfig(ValidatedConfig):
    """Settings of :class:`MaskedDiffusionSampler`.

    Invalid values raise :class:`~promptfill.errors.ConfigError` naming the field and value,
    both when the config is built and when a field is assigned.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    steps: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Denoising steps (forward passes) for the whole infill. None gives one step per hole "
            "token, the most accurate setting; fewer steps commit several tokens per pass. Values "
            "above the number of hole tokens are lowered to it."
        ),
    )
    remasking: str = Field(
        default="low_confidence",
        description=(
            "Which still-masked hole tokens to commit first: low_confidence, random, margin, entropy, "
            "or a plugin name. low_confidence is the default of LLaDA's sampler and commits the "
            "tokens the copies agree on most."
        ),
    )
    temperature: float = Field(
        default=0.0,
        ge=0.0,
        description=(
            "Softmax temperature of token sampling; 0 decodes greedily, which gives the single "
            "most likely infill per hole-length configuration. At 0 with a deterministic "
            "remasking strategy all candidates of one configuration are identical; raise it "
            "(0.5-1.0) for diverse candidates."
        ),
    )
    top_k: int | None = Field(
        default=None, ge=1, description="Sample only among the k most likely tokens; None keeps all."
    )
    top_p: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        description=(
            "Sample only from the smallest set of likeliest tokens whose total probability "
            "reaches this value; None keeps all."
        ),
    )
    threshold: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        description=(
            "Parallel decoding: at each step also commit every masked hole token whose confidence "
            "exceeds this probability. None commits by the step schedule alone."
        ),
    )
    num_candidates: int = Field(
        default=8,
        ge=1,
        description="Infills sampled per hole-length configuration, batched into one forward pass.",
    )
    length_trials: int = Field(
        default=3,
        ge=1,
        description="How many lengths to try for a hole with a length range ([MASK:3-8]).",
    )
    layout: Layout = Field(
        default="packed",
        description=(
            "How rendered copies share contexts: concat (all in one), batch (one per context) or "
            "packed (as many per context as fit). packed gives each copy the others as context "
            "without overflowing the model's maximum length."
        ),
    )
    seed: int | None = Field(
        default=0,
        description=(
            "Seed of the random generator; the same seed repeats the same candidates. None "
            "draws a fresh seed."
        ),
    )
    record_history: bool = Field(
        default=False,
        description="Keep which hole tokens each step committed, for reports; off to save memory.",
    )
    batch_size: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Maximum contexts per forward pass, to bound memory; None runs all candidates' "
            "contexts in one pass."
        ),
    )

    @field_validator("remasking")
    @classmethod
    def _check_remasking(cls, name: str) -> str:
        REMASKING.get(name)  # raises UnknownNameError listing the valid names
        return name
