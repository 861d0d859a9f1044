"""ExactMatchScorer: 1.0 when the generated answer equals a reference after normalisation."""

from __future__ import annotations

from ._base import SCORERS, Example
from ._normalize import NormalizingScorer


@SCORERS.register("exact_match")
class ExactMatchScorer(NormalizingScorer):
    """Score 1.0 when the target's answer equals one of the references after normalisation, else 0.0.

    Settings and arguments are those of :class:`NormalizingScorer`: by default case, ASCII
    punctuation, the articles a/an/the and extra whitespace are ignored.
    """

    name = "exact_match"

    def metric(self, prediction: str, reference: str, example: Example) -> float:
        return float(self.normalize_prediction(prediction) == self.normalize_reference(reference))
