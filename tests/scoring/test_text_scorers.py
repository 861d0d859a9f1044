"""exact_match, f1, numeric and metric scorers, run against deterministic callable targets."""

from __future__ import annotations

import pytest

from promptfill import SCORERS, ConfigError, DataError, ScorerError
from promptfill.scoring import ExactMatchScorer, F1Scorer, MetricScorer, NumericScorer, extract_answer_number, normalize_answer
from promptfill.targets import CallableTarget

TEMPLATE = "Question: {{ question }} [MASK] ||| {{ answer }}"


def answers_from(table: dict[str, str]) -> CallableTarget:
    """A target that answers each question with a fixed text; the prompt ends with the question."""

    def answer(prompt: str) -> str:
        return next(text for question, text in table.items() if question in prompt)

    return CallableTarget(answer, name="table")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Eiffel Tower!", "eiffel tower"),
        ("  an   apple,  a pear ", "apple pear"),
        ("Theory of THE cat.", "theory of cat"),
    ],
)
def test_normalize_answer_cases(text, expected):
    assert normalize_answer(text) == expected


def test_normalize_answer_steps_can_be_turned_off():
    assert normalize_answer("The Cat!", lowercase=False) == "Cat"
    assert normalize_answer("The Cat!", strip_punctuation=False) == "cat!"
    assert normalize_answer("The Cat!", strip_articles=False) == "the cat"
    assert normalize_answer("a  b", collapse_whitespace=False, strip_articles=False) == "a  b"


def test_exact_match_normalises(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Answer briefly."])
    target = answers_from({"capital": "The Paris.", "color": "blue sky", "number": "SEVEN"})
    examples = [
        {"question": "capital?", "answer": "paris"},
        {"question": "color?", "answer": "blue"},
        {"question": "number?", "answer": "seven"},
    ]

    score = ExactMatchScorer(target).score(candidate, examples)

    assert score.per_example == [1.0, 0.0, 1.0]
    assert score.value == pytest.approx(2 / 3)
    assert score.count == 3


def test_exact_match_case_sensitive_setting(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Answer."])
    target = answers_from({"number": "SEVEN"})

    score = ExactMatchScorer(target, lowercase=False).score(candidate, [{"question": "number?", "answer": "seven"}])

    assert score.per_example == [0.0]


def test_exact_match_first_line(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Answer."])
    target = answers_from({"capital": "\nParis\nBecause it is the capital."})
    examples = [{"question": "capital?", "answer": "Paris"}]

    assert ExactMatchScorer(target).score(candidate, examples).per_example == [0.0]
    assert ExactMatchScorer(target, first_line=True).score(candidate, examples).per_example == [1.0]


def test_exact_match_best_of_reference_list(make_candidate):
    candidate = make_candidate("Q: {{ question }} [MASK]", ["Answer."])
    target = answers_from({"capital": "Paris"})
    examples = [{"question": "capital?", "answers": ["Lyon", "paris"]}]

    score = ExactMatchScorer(target, reference_field="answers").score(candidate, examples)

    assert score.per_example == [1.0]


def test_missing_reference_field_raises(make_candidate):
    candidate = make_candidate("Q: {{ question }} [MASK]", ["Answer."])
    scorer = ExactMatchScorer(answers_from({"capital": "Paris"}), reference_field="gold")

    with pytest.raises(DataError, match=r"dev example 0 has no field 'gold' \(reference_field\); its fields are \['question'\]"):
        scorer.score(candidate, [{"question": "capital?"}])


def test_failed_call_raises_scorer_error(make_candidate):
    def broken(prompt: str) -> str:
        raise TimeoutError("model server timed out")

    candidate = make_candidate(TEMPLATE, ["Answer."])

    with pytest.raises(ScorerError, match=r"1 of 1 requests to target 'callable' failed \(first: TimeoutError: model server timed out\)"):
        ExactMatchScorer(CallableTarget(broken)).score(candidate, [{"question": "q", "answer": "a"}])


def test_f1_values_by_hand(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Answer."])
    target = answers_from({"one": "the big red dog", "two": "cat", "three": "red red fox"})
    examples = [
        # prediction {big, red, dog}, reference {red, dog, barks}: 2 shared, P = R = 2/3, F1 = 2/3
        {"question": "one", "answer": "red dog barks"},
        # nothing shared
        {"question": "two", "answer": "dog"},
        # prediction {red, red, fox}, reference {red}: 1 shared, P = 1/3, R = 1, F1 = 0.5
        {"question": "three", "answer": "Red."},
    ]

    score = F1Scorer(target).score(candidate, examples)

    assert score.per_example == pytest.approx([2 / 3, 0.0, 0.5])


def test_f1_max_over_references(make_candidate):
    candidate = make_candidate("Q: {{ question }} [MASK]", ["Answer."])
    target = answers_from({"one": "red dog"})
    examples = [{"question": "one", "answers": ["cat", "red dog"]}]

    assert F1Scorer(target, reference_field="answers").score(candidate, examples).per_example == [1.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Natalia sold 48 + 24 = 72 clips.\n#### 1,234", 1234.0),
        ("-3.5", -3.5),
        ("$12", 12.0),
        ("It costs -$1,234.50 in total", -1234.5),
        ("5-3 leaves 2", 2.0),
        ("#### 42 apples, not 7", 42.0),
        ("0.5", 0.5),
        ("no number here", None),
        ("#### none", None),
    ],
)
def test_extract_answer_number_table(text, expected):
    assert extract_answer_number(text) == expected


def test_numeric_scorer_gsm8k_style(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Solve it."])
    target = answers_from({"apples": "She has 3 + 4 = 7 apples.", "cost": "#### $1,234.00", "speed": "about 12 km/h"})
    examples = [
        {"question": "apples", "answer": "3 + 4 = 7\n#### 7"},
        {"question": "cost", "answer": "#### 1234"},
        {"question": "speed", "answer": "13"},
    ]

    score = NumericScorer(target).score(candidate, examples)

    assert score.per_example == [1.0, 1.0, 0.0]


def test_numeric_tolerance(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Solve it."])
    target = answers_from({"pi": "3.14"})
    examples = [{"question": "pi", "answer": "3.14159"}]

    assert NumericScorer(target).score(candidate, examples).per_example == [0.0]
    assert NumericScorer(target, tolerance=0.01).score(candidate, examples).per_example == [1.0]


def test_numeric_reference_without_number_raises(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Solve it."])
    target = answers_from({"pi": "3"})

    with pytest.raises(DataError, match=r"the reference 'three' of dev example 0 contains no number"):
        NumericScorer(target).score(candidate, [{"question": "pi", "answer": "three"}])


def length_difference(prediction: str, reference: str, example) -> float:
    return -abs(len(prediction) - len(reference))


def test_metric_scorer_callable_and_string(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Answer."])
    target = answers_from({"one": "abcd"})
    examples = [{"question": "one", "answer": "ab"}]

    direct = MetricScorer(length_difference, target=target)
    by_name = SCORERS.create("metric", metric=f"{__name__}:length_difference", target=target)

    assert direct.score(candidate, examples).per_example == [-2.0]
    assert by_name.score(candidate, examples).per_example == [-2.0]
    assert by_name.name == "length_difference"


def test_metric_scorer_bad_string():
    with pytest.raises(ConfigError, match=r"metric='no_colon' is invalid; write it as 'package.module:function'"):
        MetricScorer("no_colon")


def test_metric_scorer_non_number_result(make_candidate):
    candidate = make_candidate(TEMPLATE, ["Answer."])
    scorer = MetricScorer(lambda p, r, e: "good", target=answers_from({"one": "x"}), name="words")

    with pytest.raises(ConfigError, match=r"metric 'words' returned 'good' for prediction 'x'; it must return a number"):
        scorer.score(candidate, [{"question": "one", "answer": "x"}])


def test_builtin_scorers_registered():
    for name in ("choice", "embedding", "exact_match", "f1", "loglik", "metric", "numeric"):
        assert name in SCORERS.names()
