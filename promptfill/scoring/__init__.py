"""Scorers that validate filled templates against a target model."""

from ._base import SCORERS, CandidateScore, FunctionScorer, Scorer, resolve_scorer

__all__ = ["SCORERS", "CandidateScore", "FunctionScorer", "Scorer", "resolve_scorer"]
