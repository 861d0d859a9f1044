import importlib
import os
import sys
import tempfile

import pytest

# LiteLLM (imported by TextGrad) downloads a price table on import unless
# LITELLM_LOCAL_MODEL_COST_MAP is set, and TextGrad writes a log file into ./logs/ unless
# TEXTGRAD_LOG_DIR names another folder.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("TEXTGRAD_LOG_DIR", tempfile.mkdtemp(prefix="textgrad-logs-"))
tg = pytest.importorskip("textgrad")

from promptfill import ConfigError  # noqa: E402
from promptfill.adapters.textgrad import VariableInfiller, engine_scorer, infill_variable, seed_variables  # noqa: E402

EXAMPLES = [{"input": word, "output": word.upper()} for word in ("cat", "dog", "sun")]


class ShoutEngine(tg.EngineLM):
    """A deterministic local engine: upper-cases the prompt when the system prompt contains 'loud'."""

    model_string = "local-shout"

    def generate(self, prompt, system_prompt=None, **kwargs):
        return prompt.upper() if "loud" in (system_prompt or "") else prompt

    def __call__(self, prompt, **kwargs):
        return self.generate(prompt, **kwargs)


def upper_match(response, example):
    return float(response == example["output"])


def text_scorer(text, devset):
    # Favour infills with more characters, so the best candidate is known from the texts.
    return float(len(text))


def test_engine_scorer_runs_blackbox_llm():
    scorer = engine_scorer(ShoutEngine(), upper_match)
    assert scorer("Be loud.", EXAMPLES) == [1.0, 1.0, 1.0]
    assert scorer("Be calm.", EXAMPLES) == [0.0, 0.0, 0.0]


def test_infill_variable_sets_best_marked_infill(tiny_infiller):
    variable = tg.Variable("Answer with care.", requires_grad=True, role_description="system prompt")
    def scorer(text, devset):
        return 0.0 if text == "Answer with care." else text_scorer(text, devset)

    result = infill_variable(variable, EXAMPLES, scorer, marked="Answer [MASK:2] care.", infiller=tiny_infiller)
    best = max(result.candidates, key=lambda c: c.score)
    assert result.baseline_score == 0.0
    assert result.improved
    assert variable.value == result.text == best.text
    assert all(c.text.startswith("Answer ") and c.text.endswith(" care.") for c in result.candidates)


def test_infill_variable_keeps_original_under_engine(tiny_infiller):
    variable = tg.Variable("Be loud.", requires_grad=True, role_description="system prompt")
    scorer = engine_scorer(ShoutEngine(), upper_match)
    result = infill_variable(variable, EXAMPLES, scorer, spans=[(3, 7)], hole="[MASK:1]", infiller=tiny_infiller)
    assert result.baseline_score == 1.0
    assert variable.value == "Be loud."
    assert all(c.text.startswith("Be ") and c.text.endswith(".") for c in result.candidates)


def test_seed_variables_copy_role_and_leave_source(tiny_infiller):
    variable = tg.Variable("Answer with care.", requires_grad=True, role_description="system prompt")
    seeds = seed_variables(variable, EXAMPLES, 2, spans=[(0, 6)], hole="[MASK:1]", infiller=tiny_infiller)
    assert 1 <= len(seeds) <= 2
    assert all(isinstance(seed, tg.Variable) and seed.requires_grad for seed in seeds)
    assert all(seed.get_role_description() == "system prompt" for seed in seeds)
    assert all(seed.value.endswith(" with care.") for seed in seeds)
    assert variable.value == "Answer with care."


def test_seed_variables_ranked_by_scorer(tiny_infiller):
    variable = tg.Variable("Answer with care.", requires_grad=True, role_description="system prompt")
    seeds = seed_variables(variable, EXAMPLES, 3, scorer=text_scorer, marked="Answer [MASK:2] care.", infiller=tiny_infiller)
    lengths = [len(seed.value) for seed in seeds]
    assert lengths == sorted(lengths, reverse=True)
    assert variable.value == "Answer with care."


def test_spans_and_marked_together_rejected():
    with pytest.raises(ConfigError, match="spans and marked were both given"):
        VariableInfiller(text_scorer, spans=[(0, 1)], marked="[MASK]")


def test_missing_textgrad_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "textgrad", None)
    monkeypatch.delitem(sys.modules, "promptfill.adapters.textgrad", raising=False)
    with pytest.raises(ImportError, match=r'pip install "promptfill\[textgrad\]"'):
        importlib.import_module("promptfill.adapters.textgrad")
