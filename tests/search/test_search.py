import json

import pytest

from promptfill import (
    CandidateScore,
    ConfigError,
    FilledTemplate,
    FillResult,
    MemoryCache,
    PromptInfiller,
    RefineSearch,
    ResampleSearch,
    SamplerConfig,
    ScorerError,
    SearchBudget,
    SearchResult,
)
from promptfill.search import read_progress

from search_helpers import EXAMPLES, SEED, CountingScorer, ExactMatch, LastWordTarget


@pytest.fixture(scope="module")
def infiller(tiny_bert_dir):
    # Two denoising steps per fill keep each re-infill to two forward passes.
    sampler = SamplerConfig(temperature=1.0, num_candidates=2, length_trials=1, steps=2)
    return PromptInfiller.from_pretrained(str(tiny_bert_dir), device="cpu", sampler=sampler)


def test_refine_keeps_best(infiller):
    scorer = CountingScorer()
    result = RefineSearch(infiller, scorer, strategy="span", beam=1).run(SEED, EXAMPLES, budget=SearchBudget(max_target_calls=5))
    values = [c.score.value for c in result.candidates]
    assert result.best.score.value == max(values)
    assert result.best is result.candidates[0]
    assert values == sorted(values, reverse=True)
    best_per_iteration = [entry.best_score for entry in result.history]
    assert best_per_iteration == sorted(best_per_iteration)
    assert result.history[-1].best_source == result.best.source
    assert "{{ input }}" in result.best.source


def test_function_scorer_stops_on_budget_exactly(infiller):
    scorer = CountingScorer()
    result = RefineSearch(infiller, scorer, strategy="span", beam=1).run(SEED, EXAMPLES, budget=SearchBudget(max_target_calls=5))
    assert scorer.calls == 5
    assert result.target_calls == 5
    assert result.stop_reason == "budget"
    assert len(result.candidates) == 5


def test_target_requests_never_exceed_budget(infiller):
    target = LastWordTarget(cache=MemoryCache())
    scorer = ExactMatch(target=target)
    dev = EXAMPLES[:3]
    result = RefineSearch(infiller, scorer, strategy="span", beam=1).run(SEED, EXAMPLES, dev_examples=dev, budget=SearchBudget(max_target_calls=10))
    # Each candidate costs at most 3 requests (one per dev example), so a fourth would risk 12.
    assert target.stats.requests == 9
    assert result.target_calls == 9
    assert result.stop_reason == "budget"


def test_budget_shared_with_earlier_spending(infiller):
    scorer = CountingScorer()
    budget = SearchBudget(max_target_calls=6)
    budget.attach(scorer)
    budget.charge(4)
    result = RefineSearch(infiller, scorer, strategy="span", beam=1).run(SEED, EXAMPLES, budget=budget)
    assert scorer.calls == 2
    assert result.target_calls == 2
    assert budget.spent == 6


def test_stops_on_patience(infiller):
    scorer = CountingScorer(function=lambda candidate, examples: 0.5)
    result = RefineSearch(infiller, scorer, strategy="span", beam=1).run(SEED, EXAMPLES, budget=SearchBudget(max_target_calls=100, patience=2))
    assert result.stop_reason == "patience"
    assert [entry.iteration for entry in result.history] == [0, 1, 2]
    assert result.best.source == result.history[0].best_source


def test_stops_on_max_iterations(infiller):
    scorer = CountingScorer()
    result = RefineSearch(infiller, scorer, strategy="sentence", beam=1).run(SEED, EXAMPLES, budget=SearchBudget(max_iterations=2))
    assert result.stop_reason == "max_iterations"
    assert len(result.history) == 3


def test_failed_candidate_never_scored_or_best(infiller):
    # Prompts whose length parity differs from the seed's fail, and would have scored highest.
    def fails(source):
        return len(source) % 2 != len(SEED) % 2

    scorer = CountingScorer(function=lambda c, e: 1.0 if fails(c.source) else 0.1, fails=fails)
    result = RefineSearch(infiller, scorer, strategy="span", beam=1, num_candidates=4).run(SEED, EXAMPLES, budget=SearchBudget(max_target_calls=9))
    failed = [c for c in result.candidates if c.error is not None]
    assert failed, "the seed-0 run is expected to sample some failing prompts"
    assert all(c.score is None for c in failed)
    assert all(fails(c.source) for c in failed)
    assert result.best.error is None
    assert result.best.score.value == 0.1
    assert result.candidates[-len(failed):] == failed


def test_all_seeds_failing_raises(infiller):
    scorer = CountingScorer(fails=lambda source: True)
    with pytest.raises(ScorerError, match="failed on every seed; first error: target refused prompt"):
        RefineSearch(infiller, scorer).run(SEED, EXAMPLES, budget=SearchBudget(max_target_calls=5))


def test_scored_fill_seed_not_rescored(infiller):
    fill = infiller.fill("[MASK:3] letter.\nInput: {{ input }}\nOutput: ||| {{ output }}", EXAMPLES, num_candidates=2, seed=1)
    for candidate in fill:
        candidate.score = CandidateScore.from_values([0.01] * len(EXAMPLES))
    scored_sources = []
    scorer = CountingScorer(function=lambda c, e: scored_sources.append(c.source) or 0.0)
    result = RefineSearch(infiller, scorer, beam=1).run(fill, EXAMPLES, budget=SearchBudget(max_iterations=1))
    assert fill.best.source not in scored_sources
    assert result.history[0].best_score == 0.01


def test_unscored_fill_seed_scored(infiller):
    fill = infiller.fill("[MASK:3] letter.\nInput: {{ input }}\nOutput: ||| {{ output }}", EXAMPLES, num_candidates=2, seed=1)
    scored_sources = []
    scorer = CountingScorer(function=lambda c, e: scored_sources.append(c.source) or 0.0)
    RefineSearch(infiller, scorer, beam=1).run(fill, EXAMPLES, budget=SearchBudget(max_target_calls=1))
    assert scored_sources == [fill.best.source]


def test_same_seed_repeats(infiller):
    first = RefineSearch(infiller, CountingScorer(), seed=3, beam=1).run(SEED, EXAMPLES, budget=SearchBudget(max_target_calls=4))
    again = RefineSearch(infiller, CountingScorer(), seed=3, beam=1).run(SEED, EXAMPLES, budget=SearchBudget(max_target_calls=4))
    assert [c.source for c in first.candidates] == [c.source for c in again.candidates]


def test_resample_keeps_best_and_variables(infiller):
    scorer = CountingScorer()
    result = ResampleSearch(infiller, scorer, keep_fraction=0.5, beam=1).run(SEED, EXAMPLES, budget=SearchBudget(max_target_calls=6))
    assert scorer.calls == 6
    assert result.method == "resample"
    assert result.best.score.value == max(c.score.value for c in result.candidates)
    for candidate in result.candidates:
        assert candidate.source.endswith("\nInput: {{ input }}\nOutput: ||| {{ output }}")


def test_progress_lines_match_history(infiller, tmp_path):
    run_dir = tmp_path / "run"
    result = RefineSearch(infiller, CountingScorer(), beam=1).run(SEED, EXAMPLES, budget=SearchBudget(max_iterations=2), run_dir=run_dir)
    lines = (run_dir / "progress.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [entry.model_dump(mode="json") for entry in result.history]
    assert set(json.loads(lines[0])) == {"iteration", "best_score", "best_source", "target_calls", "candidates", "seconds"}


def test_torn_progress_line_cut_before_append(infiller, tmp_path):
    (tmp_path / "progress.jsonl").write_text('{"iteration": 0, "best_sc')
    RefineSearch(infiller, CountingScorer(), beam=1).run(SEED, EXAMPLES, budget=SearchBudget(max_iterations=1), run_dir=tmp_path)
    entries = read_progress(tmp_path)
    assert [entry.iteration for entry in entries] == [0, 1]


def test_read_progress_ignores_torn_last_line(tmp_path):
    line = '{"iteration": 0, "best_score": 0.5, "best_source": "x", "target_calls": 1, "candidates": 1, "seconds": 0.1}\n'
    (tmp_path / "progress.jsonl").write_text(line + '{"iteration": 1, "be')
    assert [entry.best_score for entry in read_progress(tmp_path)] == [0.5]


def test_result_json_round_trip(infiller, tmp_path):
    result = RefineSearch(infiller, CountingScorer(), beam=1).run(SEED, EXAMPLES, budget=SearchBudget(max_target_calls=3))
    path = tmp_path / "search.json"
    result.to_json(path)
    assert SearchResult.from_json(path) == result


def test_seed_without_inputs_rejected(infiller):
    with pytest.raises(ConfigError, match=r"renders the same prompt for every dev example, so it uses none of the dev examples' fields \['input', 'output'\]"):
        RefineSearch(infiller, CountingScorer()).run("Answer well. ||| {{ output }}", EXAMPLES, budget=SearchBudget(max_target_calls=3))


def test_seed_template_with_holes_rejected(infiller):
    from promptfill import PromptTemplate

    with pytest.raises(ConfigError, match="has 1 hole\\(s\\); fill it first with PromptInfiller.fill"):
        RefineSearch(infiller, CountingScorer()).run(PromptTemplate("[MASK] {{ input }}"), EXAMPLES, budget=SearchBudget(max_target_calls=3))


def test_budget_without_limit_rejected(infiller):
    with pytest.raises(ConfigError, match="sets no limit, so the search would not stop; set max_target_calls or max_iterations"):
        RefineSearch(infiller, CountingScorer()).run(SEED, EXAMPLES)


def test_budget_too_small_for_one_seed(infiller):
    scorer = ExactMatch(target=LastWordTarget())
    with pytest.raises(ConfigError, match=r"max_target_calls=2 leaves too few target calls to score one seed \(4 per candidate on 4 dev examples"):
        RefineSearch(infiller, scorer).run(SEED, EXAMPLES, budget=SearchBudget(max_target_calls=2))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"beam": 0}, "RefineConfig: beam=0 is invalid"),
        ({"strategy": "words"}, "RefineConfig: strategy='words' is invalid"),
        ({"span_words": (3, 1)}, "span_words=(3, 1) must be (min, max) with 1 <= min <= max"),
        ({"beams": 2}, "'beams' is not a setting; valid settings are: beam,"),
    ],
)
def test_bad_refine_setting_names_value(infiller, settings, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        RefineSearch(infiller, CountingScorer(), **settings)


def test_bad_resample_setting_names_value(infiller):
    with pytest.raises(ConfigError, match="ResampleConfig: keep_fraction=1.0 is invalid"):
        ResampleSearch(infiller, CountingScorer(), keep_fraction=1.0)


def test_missing_scorer_rejected(infiller):
    with pytest.raises(ConfigError, match="a search needs a scorer to compare prompts"):
        RefineSearch(infiller, None)
