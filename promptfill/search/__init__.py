"""Search loops that use infilling as the mutation step: mask part of the best prompts, re-infill, re-score."""

from ._budget import SearchBudget
from ._loop import InfillSearch, SearchConfig
from ._progress import read_progress
from ._refine import RefineConfig, RefineSearch
from ._resample import ResampleConfig, ResampleSearch
from ._result import SearchIteration, SearchResult

__all__ = [
    "InfillSearch",
    "RefineConfig",
    "RefineSearch",
    "ResampleConfig",
    "ResampleSearch",
    "SearchBudget",
    "SearchConfig",
    "SearchIteration",
    "SearchResult",
    "read_progress",
]
