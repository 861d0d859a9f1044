"""Scorers that run each candidate prompt on a target model and grade what comes back.

:class:`TargetScorer` renders the candidate for every dev example, sends the requests to its
target in one batch (the target's cache answers repeats), and turns the responses into one value
per example. A failed request fails the candidate with :class:`ScorerError`; the answers that did
arrive stay in the cache, so a rerun sends only what is still missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DataError, ScorerError
from ..targets import Response, Target, resolve_target
from ._base import CandidateScore, Example, Scorer

if TYPE_CHECKING:
    from .._results import FilledTemplate


class TargetScorer(Scorer):
    """Base class of scorers backed by a target model.

    Args:
        target: The model to validate against: a :class:`~promptfill.targets.Target`, a
            registered target name, or a callable ``prompts -> texts``. ``None`` means the
            infiller's own model, bound when the scorer is passed to ``PromptInfiller.fill``.
        target_settings: Keyword arguments for a target given by name.
        reference_field: Take the reference answer from this example field instead of the
            template's answer part (after ``|||``). A field may hold a list of acceptable answers.

    Subclasses implement :meth:`score_examples`.
    """

    def __init__(self, target: Target | str | Any | None = None, *, target_settings: Mapping[str, Any] | None = None, reference_field: str | None = None) -> None:
        self.target = resolve_target(target, **dict(target_settings or {}))
        self.reference_field = reference_field

    def bind(self, infiller: Any) -> None:
        """Use the infiller's own model as the target when none was given."""
        if self.target is None:
            from ..targets import TARGETS

            self.target = TARGETS.create("dlm", backend=infiller.backend)

    def require_target(self) -> Target:
        """Return the target, or raise :class:`ConfigError` when none is set or bound."""
        if self.target is None:
            raise ConfigError(
                f"scorer {self.name!r} has no target model; pass target=... (a Target, a name such as "
                "'openai', 'causal_lm' or 'dlm', or a callable), or pass the scorer to PromptInfiller.fill, "
                "which binds the infiller's own model"
            )
        return self.target

    def score(self, candidate: FilledTemplate, examples: Sequence[Example]) -> CandidateScore:
        """Score ``candidate`` on ``examples``; raise :class:`ScorerError` if any request failed."""
        if not examples:
            raise ConfigError("no dev examples to score on; pass dev_examples with at least one example")
        return CandidateScore.from_values(self.score_examples(candidate, examples))

    def score_examples(self, candidate: FilledTemplate, examples: Sequence[Example]) -> list[float]:
        """Return one value per example (higher is better)."""
        raise NotImplementedError

    # Helpers for subclasses.

    def prompts(self, candidate: FilledTemplate, examples: Sequence[Example]) -> list[str]:
        """Render the prompt the target receives for each example."""
        return [candidate.render(**example) for example in examples]

    def references(self, candidate: FilledTemplate, examples: Sequence[Example]) -> list[list[str]]:
        """Return the acceptable reference answers of each example (one or more strings)."""
        references = []
        for index, example in enumerate(examples):
            if self.reference_field is not None:
                if self.reference_field not in example:
                    raise DataError(
                        f"dev example {index} has no field {self.reference_field!r} (reference_field); "
                        f"its fields are {sorted(example)}"
                    )
                value = example[self.reference_field]
            else:
                value = candidate.render_answer(**example)
                if value is None:
                    raise DataError(
                        f"scorer {self.name!r} needs a reference answer, but the template has no answer part; "
                        "add ' ||| {{ answer_field }}' to the template or set reference_field"
                    )
            values = [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
            if not values or all(not v.strip() for v in values):
                raise DataError(f"dev example {index} has an empty reference answer; remove it or fill it in")
            references.append(values)
        return references

    def raise_failures(self, responses: Sequence[Response]) -> None:
        """Raise :class:`ScorerError` when any response failed, naming how many and the first reason."""
        failed = [r for r in responses if not r.ok]
        if failed:
            raise ScorerError(
                f"{len(failed)} of {len(responses)} requests to target {self.require_target().name!r} failed "
                f"(first: {failed[0].error}); answers that arrived are cached, so a rerun resends only the failed ones"
            )


class GenerationScorer(TargetScorer):
    """A scorer that grades the target's generated text against the reference answers.

    Subclasses implement :meth:`metric`; the best value over the acceptable references counts.
    """

    def score_examples(self, candidate: FilledTemplate, examples: Sequence[Example]) -> list[float]:
        references = self.references(candidate, examples)
        responses = self.require_target().generate(self.prompts(candidate, examples))
        self.raise_failures(responses)
        return [
            max(self.metric(response.text or "", reference, example) for reference in options)
            for response, options, example in zip(responses, references, examples)
        ]

    def metric(self, prediction: str, reference: str, example: Example) -> float:
        """Return the value of one prediction against one reference (higher is better)."""
        raise NotImplementedError
