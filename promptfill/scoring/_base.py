"""The scorer plugin interface: validate a filled template on dev examples.

A scorer stores its settings in ``__init__`` and does its work in :meth:`Scorer.score`. Built-in
scorers register by name in :data:`SCORERS`; third-party packages add theirs through the
``promptfill.scorers`` entry point group::

    [project.entry-points."promptfill.scorers"]
    my_metric = "my_package.scorers:MyMetricScorer"
"""

from __future__ import annotations

import math
import statistics
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from .._registry import Registry
from ..errors import ConfigError, ScorerError

if TYPE_CHECKING:
    from .._results import FilledTemplate

Example = Mapping[str, Any]


class CandidateScore(BaseModel):
    """A scorer's verdict on one candidate; higher ``value`` is better."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float = Field(description="The mean over examples; higher is better for every scorer.")
    per_example: list[float] = Field(description="One value per dev example, in order.")
    std: float = Field(description="Population standard deviation of per_example.")
    count: int = Field(description="Examples scored.")

    @classmethod
    def from_values(cls, values: Sequence[float]) -> CandidateScore:
        """Summarise per-example values; raise :class:`ScorerError` on none or on NaN."""
        values = [float(v) for v in values]
        if not values:
            raise ScorerError("the scorer returned no values; score at least one dev example")
        bad = [i for i, v in enumerate(values) if math.isnan(v)]
        if bad:
            raise ScorerError(f"the scorer returned NaN for examples {bad}; a failed call must raise, not return NaN")
        return cls(value=statistics.fmean(values), per_example=values, std=statistics.pstdev(values), count=len(values))


class Scorer(ABC):
    """Base class of scorer plugins.

    Subclasses set ``name`` and implement :meth:`score`. A scorer that cannot score a candidate
    (a target model call failed) raises :class:`~promptfill.errors.ScorerError`; it never
    returns a made-up value.
    """

    name: str = "scorer"

    @abstractmethod
    def score(self, candidate: FilledTemplate, examples: Sequence[Example]) -> CandidateScore:
        """Score ``candidate`` on the dev ``examples``."""

    def bind(self, infiller: Any) -> None:
        """Receive the infiller that is about to use this scorer; the default ignores it.

        Scorers without a target of their own use this hook to adopt the infiller's model.
        """


class FunctionScorer(Scorer):
    """Wrap a user callable as a scorer.

    Args:
        function: ``function(candidate, examples)`` returning one float (the mean) or a sequence
            of floats (one per example). Higher must be better.
        name: The name shown in results.
    """

    def __init__(self, function: Callable[..., float | Sequence[float]], name: str | None = None) -> None:
        if not callable(function):
            raise ConfigError(f"scorer function {function!r} is not callable; pass a function (candidate, examples) -> float")
        self.function = function
        self.name = name or getattr(function, "__name__", "function")

    def score(self, candidate: FilledTemplate, examples: Sequence[Example]) -> CandidateScore:
        result = self.function(candidate, examples)
        if isinstance(result, (int, float)):
            return CandidateScore.from_values([float(result)])
        return CandidateScore.from_values(list(result))


SCORERS: Registry[Scorer] = Registry("scorer", entry_point_group="promptfill.scorers")


def resolve_scorer(scorer: Scorer | str | Callable[..., Any] | None, **settings: Any) -> Scorer | None:
    """Turn a scorer argument (instance, registered name, or callable) into a :class:`Scorer`."""
    if scorer is None or isinstance(scorer, Scorer):
        return scorer
    if isinstance(scorer, str):
        return SCORERS.create(scorer, **settings)
    if callable(scorer):
        return FunctionScorer(scorer)
    raise ConfigError(f"scorer={scorer!r} is invalid; pass a Scorer, a registered scorer name ({', '.join(SCORERS.names()) or 'none registered'}) or a callable")
