import pytest

from promptfill import (
    CandidateScore,
    ConfigError,
    FillResult,
    PromptInfiller,
    SamplerConfig,
    Scorer,
    ScorerError,
    TemplateVariableError,
    UnsupportedModelError,
)

TEMPLATE = "Review: {{ text }} [MASK:2-4] ||| {{ label }}"
EXAMPLES = [
    {"text": "a wonderful film", "label": "positive"},
    {"text": "dull and far too long", "label": "negative"},
    {"text": "great acting", "label": "positive"},
]


@pytest.fixture(scope="module")
def infiller(tiny_bert_dir):
    return PromptInfiller.from_pretrained(str(tiny_bert_dir), device="cpu", sampler=SamplerConfig(temperature=1.0, num_candidates=4, length_trials=2))


def test_fill_ranks_candidates_by_model_score(infiller):
    result = infiller.fill(TEMPLATE, EXAMPLES)
    scores = [c.model_score for c in result]
    assert scores == sorted(scores, reverse=True)
    assert [c.rank for c in result] == list(range(1, len(result) + 1))
    assert {tuple(c.hole_lengths) for c in result} <= {(2,), (4,)}
    for candidate in result:
        (fill,) = candidate.fills
        assert len(fill.token_ids) == candidate.hole_lengths[0]
        assert len(fill.confidences) == len(fill.token_ids)
        assert all(0.0 < p <= 1.0 for p in fill.confidences)


def test_forbidden_tokens_never_infilled(infiller):
    result = infiller.fill(TEMPLATE, EXAMPLES)
    special = set(infiller.tokenizer.all_special_ids)
    for candidate in result:
        assert not special & set(candidate.fills[0].token_ids)
        assert not any(token.startswith("[unused") for token in candidate.fills[0].tokens)


def test_best_renders_new_inputs(infiller):
    result = infiller.fill(TEMPLATE, EXAMPLES)
    rendered = result.best.render(text="not bad at all")
    assert rendered == f"Review: not bad at all {result.best.texts[0]}"
    assert result.best.render_answer(text="x", label="positive") == "positive"


def test_same_seed_repeats_and_other_seed_differs(infiller):
    first = infiller.fill(TEMPLATE, EXAMPLES, seed=7)
    again = infiller.fill(TEMPLATE, EXAMPLES, seed=7)
    other = infiller.fill(TEMPLATE, EXAMPLES, seed=8)
    assert [c.texts for c in first] == [c.texts for c in again]
    assert [c.texts for c in first] != [c.texts for c in other]


def test_greedy_candidates_merge_into_one_per_length(infiller):
    result = infiller.fill(TEMPLATE, EXAMPLES, temperature=0.0, remasking="low_confidence")
    assert len(result) == 2
    assert result.sampled == 8
    assert sorted(c.duplicates for c in result) == [4, 4]


def test_result_json_round_trip(infiller, tmp_path):
    result = infiller.fill(TEMPLATE, EXAMPLES)
    path = tmp_path / "result.json"
    result.to_json(path)
    loaded = FillResult.from_json(path)
    assert loaded == result
    assert loaded.best.render(text="ok") == result.best.render(text="ok")


def test_model_and_tokenizer_exposed(infiller):
    assert infiller.model.config.num_hidden_layers == 2
    assert infiller.tokenizer.mask_token == "[MASK]"


def test_no_examples_rejected(infiller):
    with pytest.raises(ConfigError, match=r"examples=\[\] is invalid; pass a non-empty list of dicts"):
        infiller.fill(TEMPLATE, [])


def test_example_missing_variable_named(infiller):
    with pytest.raises(TemplateVariableError) as info:
        infiller.fill(TEMPLATE, [EXAMPLES[0], {"text": "no label here"}])
    assert str(info.value).startswith("example 1: ")
    assert "label" in str(info.value)


def test_zero_candidates_rejected(infiller):
    with pytest.raises(ConfigError, match="num_candidates"):
        infiller.fill(TEMPLATE, EXAMPLES, num_candidates=0)


def test_callable_scorer_ranks(infiller):
    def prefer_long(candidate, examples):
        return [float(len(candidate.texts[0])) for _ in examples]

    result = infiller.fill(TEMPLATE, EXAMPLES, scorer=prefer_long, dev_examples=EXAMPLES[:2])
    values = [c.score.value for c in result]
    assert values == sorted(values, reverse=True)
    assert result.best.score.count == 2
    assert result.scorer == "prefer_long"


class FlakyScorer(Scorer):
    name = "flaky"

    def __init__(self, fail_all: bool) -> None:
        self.fail_all = fail_all
        self.calls = 0

    def score(self, candidate, examples):
        self.calls += 1
        if self.fail_all or self.calls % 2:
            raise ScorerError("target model returned HTTP 500")
        return CandidateScore.from_values([1.0])


def test_failed_scores_rank_last_and_are_never_scored(infiller):
    result = infiller.fill(TEMPLATE, EXAMPLES, scorer=FlakyScorer(fail_all=False))
    failed = [c for c in result if c.error]
    assert failed
    assert all(c.score is None for c in failed)
    assert all(c.error == "target model returned HTTP 500" for c in failed)
    assert result.candidates[-len(failed):] == failed


def test_all_scores_failed_raises_with_partial_result(infiller):
    with pytest.raises(ScorerError, match="scorer 'flaky' failed on all") as info:
        infiller.fill(TEMPLATE, EXAMPLES, scorer=FlakyScorer(fail_all=True))
    assert len(info.value.partial_result) >= 1


def test_causal_lm_rejected(tmp_path, minilm_tokenizer):
    from transformers import GPT2Config, GPT2LMHeadModel

    GPT2LMHeadModel(GPT2Config(vocab_size=100, n_embd=16, n_layer=1, n_head=2)).save_pretrained(str(tmp_path))
    minilm_tokenizer.save_pretrained(str(tmp_path))
    with pytest.raises(UnsupportedModelError, match="causal language model"):
        PromptInfiller.from_pretrained(str(tmp_path))
