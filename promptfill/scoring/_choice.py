"""ChoiceScorer: rank the answer choices by their likelihood after the prompt."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, get_args

from ..errors import ConfigError, DataError
from ._base import SCORERS, Example
from ._target import TargetScorer

if TYPE_CHECKING:
    from .._results import FilledTemplate

Normalization = Literal["tokens", "none"]
ChoiceMetric = Literal["accuracy", "probability"]


@SCORERS.register("choice")
class ChoiceScorer(TargetScorer):
    """Score whether the target ranks the reference first among the answer choices.

    For every example it sends one log-likelihood request per choice (the prompt, then the
    choice) and ranks the choices by their score.

    Args:
        target: The model to validate against; it must expose log-likelihoods.
        choices: The answer choices for every example. ``None`` takes them from the template's
            ``answer_choices``, rendered for each example.
        normalize: ``"tokens"`` divides each choice's log-probability by its token count, so
            longer choices are not penalised for their length; ``"none"`` keeps the sum.
        metric: ``"accuracy"`` gives 1.0 when the reference has the highest score (the first
            choice wins a tie) and 0.0 otherwise; ``"probability"`` gives the softmax of the
            scores at the reference, a smoother signal on small dev sets.
        target_settings: Keyword arguments for a target given by name.
        reference_field: Take the reference from this example field instead of the template's
            answer part.

    Raises:
        ConfigError: For an invalid setting, or (when scoring) an example with no choices.
        DataError: When a reference is not among its example's choices.
    """

    name = "choice"

    def __init__(
        self,
        target: Any = None,
        *,
        choices: Sequence[str] | None = None,
        normalize: Normalization = "tokens",
        metric: ChoiceMetric = "accuracy",
        target_settings: Mapping[str, Any] | None = None,
        reference_field: str | None = None,
    ) -> None:
        super().__init__(target, target_settings=target_settings, reference_field=reference_field)
        if normalize not in get_args(Normalization):
            raise ConfigError(f"normalize={normalize!r} is invalid; choose one of {list(get_args(Normalization))}")
        if metric not in get_args(ChoiceMetric):
            raise ConfigError(f"metric={metric!r} is invalid; choose one of {list(get_args(ChoiceMetric))}")
        if choices is not None and (isinstance(choices, str) or not choices or not all(isinstance(c, str) for c in choices)):
            raise ConfigError(f"choices={choices!r} is invalid; pass a non-empty list of strings, or None for the template's")
        self.choices = None if choices is None else list(choices)
        self.normalize = normalize
        self.metric = metric

    def score_examples(self, candidate: FilledTemplate, examples: Sequence[Example]) -> list[float]:
        # 1. Find each example's choices and the index of its reference among them.
        references = self.references(candidate, examples)
        per_example = [self._choices_for(candidate, example, index) for index, example in enumerate(examples)]
        answers = [
            _reference_index(index, options, choices) for index, (options, choices) in enumerate(zip(references, per_example))
        ]

        # 2. Score every (prompt, choice) pair in one batch.
        prompts = self.prompts(candidate, examples)
        requests = [(prompt, choice) for prompt, choices in zip(prompts, per_example) for choice in choices]
        responses = self.require_target().loglikelihood(requests)
        self.raise_failures(responses)

        # 3. Turn each example's choice scores into its value.
        values = []
        offset = 0
        for choices, answer in zip(per_example, answers):
            batch = responses[offset : offset + len(choices)]
            offset += len(choices)
            scores = [r.logprob / max(r.num_tokens or 1, 1) if self.normalize == "tokens" else r.logprob for r in batch]
            values.append(self._value(scores, answer))
        return values

    def _choices_for(self, candidate: FilledTemplate, example: Example, index: int) -> list[str]:
        choices = self.choices if self.choices is not None else candidate.template.choices_for(example)
        if not choices:
            raise ConfigError(
                f"scorer 'choice' found no answer choices for dev example {index}; give the template "
                "answer_choices (such as 'no ||| yes') or pass choices=[...] to the scorer"
            )
        return list(choices)

    def _value(self, scores: list[float], answer: int) -> float:
        if self.metric == "accuracy":
            return float(max(range(len(scores)), key=scores.__getitem__) == answer)
        # Softmax with the maximum subtracted, so exp() cannot overflow.
        top = max(scores)
        weights = [math.exp(score - top) for score in scores]
        return weights[answer] / sum(weights)


def _reference_index(index: int, references: list[str], choices: list[str]) -> int:
    """Return the position of the first reference found among the choices (compared stripped)."""
    stripped = [choice.strip() for choice in choices]
    for reference in references:
        if reference.strip() in stripped:
            return stripped.index(reference.strip())
    listed = references[0] if len(references) == 1 else references
    raise DataError(
        f"the reference {listed!r} of dev example {index} is not among its answer choices {choices!r}; "
        "fix the example's answer, or the template's answer_choices"
    )
