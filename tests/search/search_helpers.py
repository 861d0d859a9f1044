"""Deterministic scorers and a tiny target for the search-loop tests."""

from __future__ import annotations

from promptfill import FunctionScorer, GenerationScorer, Response, ScorerError, Target

SEED = "Write the first letter of the given word.\nInput: {{ input }}\nOutput: ||| {{ output }}"
EXAMPLES = [{"input": word, "output": word[0]} for word in ("place", "family", "point", "east")]


def letter_e_share(candidate, examples):
    """Score a prompt by how many of its source characters are the letter 'e' (a known function of the text)."""
    return candidate.source.count("e") / len(candidate.source)


class CountingScorer(FunctionScorer):
    """A FunctionScorer that counts its calls and can fail on chosen prompts."""

    def __init__(self, function=letter_e_share, fails=lambda source: False):
        super().__init__(function, name="counting")
        self.calls = 0
        self.fails = fails

    def score(self, candidate, examples):
        self.calls += 1
        if self.fails(candidate.source):
            raise ScorerError(f"target refused prompt {candidate.source!r}")
        return super().score(candidate, examples)


class LastWordTarget(Target):
    """A target that answers with the last word of the prompt; no model involved."""

    name = "last_word"

    def identity(self):
        return {}

    def _generate(self, prompts):
        return [Response(text=prompt.split()[-1] if prompt.split() else "") for prompt in prompts]


class ExactMatch(GenerationScorer):
    name = "test_exact_match"

    def metric(self, prediction, reference, example):
        return float(prediction.strip() == reference.strip())
