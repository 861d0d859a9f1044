"""Successive halving over the dev set, and the run-log seam of fill that resume relies on."""

from __future__ import annotations

import pytest

from promptfill import CandidateScore, ConfigError, HalvingConfig, PromptInfiller, SamplerConfig, Scorer, ScorerError
from promptfill.scoring import evaluate_candidates, halving_schedule

TEMPLATE = "Review: {{ text }} [MASK:2-4] ||| {{ label }}"
EXAMPLES = [{"text": f"film number {i}", "label": "positive" if i % 2 else "negative"} for i in range(32)]


class CountingScorer(Scorer):
    """Scores a candidate by the length of its fill, and counts distinct (candidate, example) pairs.

    The distinct pairs are what a target model with a response cache is asked for.
    """

    name = "counting"

    def __init__(self) -> None:
        self.pairs: set[tuple[tuple[str, ...], str]] = set()
        self.calls: list[tuple[tuple[str, ...], int]] = []

    @property
    def evaluations(self) -> int:
        return len(self.pairs)

    def score(self, candidate, examples):
        self.pairs.update((tuple(candidate.texts), example["text"]) for example in examples)
        self.calls.append((tuple(candidate.texts), len(examples)))
        return CandidateScore.from_values([float(len(candidate.texts[0]))] * len(examples))


@pytest.fixture(scope="module")
def infiller(tiny_bert_dir):
    return PromptInfiller.from_pretrained(str(tiny_bert_dir), device="cpu", sampler=SamplerConfig(temperature=1.5, num_candidates=6, length_trials=3))


def test_schedule_grows_to_full_set():
    assert halving_schedule(32, HalvingConfig(min_examples=4, eta=2)) == [4, 8, 16, 32]
    assert halving_schedule(20, HalvingConfig(min_examples=8, eta=3)) == [8, 20]
    assert halving_schedule(5, HalvingConfig(min_examples=8)) == [5]


def test_halving_keeps_winner_saves_calls(infiller):
    full_scorer, halving_scorer = CountingScorer(), CountingScorer()
    full = infiller.fill(TEMPLATE, EXAMPLES[:3], scorer=full_scorer, dev_examples=EXAMPLES, seed=3)
    halved = infiller.fill(TEMPLATE, EXAMPLES[:3], scorer=halving_scorer, dev_examples=EXAMPLES, seed=3,
                           halving=HalvingConfig(min_examples=4, eta=2, keep=1))
    candidates = len(full)
    assert candidates >= 6
    assert full_scorer.evaluations == candidates * len(EXAMPLES)
    assert halving_scorer.evaluations < full_scorer.evaluations / 2
    assert halved.best.texts == full.best.texts
    assert halved.best.score.count == len(EXAMPLES)
    assert halved.best.eliminated_in_round is None
    dropped = [c for c in halved if c.eliminated_in_round is not None]
    assert dropped and all(c.score.count < len(EXAMPLES) for c in dropped)
    # Candidates scored in full rank above every candidate dropped early.
    ranks_full = [c.rank for c in halved if c.eliminated_in_round is None]
    assert max(ranks_full) < min(c.rank for c in dropped)


def test_halving_true_and_bad_value(infiller):
    result = infiller.fill(TEMPLATE, EXAMPLES[:3], scorer=CountingScorer(), dev_examples=EXAMPLES, halving=True, seed=1)
    assert sum(c.eliminated_in_round is None for c in result) >= HalvingConfig().keep
    with pytest.raises(ConfigError, match="halving='fast' is invalid"):
        infiller.fill(TEMPLATE, EXAMPLES[:3], scorer=CountingScorer(), halving="fast")


def test_failed_candidate_leaves_the_race_unscored(infiller):
    class FailsOnOddLengths(CountingScorer):
        def score(self, candidate, examples):
            if len(candidate.texts[0]) % 2:
                raise ScorerError("target returned HTTP 500")
            return super().score(candidate, examples)

    result = infiller.fill(TEMPLATE, EXAMPLES[:3], scorer=FailsOnOddLengths(), dev_examples=EXAMPLES, seed=3, halving=HalvingConfig(min_examples=4))
    failed = [c for c in result if c.error]
    assert failed and all(c.score is None for c in failed)
    assert result.candidates[-len(failed):] == failed


def test_halving_config_bad_eta_raises_config_error():
    with pytest.raises(ConfigError, match=r"HalvingConfig: eta=0.5 is invalid"):
        HalvingConfig(eta=0.5)


def test_empty_dev_set_rejected():
    with pytest.raises(ConfigError, match="dev_examples is empty"):
        evaluate_candidates(CountingScorer(), [], [])


class MemoryRunLog:
    """A run log kept in memory: the same protocol a run directory implements."""

    def __init__(self) -> None:
        self.sampled: dict[int, list] = {}
        self.scores: list[dict] = []
        self.results: list = []

    def load_sampled(self, combination):
        found = self.sampled.get(combination)
        return None if found is None else [c.model_copy(deep=True) for c in found]

    def record_sampled(self, combination, lengths, candidates):
        self.sampled[combination] = [c.model_copy(deep=True) for c in candidates]

    def load_score(self, key, examples):
        for record in self.scores:
            if record["key"] == key and record["examples"] == examples and record["score"] is not None:
                return CandidateScore(**record["score"])
        return None

    def record_score(self, record):
        self.scores.append(dict(record))

    def record_result(self, result):
        self.results.append(result)


def test_resumed_fill_repeats_nothing_and_matches(infiller):
    log = MemoryRunLog()
    first = infiller.fill(TEMPLATE, EXAMPLES[:3], scorer=CountingScorer(), dev_examples=EXAMPLES[:8], run=log, seed=5)
    assert sorted(log.sampled) == [0, 1, 2]
    assert len(log.scores) == len(first)
    # Forget one combination and some scores, as if the run had been killed part way.
    del log.sampled[2]
    del log.scores[len(log.scores) // 2:]
    scorer = CountingScorer()
    resumed = infiller.fill(TEMPLATE, EXAMPLES[:3], scorer=scorer, dev_examples=EXAMPLES[:8], run=log, seed=5)
    assert [(c.texts, c.score, c.rank) for c in resumed] == [(c.texts, c.score, c.rank) for c in first]
    assert 0 < len(scorer.calls) < len(first)
    assert log.results[-1] is resumed


def test_fill_records_its_drawn_seed(infiller):
    result = infiller.fill(TEMPLATE, EXAMPLES[:3], seed=None)
    again = infiller.fill(TEMPLATE, EXAMPLES[:3], seed=result.sampler["seed"])
    assert isinstance(result.sampler["seed"], int)
    assert [c.texts for c in again] == [c.texts for c in result]
