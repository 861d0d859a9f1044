"""Spend target calls wisely: score candidates on growing subsets of the dev set.

Successive halving (as in APE): every round scores the surviving candidates on a larger subset
of the dev examples and keeps the best ``1/eta`` of them, so clear losers stop costing target
calls early. The last survivors are always scored on the whole dev set, so their scores are
comparable with a full evaluation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ConfigDict, Field

from ..errors import ConfigError, ScorerError
from ..sampling._config import ValidatedConfig
from ._base import CandidateScore, Scorer

if TYPE_CHECKING:
    from .._results import FilledTemplate

logger = logging.getLogger(__name__)


class HalvingConfig(ValidatedConfig):
    """Settings of successive halving over the dev set."""

    model_config = ConfigDict(extra="forbid")

    min_examples: int = Field(
        8, ge=1,
        description="Dev examples in the first round. 8 separates clear losers from 0/1 metrics while costing little.",
    )
    eta: float = Field(
        2.0, gt=1.0,
        description="Each round keeps the best 1/eta of the candidates and scores them on eta times more examples. 2 halves.",
    )
    keep: int = Field(
        2, ge=1,
        description="Stop dropping once this many candidates remain; they are scored on the whole dev set. "
        "2 leaves a runner-up with a full score to compare against.",
    )
    seed: int = Field(0, description="Seed of the random order in which dev examples enter the rounds.")


class ScoreLog(Protocol):
    """Where a run records finished scorings, so a resumed run skips them (see promptfill.runs)."""

    def load_score(self, key: str, examples: int) -> CandidateScore | None:
        """Return the score recorded for candidate ``key`` on ``examples`` dev examples, if any."""

    def record_score(self, record: Mapping[str, Any]) -> None:
        """Append one scoring record (see the run directory format)."""


def candidate_key(candidate: FilledTemplate) -> str:
    """Return a stable key of a candidate: a hash of its hole texts."""
    text = json.dumps(candidate.texts, ensure_ascii=False)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def halving_schedule(num_examples: int, config: HalvingConfig) -> list[int]:
    """Return the dev-subset size of each round, growing by ``eta`` and ending at ``num_examples``."""
    sizes = []
    size = float(min(config.min_examples, num_examples))
    while True:
        rounded = min(num_examples, math.ceil(size))
        if not sizes or rounded > sizes[-1]:
            sizes.append(rounded)
        if rounded >= num_examples:
            return sizes
        size *= config.eta


def evaluate_candidates(
    scorer: Scorer,
    candidates: Sequence[FilledTemplate],
    examples: Sequence[Mapping[str, Any]],
    *,
    halving: HalvingConfig | None = None,
    log: ScoreLog | None = None,
) -> None:
    """Score ``candidates`` in place: set ``score``, ``error`` and ``eliminated_in_round``.

    Without ``halving`` every candidate is scored on every example. With it, rounds run on the
    subset sizes of :func:`halving_schedule`; a candidate that loses a round keeps the score of
    that round's subset and records the round in ``eliminated_in_round``. A candidate whose
    scoring fails gets ``error`` and no score, and leaves the race.
    """
    if not examples:
        raise ConfigError("dev_examples is empty; pass at least one example to score candidates on")
    total = len(examples)
    schedule = [total] if halving is None else halving_schedule(total, halving)
    order = list(range(total))
    if halving is not None:
        random.Random(halving.seed).shuffle(order)
    alive = list(candidates)
    for round_index, size in enumerate(schedule):
        last_round = size == total
        subset_indices = sorted(order[:size])  # keep dev order inside a subset, so per_example lines up
        subset = [examples[i] for i in subset_indices]
        for candidate in alive:
            _score_one(scorer, candidate, subset, round_index, log)
        alive = [c for c in alive if c.error is None]
        if last_round:
            break
        if len(alive) <= halving.keep:
            # Few enough left: score them on everything so their scores are full ones.
            for candidate in alive:
                _score_one(scorer, candidate, list(examples), len(schedule) - 1, log)
            break
        ordered = sorted(alive, key=lambda c: (-c.score.value, -c.model_score))
        survivors = max(halving.keep, math.ceil(len(alive) / halving.eta))
        for candidate in ordered[survivors:]:
            candidate.eliminated_in_round = round_index
        logger.info("halving round %d: %d examples, kept %d of %d candidates", round_index, size, survivors, len(alive))
        alive = ordered[:survivors]


def _score_one(scorer: Scorer, candidate: FilledTemplate, subset: list, round_index: int, log: ScoreLog | None) -> None:
    key = candidate_key(candidate)
    if log is not None:
        recorded = log.load_score(key, len(subset))
        if recorded is not None:
            candidate.score = recorded
            return
    calls_before = _target_calls(scorer)
    started = time.perf_counter()
    try:
        candidate.score = scorer.score(candidate, subset)
        candidate.error = None
    except ScorerError as error:
        candidate.score = None
        candidate.error = str(error)
        logger.warning("scorer %r failed on candidate %r: %s", scorer.name, candidate.texts, error)
    if log is not None:
        log.record_score({
            "key": key,
            "texts": candidate.texts,
            "round": round_index,
            "examples": len(subset),
            "score": None if candidate.score is None else candidate.score.model_dump(),
            "error": candidate.error,
            "target_calls": _target_calls(scorer) - calls_before,
            "seconds": round(time.perf_counter() - started, 4),
        })


def _target_calls(scorer: Scorer) -> int:
    target = getattr(scorer, "target", None)
    stats = getattr(target, "stats", None)
    return 0 if stats is None else int(stats.requests)
