"""Scorers that validate filled templates against a target model."""

from ._base import SCORERS, CandidateScore, FunctionScorer, Scorer, resolve_scorer
from ._target import GenerationScorer, TargetScorer

__all__ = ["SCORERS", "CandidateScore", "FunctionScorer", "GenerationScorer", "Scorer", "TargetScorer", "resolve_scorer"]
