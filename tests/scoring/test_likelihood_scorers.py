"""loglik and choice scorers, run against a callable target with a fixed log-likelihood table."""

from __future__ import annotations

import math

import pytest

from promptfill import SCORERS, ConfigError, DataError
from promptfill.scoring import ChoiceScorer, LoglikScorer
from promptfill.targets import CallableTarget

TEMPLATE = "Review: {{ text }} [MASK] ||| {{ label }}"
CHOICES = "negative ||| positive"

# (logprob, num_tokens) of each continuation, whatever the prompt.
TABLE = {"positive": (-1.0, 1), "negative": (-3.0, 2), "great film": (-4.0, 2)}


def fake_target() -> CallableTarget:
    def loglikelihood(prompt: str, continuation: str):
        if "awful" in prompt and continuation == "negative":
            return (-0.5, 2)
        return TABLE[continuation]

    return CallableTarget(lambda prompt: "", loglikelihood_function=loglikelihood, name="table")


def test_loglik_is_mean_per_token(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Sentiment:"])
    examples = [{"text": "fine", "label": "positive"}, {"text": "ok", "label": "great film"}]

    score = LoglikScorer(fake_target()).score(candidate, examples)

    assert score.per_example == [-1.0, -2.0]
    assert score.value == -1.5
    assert score.std == 0.5


def test_loglik_needs_loglikelihood_target(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Sentiment:"])

    with pytest.raises(ConfigError, match=r"target 'callable' cannot compute log-likelihoods"):
        LoglikScorer(CallableTarget(lambda prompt: "")).score(candidate, [{"text": "a", "label": "b"}])


def test_choice_accuracy_from_template_choices(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Sentiment:"], answer_choices=CHOICES)
    examples = [
        {"text": "fine", "label": "positive"},  # positive -1.0 > negative -1.5 per token
        {"text": "awful", "label": "negative"},  # negative -0.25 per token > positive -1.0
        {"text": "meh", "label": "negative"},  # positive wins, reference is negative
    ]

    score = ChoiceScorer(fake_target()).score(candidate, examples)

    assert score.per_example == [1.0, 1.0, 0.0]


def test_choice_without_normalisation_uses_sums(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Sentiment:"], answer_choices=CHOICES)
    examples = [{"text": "awful", "label": "negative"}]  # sums: negative -0.5, positive -1.0

    assert ChoiceScorer(fake_target(), normalize="none").score(candidate, examples).per_example == [1.0]
    # Per token, negative scores -0.25, still above positive's -1.0.
    assert ChoiceScorer(fake_target(), normalize="tokens").score(candidate, examples).per_example == [1.0]


def test_choice_probability_metric(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Sentiment:"], answer_choices=CHOICES)
    examples = [{"text": "fine", "label": "positive"}]

    score = ChoiceScorer(fake_target(), metric="probability").score(candidate, examples)

    # Scores per token: negative -1.5, positive -1.0.
    expected = math.exp(-1.0) / (math.exp(-1.0) + math.exp(-1.5))
    assert score.per_example == pytest.approx([expected])


def test_choice_setting_overrides_template(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Sentiment:"])
    examples = [{"text": "fine", "label": "great film"}]

    score = SCORERS.create("choice", target=fake_target(), choices=["great film", "positive"]).score(candidate, examples)

    # great film -2.0 per token, positive -1.0: positive wins.
    assert score.per_example == [0.0]


def test_choice_reference_not_among_choices(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Sentiment:"], answer_choices=CHOICES)
    examples = [{"text": "fine", "label": "positive"}, {"text": "odd", "label": "neutral"}]

    with pytest.raises(
        DataError,
        match=r"the reference 'neutral' of dev example 1 is not among its answer choices \['negative', 'positive'\]",
    ):
        ChoiceScorer(fake_target()).score(candidate, examples)


def test_choice_without_choices(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Sentiment:"])

    with pytest.raises(ConfigError, match=r"scorer 'choice' found no answer choices for dev example 0"):
        ChoiceScorer(fake_target()).score(candidate, [{"text": "fine", "label": "positive"}])


def test_choice_invalid_settings():
    with pytest.raises(ConfigError, match=r"normalize='chars' is invalid; choose one of \['tokens', 'none'\]"):
        ChoiceScorer(normalize="chars")
    with pytest.raises(ConfigError, match=r"metric='f1' is invalid; choose one of \['accuracy', 'probability'\]"):
        ChoiceScorer(metric="f1")
