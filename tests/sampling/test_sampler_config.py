"""SamplerConfig defaults and the errors users see for invalid settings."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from promptfill.errors import ConfigError, UnknownNameError
from promptfill.sampling import SamplerConfig, config_error_from_validation


def test_defaults() -> None:
    config = SamplerConfig()

    assert config.steps is None
    assert config.remasking == "low_confidence"
    assert config.temperature == 0.0
    assert config.num_candidates == 8
    assert config.length_trials == 3
    assert config.layout == "packed"
    assert config.seed == 0
    assert config.batch_size is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"num_candidates": 0}, "SamplerConfig: num_candidates=0 is invalid: Input should be greater than or equal to 1"),
        ({"steps": -2}, "SamplerConfig: steps=-2 is invalid: Input should be greater than or equal to 1"),
        ({"temperature": -0.5}, "SamplerConfig: temperature=-0.5 is invalid: Input should be greater than or equal to 0"),
        ({"top_p": 1.5}, "SamplerConfig: top_p=1.5 is invalid: Input should be less than or equal to 1"),
        ({"threshold": 0}, "SamplerConfig: threshold=0 is invalid: Input should be greater than 0"),
        ({"layout": "stacked"}, "SamplerConfig: layout='stacked' is invalid: Input should be 'concat', 'batch' or 'packed'"),
    ],
)
def test_invalid_value_names_field_and_value(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        SamplerConfig(**settings)

    assert str(error.value) == message


def test_unknown_setting_lists_valid_settings() -> None:
    with pytest.raises(ConfigError) as error:
        SamplerConfig(candidates=4)

    assert str(error.value) == (
        "SamplerConfig: 'candidates' is not a setting; valid settings are: batch_size, layout, "
        "length_trials, num_candidates, record_history, remasking, seed, steps, temperature, "
        "threshold, top_k, top_p"
    )


def test_unknown_remasking_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError) as error:
        SamplerConfig(remasking="confidence")

    assert str(error.value) == (
        "unknown remasking strategy 'confidence'; valid names are: entropy, low_confidence, margin, random"
    )


def test_assignment_is_validated() -> None:
    config = SamplerConfig()

    with pytest.raises(ConfigError) as error:
        config.num_candidates = -1

    assert str(error.value) == "SamplerConfig: num_candidates=-1 is invalid: Input should be greater than or equal to 1"
    assert config.num_candidates == 8


def test_helper_converts_other_config_classes() -> None:
    class ScorerSettings(BaseModel):
        model_config = ConfigDict(extra="forbid")
        timeout: float = Field(default=10.0, gt=0)

    with pytest.raises(ValidationError) as raised:
        ScorerSettings(timeout=0)

    error = config_error_from_validation(raised.value, ScorerSettings)

    assert isinstance(error, ConfigError)
    assert str(error) == "ScorerSettings: timeout=0 is invalid: Input should be greater than 0"
