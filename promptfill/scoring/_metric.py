"""MetricScorer: a user's metric function over the generated answer and the reference."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigError
from ._base import SCORERS, Example
from ._target import GenerationScorer

MetricFunction = Callable[[str, str, Example], float]


@SCORERS.register("metric")
class MetricScorer(GenerationScorer):
    """Score generated answers with your own metric function.

    Args:
        metric: ``metric(prediction, reference, example) -> float`` (higher is better), or a
            ``"module:function"`` string naming one, so task files can use it. With several
            acceptable references the best value counts.
        target: The model to validate against (see :class:`TargetScorer`).
        name: The name shown in results; defaults to the function's name.
        target_settings: Keyword arguments for a target given by name.
        reference_field: Take the reference from this example field instead of the template's
            answer part.

    Raises:
        ConfigError: For a string that does not name an importable function, or a metric that
            returns something other than a finite number.
    """

    name = "metric"

    def __init__(
        self,
        metric: MetricFunction | str,
        target: Any = None,
        *,
        name: str | None = None,
        target_settings: Mapping[str, Any] | None = None,
        reference_field: str | None = None,
    ) -> None:
        super().__init__(target, target_settings=target_settings, reference_field=reference_field)
        self.function = import_metric(metric) if isinstance(metric, str) else metric
        if not callable(self.function):
            raise ConfigError(
                f"metric={metric!r} is not callable; pass a function (prediction, reference, example) -> float "
                "or a 'module:function' string"
            )
        self.name = name or getattr(self.function, "__name__", "metric")

    def metric(self, prediction: str, reference: str, example: Example) -> float:
        value = self.function(prediction, reference, example)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ConfigError(
                f"metric {self.name!r} returned {value!r} for prediction {prediction!r}; it must return a number "
                "(higher is better)"
            )
        return float(value)


def import_metric(spec: str) -> MetricFunction:
    """Import the function named by ``"package.module:function"``."""
    module_name, separator, attribute = spec.partition(":")
    if not separator or not module_name or not attribute:
        raise ConfigError(f"metric={spec!r} is invalid; write it as 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"metric={spec!r}: cannot import module {module_name!r} ({error}); check the name and PYTHONPATH") from None
    function = module
    for part in attribute.split("."):
        if not hasattr(function, part):
            raise ConfigError(f"metric={spec!r}: module {module_name!r} has no attribute {attribute!r}")
        function = getattr(function, part)
    return function  # type: ignore[return-value]
