"""Scorers that validate filled templates against a target model."""

from ._base import SCORERS, CandidateScore, FunctionScorer, Scorer, resolve_scorer
from ._halving import HalvingConfig, evaluate_candidates, halving_schedule
from ._target import GenerationScorer, TargetScorer

__all__ = ["SCORERS", "CandidateScore", "FunctionScorer", "GenerationScorer", "HalvingConfig", "Scorer", "TargetScorer", "evaluate_candidates", "halving_schedule", "resolve_scorer"]
