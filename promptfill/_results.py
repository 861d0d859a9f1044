"""Typed results of a fill: each hole's infill, each candidate, and the ranked list."""

from __future__ import annotations

import json
from functools import lru_cache
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .scoring._base import CandidateScore
from .templates import PromptTemplate


class HoleFill(BaseModel):
    """The text infilled into one hole, with per-token detail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hole: int = Field(description="Index of the hole in the template source, from 0.")
    text: str = Field(description="The decoded infill, as inserted into the template.")
    token_ids: list[int] = Field(description="The infilled token ids, one per hole token.")
    tokens: list[str] = Field(description="The same tokens as vocabulary strings.")
    confidences: list[float] = Field(description="Each token's probability under the copies' combined distribution when it was committed.")
    logprobs: list[float] = Field(description="Each token's mean per-copy log-probability when it was committed.")


class FilledTemplate(BaseModel):
    """One candidate: the template with every hole filled, and how it scored.

    Use :meth:`render` to build the prompt for new inputs, and :attr:`source` to save the
    filled template as a plain Jinja template.
    """

    model_config = ConfigDict(extra="forbid")

    rank: int = Field(0, description="Position in the ranking, from 1; 0 before ranking.")
    source: str = Field(description="The filled template as Jinja source, holes replaced by their fills.")
    fills: list[HoleFill]
    model_score: float = Field(description="Mean log-probability of the infilled tokens, averaged over copies (higher is better).")
    score: CandidateScore | None = Field(None, description="The scorer's verdict, when a scorer ran.")
    error: str | None = Field(None, description="Why scoring failed for this candidate; such a candidate ranks last.")
    duplicates: int = Field(1, description="How many sampled candidates produced exactly these fills.")
    eliminated_in_round: int | None = Field(
        None, description="The successive-halving round (from 0) this candidate lost; its score covers only that round's dev subset. None: it was scored in full."
    )
    hole_lengths: list[int] = Field(description="Tokens per hole in the canvas this candidate came from.")
    template_source: str = Field(description="The original template, with holes.")
    template_settings: dict[str, Any] = Field(default_factory=dict, description="Arguments that rebuild the original PromptTemplate.")

    @property
    def texts(self) -> list[str]:
        """The infill of each hole, in hole order."""
        return [fill.text for fill in self.fills]

    @property
    def ranking_value(self) -> float:
        """The value the ranking sorts by: the scorer's mean if scored, else the model score."""
        return self.score.value if self.score is not None else self.model_score

    @property
    def template(self) -> PromptTemplate:
        """The original template (with holes), rebuilt on first use."""
        return _cached_template(self.template_source, json.dumps(self.template_settings, sort_keys=True))

    def render(self, **inputs: object) -> str:
        """Render the prompt the target model receives, for ``inputs``."""
        return self.template.render(self.texts, **inputs)

    def render_answer(self, **inputs: object) -> str | None:
        """Render the reference answer part for ``inputs``; ``None`` when the template has none."""
        return self.template.render_answer(self.texts, **inputs)


class FillResult(BaseModel):
    """Ranked candidates of one :meth:`PromptInfiller.fill` call, best first."""

    model_config = ConfigDict(extra="forbid")

    candidates: list[FilledTemplate]
    template_source: str
    model: str = Field(description="Name or path of the infilling model.")
    scorer: str | None = Field(None, description="Name of the scorer that ranked the candidates, if any.")
    target: dict[str, Any] | None = Field(
        None, description="The scorer's target model: its name, identity (settings, never secrets) and call statistics."
    )
    sampler: dict[str, Any] = Field(default_factory=dict, description="The sampler settings used.")
    num_examples: int = Field(description="Few-shot examples the holes were conditioned on.")
    sampled: int = Field(description="Candidates sampled before duplicates were merged.")
    forward_passes: int = Field(description="Model forward passes spent on sampling.")
    seconds: float = Field(description="Wall time of the fill, in seconds.")

    @property
    def best(self) -> FilledTemplate:
        """The top-ranked candidate."""
        return self.candidates[0]

    def __len__(self) -> int:
        return len(self.candidates)

    def __iter__(self) -> Iterator[FilledTemplate]:  # type: ignore[override]
        return iter(self.candidates)

    def __getitem__(self, index: int) -> FilledTemplate:
        return self.candidates[index]

    def to_json(self, path: str | Path | None = None, *, indent: int = 2) -> str:
        """Serialise to JSON; also write it to ``path`` when given."""
        text = self.model_dump_json(indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> FillResult:
        """Load a result written by :meth:`to_json` from a JSON string or a file path."""
        if isinstance(text_or_path, Path) or (isinstance(text_or_path, str) and not text_or_path.lstrip().startswith("{")):
            text_or_path = Path(text_or_path).read_text(encoding="utf-8")
        return cls.model_validate_json(text_or_path)

    def summary(self) -> list[Mapping[str, Any]]:
        """Return one plain dict per candidate (rank, fills, scores), for tables and logs."""
        return [
            {
                "rank": c.rank,
                "fills": c.texts,
                "model_score": round(c.model_score, 4),
                "score": None if c.score is None else round(c.score.value, 4),
                "error": c.error,
                "duplicates": c.duplicates,
                "examples_scored": None if c.score is None else c.score.count,
            }
            for c in self.candidates
        ]


@lru_cache(maxsize=64)
def _cached_template(source: str, settings_json: str) -> PromptTemplate:
    # Results are plain data; the parsed template is rebuilt once per distinct source.
    return PromptTemplate(source, **json.loads(settings_json))


def rank_candidates(candidates: list[FilledTemplate]) -> list[FilledTemplate]:
    """Sort best first and number the ranks from 1.

    Scored candidates come first by scorer value (ties broken by model score), then unscored ones
    by model score; candidates whose scoring failed come last. Under successive halving,
    candidates scored on the whole dev set rank above those dropped early, and a candidate that
    lasted more rounds ranks above one dropped sooner.
    """
    def key(candidate: FilledTemplate) -> tuple:
        failed = candidate.error is not None
        scored = candidate.score is not None
        dropped = candidate.eliminated_in_round
        survival = 0 if dropped is None else 1
        return (failed, not scored, survival, -(dropped or 0), -(candidate.score.value if scored else 0.0), -candidate.model_score)

    ordered = sorted(candidates, key=key)
    for rank, candidate in enumerate(ordered, start=1):
        candidate.rank = rank
    return ordered

