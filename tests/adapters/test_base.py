import pytest

from promptfill import ConfigError, OptimizerAdapter, PromptTemplate
from promptfill.adapters import MaskedPrompt, escape_text, fields_scaffold

EXAMPLES = [{"input": "cat", "output": "CAT"}, {"input": "dog", "output": "DOG"}]


class ListPrompt:
    """A plain-Python prompt object: its text and a log of written texts."""

    def __init__(self, text):
        self.text = text


class LengthAdapter(OptimizerAdapter[ListPrompt]):
    """Scores a text by its number of words, so longer infills win."""

    def masked_prompt(self, prompt):
        return MaskedPrompt.marked("Please [MASK:2] now.", original=prompt.text)

    def example_scaffold(self, prompt):
        return fields_scaffold({"input": "Input:"}, {"output": "Output:"})

    def evaluate(self, prompt, text, devset):
        return [float(len(text.split()))] * len(devset)

    def write_back(self, prompt, text):
        return ListPrompt(text)


def test_escape_text_renders_verbatim():
    text = "Use {{ x }}, {% if %} and {# c #}; [MASK] ||| {% endraw %} stays."
    template = PromptTemplate(escape_text(text) + "[MASK:1]")
    assert template.render_copy({}).prompt == (text, 0)


def test_masked_prompt_spans_apply():
    masked = MaskedPrompt.spans("You are a careful assistant.", [(10, 17)], hole="[MASK:2]")
    assert masked.parts == ("You are a ", " assistant.")
    assert masked.apply(["very kind"]) == "You are a very kind assistant."
    assert masked.original == "You are a careful assistant."


def test_masked_prompt_marked_keeps_escaped_mask():
    masked = MaskedPrompt.marked("Fill \\[MASK] here: [MASK:3-5].")
    assert masked.parts == ("Fill [MASK] here: ", ".")
    assert masked.holes == ("[MASK:3-5]",)
    assert masked.template_source("").endswith("[MASK:3-5]{% raw %}.{% endraw %}")


def test_masked_prompt_errors_name_value():
    with pytest.raises(ConfigError, match=r"span \(5, 50\) is invalid for a text of 10 characters"):
        MaskedPrompt.spans("0123456789", [(5, 50)])
    with pytest.raises(ConfigError, match="hole='MASK' is invalid"):
        MaskedPrompt.whole("text", hole="MASK")
    with pytest.raises(ConfigError, match="has no \\[MASK\\] hole"):
        MaskedPrompt.marked("no holes")


def test_fields_scaffold_puts_answer_after_separator():
    scaffold = fields_scaffold({"question": "Question:"}, {"answer": "Answer:", "why": "Why:"})
    template = PromptTemplate("[MASK:2]" + scaffold)
    copy = template.render_copy({"question": "2+2?", "answer": "4", "why": "sum"})
    assert copy.prompt == (0, "\nQuestion: 2+2?\nAnswer:")
    assert copy.answer == ("4\nWhy: sum",)


def test_optimize_writes_back_best_candidate(tiny_infiller):
    adapter = LengthAdapter(tiny_infiller, num_candidates=3, seed=1)
    result = adapter.optimize(ListPrompt("Go."), EXAMPLES)
    scores = [candidate.score for candidate in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert result.baseline_score == 1.0
    assert result.improved
    assert result.text == result.candidates[0].text
    assert result.prompt.text == result.text
    assert result.text.startswith("Please ") and result.text.endswith(" now.")


def test_optimize_keeps_original_when_not_beaten(tiny_infiller):
    adapter = LengthAdapter(tiny_infiller, num_candidates=2)
    original = "one two three four five six seven eight nine ten"
    result = adapter.optimize(ListPrompt(original), EXAMPLES)
    assert not result.improved
    assert result.text == original
    assert result.score == result.baseline_score == 10.0


def test_num_candidates_rejects_zero():
    with pytest.raises(ConfigError, match="num_candidates=0 is invalid"):
        LengthAdapter(None, num_candidates=0)
