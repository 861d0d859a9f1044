"""Typed results of a search run: the best prompt, every scored candidate and the history."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .._results import FilledTemplate

StopReason = Literal["budget", "patience", "max_iterations", "exhausted"]


class SearchIteration(BaseModel):
    """The state of a search after one iteration; iteration 0 is the scoring of the seeds."""

    model_config = ConfigDict(extra="forbid")

    iteration: int = Field(description="Iteration number, from 0 (the seeds).")
    best_score: float = Field(description="The best scorer value found so far.")
    best_source: str = Field(description="The best prompt so far, as filled template source.")
    target_calls: int = Field(description="Target calls the budget had spent when the iteration ended (the whole job's, since the budget was attached).")
    candidates: int = Field(description="Candidates scored by this run so far, seeds included, failed ones included.")
    seconds: float = Field(description="Wall time of this run so far, in seconds.")


class SearchResult(BaseModel):
    """The outcome of :meth:`RefineSearch.run` or :meth:`ResampleSearch.run`."""

    model_config = ConfigDict(extra="forbid")

    method: str = Field(description="The search loop that produced the result: 'refine' or 'resample'.")
    best: FilledTemplate = Field(description="The best-scoring candidate, seeds included.")
    candidates: list[FilledTemplate] = Field(description="Every candidate this run scored, best first; failed ones last.")
    history: list[SearchIteration] = Field(description="One entry per iteration, from 0 (the seeds).")
    stop_reason: StopReason = Field(
        description=(
            "Why the run stopped: budget (the next scoring might overspend max_target_calls), patience, "
            "max_iterations, or exhausted (several iterations in a row proposed no new candidate)."
        )
    )
    target_calls: int = Field(description="Target calls this run spent (target requests for a TargetScorer, scorer evaluations otherwise).")
    seconds: float = Field(description="Wall time of the run, in seconds.")

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """Serialise to JSON; also write it to ``path`` when given."""
        text = self.model_dump_json(indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> SearchResult:
        """Load a result written by :meth:`to_json` from a JSON string or a file path."""
        if isinstance(text_or_path, Path) or not text_or_path.lstrip().startswith("{"):
            text_or_path = Path(text_or_path).read_text(encoding="utf-8")
        return cls.model_validate_json(text_or_path)
