"""LoglikScorer: the mean per-token log-likelihood of the reference answer under the target."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._base import SCORERS, Example
from ._target import TargetScorer

if TYPE_CHECKING:
    from .._results import FilledTemplate


@SCORERS.register("loglik")
class LoglikScorer(TargetScorer):
    """Score each example by ``logprob / num_tokens`` of its first reference after the prompt.

    Values are natural-log probabilities per token, so they are at most 0 and higher is better.
    Dividing by the token count keeps long and short references comparable. It sends one
    log-likelihood request per dev example, so the target must expose probabilities (``dlm``,
    ``causal_lm``, or a callable target with a ``loglikelihood_function``).
    """

    name = "loglik"

    def score_examples(self, candidate: FilledTemplate, examples: Sequence[Example]) -> list[float]:
        references = [options[0] for options in self.references(candidate, examples)]
        requests = list(zip(self.prompts(candidate, examples), references))
        responses = self.require_target().loglikelihood(requests)
        self.raise_failures(responses)
        return [float(r.logprob) / max(int(r.num_tokens or 1), 1) for r in responses]
