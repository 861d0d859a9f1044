import pytest

from promptfill import ConfigError, FilledTemplate, MemoryCache, SearchBudget
from promptfill.search._seeds import normalize_seeds

from search_helpers import EXAMPLES, SEED, CountingScorer, ExactMatch, LastWordTarget


def seed_candidate():
    (candidate,) = normalize_seeds(SEED, EXAMPLES, top=1)
    return candidate


def test_bad_limit_names_value():
    with pytest.raises(ConfigError, match="SearchBudget: max_target_calls=0 is invalid"):
        SearchBudget(max_target_calls=0)
    with pytest.raises(ConfigError, match="'max_calls' is not a setting"):
        SearchBudget(max_calls=3)


def test_target_scorer_counts_requests_not_cache_hits():
    target = LastWordTarget(cache=MemoryCache())
    scorer = ExactMatch(target=target)
    budget = SearchBudget(max_target_calls=10)
    budget.attach(scorer)
    candidate = seed_candidate()
    scorer.score(candidate, EXAMPLES)
    scorer.score(candidate, EXAMPLES)
    assert budget.counts_target_requests
    assert budget.spent == len(EXAMPLES)
    assert budget.cost_of_scoring(len(EXAMPLES)) == len(EXAMPLES)
    assert budget.remaining == 10 - len(EXAMPLES)


def test_requests_before_attach_not_counted():
    target = LastWordTarget()
    scorer = ExactMatch(target=target)
    scorer.score(seed_candidate(), EXAMPLES)
    budget = SearchBudget(max_target_calls=10)
    budget.attach(scorer)
    assert budget.spent == 0


def test_other_scorer_counts_evaluations_and_charges():
    budget = SearchBudget(max_target_calls=3)
    budget.attach(CountingScorer())
    budget.record_evaluation()
    budget.charge(1)
    assert budget.spent == 2
    assert budget.cost_of_scoring(50) == 1
    assert budget.can_afford(1)
    assert not budget.can_afford(2)


def test_second_scorer_rejected():
    budget = SearchBudget(max_target_calls=3)
    budget.attach(CountingScorer())
    with pytest.raises(ConfigError, match="already counts the calls of scorer 'counting'; use one scorer per budget"):
        budget.attach(CountingScorer())


def test_negative_charge_rejected():
    with pytest.raises(ConfigError, match="calls=-1 is invalid"):
        SearchBudget(max_target_calls=3).charge(-1)
