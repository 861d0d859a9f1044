"""Scorers that validate filled templates against a target model."""

from ._base import SCORERS, CandidateScore, FunctionScorer, Scorer, resolve_scorer
from ._halving import HalvingConfig, evaluate_candidates, halving_schedule
from ._choice import ChoiceScorer
from ._embedding import EmbeddingScorer
from ._exact_match import ExactMatchScorer
from ._f1 import F1Scorer
from ._loglik import LoglikScorer
from ._metric import MetricScorer
from ._normalize import NormalizingScorer, normalize_answer
from ._numeric import NumericScorer, extract_answer_number
from ._target import GenerationScorer, TargetScorer

__all__ = ["CandidateScore", "ChoiceScorer", "EmbeddingScorer", "ExactMatchScorer", "F1Scorer", "FunctionScorer", "GenerationScorer", "HalvingConfig", "LoglikScorer", "MetricScorer", "NormalizingScorer", "NumericScorer", "SCORERS", "Scorer", "TargetScorer", "evaluate_candidates", "extract_answer_number", "halving_schedule", "normalize_answer", "resolve_scorer"]
