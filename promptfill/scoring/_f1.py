"""F1Scorer: SQuAD-style token F1 between the generated answer and the references."""

from __future__ import annotations

from collections import Counter

from ._base import SCORERS, Example
from ._normalize import NormalizingScorer


def token_f1(prediction_tokens: list[str], reference_tokens: list[str]) -> float:
    """Return the F1 of two bags of tokens: 1.0 when both are empty, 0.0 when only one is."""
    if not prediction_tokens or not reference_tokens:
        return float(prediction_tokens == reference_tokens)
    common = sum((Counter(prediction_tokens) & Counter(reference_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(prediction_tokens)
    recall = common / len(reference_tokens)
    return 2 * precision * recall / (precision + recall)


@SCORERS.register("f1")
class F1Scorer(NormalizingScorer):
    """Score the token F1 of the target's answer against the best-matching reference.

    Both texts are normalised (see :class:`NormalizingScorer` for the settings) and split on
    whitespace; tokens are compared as bags, so a repeated token counts as often as it occurs
    in both.
    """

    name = "f1"

    def metric(self, prediction: str, reference: str, example: Example) -> float:
        return token_f1(self.normalize_prediction(prediction).split(), self.normalize_reference(reference).split())
