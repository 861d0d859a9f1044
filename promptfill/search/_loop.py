"""The loop shared by the search strategies: mask the best prompts, re-infill, re-score, keep the best."""

from __future__ import annotations

import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from .._results import FilledTemplate, rank_candidates
from ..errors import ConfigError, ScorerError
from ..sampling import SamplerConfig
from ..sampling._config import ValidatedConfig
from ..scoring import Scorer, resolve_scorer
from ..templates import PromptTemplate
from ._budget import SearchBudget
from ._progress import ProgressLog
from ._result import SearchIteration, SearchResult, StopReason
from ._seeds import Seed, normalize_seeds

logger = logging.getLogger(__name__)

Example = Mapping[str, Any]

# Iterations in a row that propose only already-scored prompts before a run gives up. Without
# this limit, a run limited only by target calls would loop forever once it finds no new prompt.
MAX_STALE_PROPOSALS = 3


class SearchConfig(ValidatedConfig):
    """Settings shared by the search loops; invalid values raise ConfigError naming the field."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    beam: int = Field(
        2, ge=1, description="Best candidates re-masked each iteration (the parents). 2 keeps a runner-up alive at half the cost of 4."
    )
    num_candidates: int = Field(
        4, ge=1, description="Infills sampled per masked template and hole-length combination; duplicates are scored once."
    )
    length_slack: int = Field(
        2, ge=0, description="A new hole may take this many tokens fewer or more than the text it replaced, so the infill can change length."
    )
    seed: int = Field(0, description="Seed of the masking choices and of the infills; the same seed repeats a run with a deterministic scorer.")
    rescore_seeds: bool = Field(
        False,
        description=(
            "Score seeds that already carry a full score again. False trusts a seed's score when it "
            "covers as many examples as dev_examples, which is right when the seed was scored on the "
            "same dev set by the same scorer."
        ),
    )


class _BudgetSpent(Exception):
    """The next scoring might cost more target calls than the budget has left."""


class InfillSearch(ABC):
    """Base class of the search loops: subclasses say how a parent prompt is re-masked.

    Args:
        infiller: The :class:`PromptInfiller` that re-infills masked prompts.
        scorer: Scores every candidate on the dev examples: a Scorer, a registered name or a
            callable. A TargetScorer without a target is bound to the infiller's model.
        config: The loop's settings; ``**settings`` may give single fields instead.
        sampler: Sampler settings for the re-infills; defaults to the infiller's. The loop sets
            ``num_candidates`` and ``seed`` from its own settings.
    """

    method: ClassVar[str]
    config_class: ClassVar[type[SearchConfig]]

    def __init__(self, infiller: Any, scorer: Scorer | str | Callable[..., Any], *, config: SearchConfig | None = None, sampler: SamplerConfig | None = None, **settings: Any) -> None:
        resolved = resolve_scorer(scorer)
        if resolved is None:
            raise ConfigError(f"scorer={scorer!r} is invalid; a search needs a scorer to compare prompts: pass a Scorer, a registered scorer name or a callable")
        if config is not None and not isinstance(config, self.config_class):
            raise ConfigError(f"config={config!r} is invalid; pass a {self.config_class.__name__}")
        base = config.model_dump() if config is not None else {}
        self.config = self.config_class(**{**base, **settings})
        self.infiller = infiller
        self.scorer = resolved
        self.sampler = sampler

    @abstractmethod
    def masked_sources(self, parent: FilledTemplate, rng: random.Random) -> list[str]:
        """Return template sources with holes, each built by re-masking part of ``parent``."""

    def run(
        self,
        seeds: Seed | Sequence[Seed],
        examples: Sequence[Example],
        *,
        dev_examples: Sequence[Example] | None = None,
        budget: SearchBudget | None = None,
        run_dir: Path | None = None,
    ) -> SearchResult:
        """Search from ``seeds`` until the budget, patience or iteration limit stops it.

        Args:
            seeds: Where to start: a FillResult (its ``beam`` best candidates), FilledTemplates,
                human-written prompt strings (plain Jinja, ``[MASK]`` literal), or a list of them.
            examples: Few-shot examples the re-infills are conditioned on.
            dev_examples: Examples every candidate is scored on; defaults to ``examples``.
            budget: Limits shared with other runs; it must set ``max_target_calls`` or
                ``max_iterations``.
            run_dir: Directory to append ``progress.jsonl`` to, one line per iteration.

        Returns:
            The best candidate, every scored candidate and the per-iteration history.

        Raises:
            ConfigError: Invalid seeds, examples or budget, or a budget too small to score one seed.
            ScorerError: Scoring failed on every seed.
        """
        started = time.perf_counter()
        dev = list(dev_examples) if dev_examples is not None else list(examples)
        _check_examples(examples, "examples")
        _check_examples(dev, "dev_examples")
        budget = budget if budget is not None else SearchBudget()
        if budget.max_target_calls is None and budget.max_iterations is None:
            raise ConfigError(
                f"budget={budget!r} sets no limit, so the search would not stop; set max_target_calls "
                "or max_iterations, for example SearchBudget(max_target_calls=200, patience=2)"
            )
        self.scorer.bind(self.infiller)
        budget.attach(self.scorer)
        run = _Run(self, budget, dev, ProgressLog(run_dir), started)

        # 1. Score the seeds (iteration 0).
        run.score_seeds(normalize_seeds(seeds, dev, self.config.beam))

        # 2. Re-mask the best, re-infill, re-score, until a limit stops the run.
        rng = random.Random(self.config.seed)
        stop = run.iterate(list(examples), rng)
        return run.result(stop)


class _Run:
    """The state of one :meth:`InfillSearch.run` call."""

    def __init__(self, search: InfillSearch, budget: SearchBudget, dev: list[Example], progress: ProgressLog, started: float) -> None:
        self.search = search
        self.budget = budget
        self.dev = dev
        self.progress = progress
        self.started = started
        self.spent_before = budget.spent
        self.scored: list[FilledTemplate] = []
        self.seen: set[str] = set()
        self.history: list[SearchIteration] = []

    def score_seeds(self, seeds: list[FilledTemplate]) -> None:
        config = self.search.config
        for seed in seeds:
            if seed.source in self.seen:
                continue
            self.seen.add(seed.source)
            trusted = (
                not config.rescore_seeds and seed.score is not None and seed.score.count == len(self.dev)
                and getattr(seed, "eliminated_in_round", None) is None
            )
            if trusted:
                self.scored.append(seed)
                continue
            try:
                self.score(seed)
            except _BudgetSpent:
                break
        if not self.usable():
            failed = [c for c in self.scored if c.error is not None]
            if failed:
                raise ScorerError(f"scorer {self.search.scorer.name!r} failed on every seed; first error: {failed[0].error}")
            raise ConfigError(
                f"max_target_calls={self.budget.max_target_calls} leaves too few target calls to score one seed "
                f"({self.budget.cost_of_scoring(len(self.dev))} per candidate on {len(self.dev)} dev examples, "
                f"{self.budget.spent} already spent); raise max_target_calls or use fewer dev_examples"
            )
        self.record(0)

    def iterate(self, examples: list[Example], rng: random.Random) -> StopReason:
        config = self.search.config
        budget = self.budget
        stale_iterations = 0
        stale_proposals = 0
        iteration = 0
        while True:
            if budget.max_iterations is not None and iteration >= budget.max_iterations:
                return "max_iterations"
            if not budget.can_afford(budget.cost_of_scoring(len(self.dev))):
                return "budget"
            iteration += 1
            best_before = self.best().score.value  # type: ignore[union-attr]
            new = 0
            try:
                for parent in self.usable()[: config.beam]:
                    for source in self.search.masked_sources(parent, rng):
                        new += self.try_children(parent, source, examples, rng)
            except _BudgetSpent:
                self.record(iteration)
                return "budget"
            self.record(iteration)

            stale_proposals = stale_proposals + 1 if new == 0 else 0
            if stale_proposals >= MAX_STALE_PROPOSALS:
                return "exhausted"
            stale_iterations = stale_iterations + 1 if self.best().score.value <= best_before else 0  # type: ignore[union-attr]
            if budget.patience is not None and stale_iterations >= budget.patience:
                return "patience"

    def try_children(self, parent: FilledTemplate, source: str, examples: list[Example], rng: random.Random) -> int:
        """Infill one masked source and score its new candidates; return how many were scored."""
        config = self.search.config
        settings = {**parent.template_settings, "allow_no_holes": False}
        template = PromptTemplate(source, **settings)
        filled = self.search.infiller.fill(
            template, examples, sampler=self.search.sampler,
            num_candidates=config.num_candidates, seed=rng.randrange(2**31),
        )
        scored = 0
        for child in filled.candidates:
            if child.source in self.seen:
                continue
            self.seen.add(child.source)
            self.score(child)
            scored += 1
        return scored

    def score(self, candidate: FilledTemplate) -> None:
        """Score ``candidate`` on the dev set; a ScorerError marks it failed, never scored."""
        if not self.budget.can_afford(self.budget.cost_of_scoring(len(self.dev))):
            raise _BudgetSpent
        scorer = self.search.scorer
        candidate.score = None
        candidate.error = None
        try:
            candidate.score = scorer.score(candidate, self.dev)
        except ScorerError as error:
            candidate.error = str(error)
            logger.warning("scorer %r failed on candidate %r: %s", scorer.name, candidate.source, error)
        finally:
            self.budget.record_evaluation()
        self.scored.append(candidate)

    def usable(self) -> list[FilledTemplate]:
        """Return the scored candidates whose scoring succeeded, best first."""
        return rank_candidates([c for c in self.scored if c.error is None and c.score is not None])

    def best(self) -> FilledTemplate:
        return self.usable()[0]

    def record(self, iteration: int) -> None:
        best = self.best()
        entry = SearchIteration(
            iteration=iteration,
            best_score=best.score.value,  # type: ignore[union-attr]
            best_source=best.source,
            target_calls=self.budget.spent,
            candidates=len(self.scored),
            seconds=round(time.perf_counter() - self.started, 3),
        )
        self.history.append(entry)
        self.progress.append(entry)
        logger.info("%s iteration %d: best %.4f after %d target calls", self.search.method, iteration, entry.best_score, entry.target_calls)

    def result(self, stop: StopReason) -> SearchResult:
        ranked = rank_candidates(self.scored)
        return SearchResult(
            method=self.search.method,
            best=ranked[0],
            candidates=ranked,
            history=self.history,
            stop_reason=stop,
            target_calls=self.budget.spent - self.spent_before,
            seconds=round(time.perf_counter() - self.started, 3),
        )


def _check_examples(examples: object, name: str) -> None:
    if isinstance(examples, Mapping) or not isinstance(examples, Sequence) or len(examples) == 0:
        raise ConfigError(f"{name}={examples!r:.60} is invalid; pass a non-empty list of dicts of template variables")
    for index, example in enumerate(examples):
        if not isinstance(example, Mapping):
            raise ConfigError(f"{name}[{index}] is {type(example).__name__}, not a dict of template variables")
