import importlib
import sys

import pytest

dspy = pytest.importorskip("dspy")

from promptfill import ConfigError  # noqa: E402
from promptfill.adapters.dspy import PromptfillDSPy, PromptfillProposer, propose_instructions  # noqa: E402

PAIRS = [("hot", "cold"), ("up", "down"), ("big", "small")]
TRAINSET = [dspy.Example(word=word, antonym=antonym).with_inputs("word") for word, antonym in PAIRS]


def exact_match(example, prediction, trace=None):
    return example.antonym == prediction.antonym


def test_propose_instructions_returns_distinct_texts(tiny_infiller):
    texts = propose_instructions(dspy.Predict("word -> antonym"), TRAINSET, 3, infiller=tiny_infiller, hole="[MASK:3]")
    assert 1 <= len(texts) <= 3
    assert len(set(texts)) == len(texts)
    assert all(text.strip() for text in texts)


def test_propose_instructions_rejects_missing_fields(tiny_infiller):
    trainset = [dspy.Example(word="hot").with_inputs("word")]
    with pytest.raises(ConfigError, match=r"lack some of the predictor's fields \['antonym', 'word'\]"):
        propose_instructions(dspy.Predict("word -> antonym"), trainset, infiller=tiny_infiller)


def test_compile_keeps_best_scored_instruction(tiny_infiller):
    # DummyLM answers in order: the original instruction is evaluated first (all wrong), then
    # the first infilled candidate (all right), then the rest (all wrong).
    answers = ["no"] * 3 + ["cold", "down", "small"] + ["no"] * 30
    student = dspy.Predict("word -> antonym")
    original = student.signature.instructions
    optimizer = PromptfillDSPy(exact_match, infiller=tiny_infiller, hole="[MASK:3]", num_threads=1)
    with dspy.context(lm=dspy.utils.DummyLM([{"antonym": answer} for answer in answers])):
        compiled = optimizer.compile(student, trainset=TRAINSET)

    result = optimizer.results["self"]
    winners = [c.text for c in result.candidates if c.score == 1.0]
    assert result.baseline_score == 0.0
    assert len(winners) == 1
    assert compiled.signature.instructions == winners[0] == result.text
    assert student.signature.instructions == original
    assert compiled.promptfill_candidates["self"][0] == (winners[0], 1.0)


def test_compile_keeps_original_when_no_candidate_wins(tiny_infiller):
    student = dspy.Predict("word -> antonym")
    optimizer = PromptfillDSPy(exact_match, infiller=tiny_infiller, hole="[MASK:3]", num_threads=1)
    with dspy.context(lm=dspy.utils.DummyLM({word: {"antonym": "wrong"} for word, _ in PAIRS})):
        compiled = optimizer.compile(student, trainset=TRAINSET, valset=TRAINSET[:2])
    assert compiled.signature.instructions == student.signature.instructions
    assert not optimizer.results["self"].improved


def test_compile_skips_predictor_without_example_fields(tiny_infiller, caplog):
    class TwoStage(dspy.Module):
        def __init__(self):
            super().__init__()
            self.first = dspy.Predict("word -> antonym")
            self.second = dspy.Predict("antonym -> sentence")

        def forward(self, word):
            return self.second(antonym=self.first(word=word).antonym)

    optimizer = PromptfillDSPy(lambda example, prediction, trace=None: 1.0, infiller=tiny_infiller, hole="[MASK:3]", num_threads=1)
    with dspy.context(lm=dspy.utils.DummyLM({word: {"antonym": "x", "sentence": "y"} for word, _ in PAIRS})):
        optimizer.compile(TwoStage(), trainset=TRAINSET)
    assert list(optimizer.results) == ["first"]
    assert "skipping predictor 'second'" in caplog.text


def test_gepa_proposer_changes_masked_span(tiny_infiller):
    student = dspy.Predict("word -> antonym")
    proposer = PromptfillProposer(student, TRAINSET, infiller=tiny_infiller, hole="[MASK:2]", seed=3)
    current = "Give the opposite of the word you are shown."
    proposal = proposer({"self": current}, {"self": []}, ["self"])
    assert set(proposal) == {"self"}
    assert proposal["self"] != current
    unchanged_words = set(current.split()) & set(proposal["self"].split())
    assert len(unchanged_words) >= 4


def test_missing_dspy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dspy", None)
    monkeypatch.delitem(sys.modules, "promptfill.adapters.dspy", raising=False)
    with pytest.raises(ImportError, match=r'pip install "promptfill\[dspy\]"'):
        importlib.import_module("promptfill.adapters.dspy")
