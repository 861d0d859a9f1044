"""HoleSpec and the [MASK] length syntax."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from promptfill.errors import ConfigError, HoleSyntaxError
from promptfill.templates import HoleSpec, PromptTemplate

VALID_FORMS = "valid forms are [MASK] (the template's default length), [MASK:5] (exactly 5 tokens)"


def test_hole_spec_fields_and_is_fixed():
    ranged = HoleSpec(index=0, min_length=3, max_length=8)
    fixed = HoleSpec(index=1, min_length=5, max_length=5)
    assert (ranged.index, ranged.min_length, ranged.max_length) == (0, 3, 8)
    assert ranged.is_fixed is False
    assert fixed.is_fixed is True


def test_hole_spec_is_frozen():
    spec = HoleSpec(index=0, min_length=3, max_length=8)
    with pytest.raises(ValidationError):
        spec.min_length = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    "fields",
    [
        {"index": 0, "min_length": 0, "max_length": 3},
        {"index": 0, "min_length": 5, "max_length": 3},
        {"index": 0, "min_length": 1, "max_length": 513},
        {"index": -1, "min_length": 1, "max_length": 3},
        {"index": 0, "min_length": 1, "max_length": 3, "extra": 1},
    ],
)
def test_hole_spec_rejects_invalid_fields(fields):
    with pytest.raises(ValidationError):
        HoleSpec(**fields)


def test_hole_spec_order_message():
    with pytest.raises(ValidationError, match="min_length=5 is greater than max_length=3"):
        HoleSpec(index=0, min_length=5, max_length=3)


@pytest.mark.parametrize(
    ("low", "high", "trials", "expected"),
    [
        (3, 8, 2, [3, 8]),
        (3, 8, 3, [3, 6, 8]),  # midpoint 5.5 rounds half up
        (3, 8, 6, [3, 4, 5, 6, 7, 8]),
        (3, 8, 20, [3, 4, 5, 6, 7, 8]),  # more trials than lengths: deduplicated
        (4, 12, 3, [4, 8, 12]),
        (4, 12, 4, [4, 7, 9, 12]),  # 6.67 -> 7, 9.33 -> 9
        (1, 2, 5, [1, 2]),
        (5, 5, 4, [5]),
        (5, 5, 1, [5]),
        (3, 8, 1, [6]),  # a single trial takes the midpoint, rounded up
        (4, 12, 1, [8]),
    ],
)
def test_candidate_lengths(low, high, trials, expected):
    spec = HoleSpec(index=0, min_length=low, max_length=high)
    assert spec.candidate_lengths(trials) == expected


def test_candidate_lengths_bounds_and_order():
    spec = HoleSpec(index=0, min_length=2, max_length=97)
    for trials in range(1, 30):
        lengths = spec.candidate_lengths(trials)
        assert len(lengths) <= trials
        assert lengths == sorted(set(lengths))
        assert all(2 <= length <= 97 for length in lengths)
        if trials >= 2:
            assert lengths[0] == 2
            assert lengths[-1] == 97


@pytest.mark.parametrize("trials", [0, -1, 2.5, True, "3"])
def test_candidate_lengths_rejects_bad_trials(trials):
    spec = HoleSpec(index=0, min_length=2, max_length=9)
    with pytest.raises(ConfigError, match="trials must be a positive integer, got"):
        spec.candidate_lengths(trials)


def test_hole_forms_give_lengths():
    template = PromptTemplate("A [MASK] B [MASK:5] C [MASK:3-8] D", default_hole_length=(2, 6))
    assert template.holes == (
        HoleSpec(index=0, min_length=2, max_length=6),
        HoleSpec(index=1, min_length=5, max_length=5),
        HoleSpec(index=2, min_length=3, max_length=8),
    )


def test_hole_at_limits_is_accepted():
    template = PromptTemplate("[MASK:1] [MASK:512] [MASK:1-512] [MASK:007]")
    assert [(hole.min_length, hole.max_length) for hole in template.holes] == [
        (1, 1), (512, 512), (1, 512), (7, 7)
    ]


@pytest.mark.parametrize(
    ("source", "hole", "reason"),
    [
        ("Say [MASK:0] now", "[MASK:0]", "a hole must be at least 1 token long"),
        ("Say [MASK:8-3] now", "[MASK:8-3]", "the range '8-3' starts above its end; write it as 3-8"),
        ("Say [MASK:x] now", "[MASK:x]", "'x' is not a length or a length range"),
        ("Say [MASK:] now", "[MASK:]", "the length after ':' is missing"),
        ("Say [MASK:3-] now", "[MASK:3-]", "'3-' is not a length or a length range"),
        ("Say [MASK:513] now", "[MASK:513]", "a length in '513' is greater than 512"),
        ("Say [MASK:2-600] now", "[MASK:2-600]", "a length in '2-600' is greater than 512"),
        ("Say [MASK:99999999999999999999] now", "[MASK:99999999999999999999]", "greater than 512"),
        ("Say [MASK: 5] now", "[MASK: 5]", "' 5' is not a length"),
        ("Say [MASK:٣] now", "[MASK:٣]", "is not a length"),
    ],
)
def test_malformed_hole_lengths(source, hole, reason):
    with pytest.raises(HoleSyntaxError) as caught:
        PromptTemplate(source)
    message = str(caught.value)
    assert message.startswith(f"invalid hole {hole!r} on line 1: ")
    assert reason in message
    assert VALID_FORMS in message


def test_malformed_hole_names_its_line():
    with pytest.raises(HoleSyntaxError, match=r"invalid hole '\[MASK:0\]' on line 3: "):
        PromptTemplate("first\n{{ x }}\nthird [MASK:0]\n")


def test_unclosed_hole_is_rejected():
    with pytest.raises(HoleSyntaxError) as caught:
        PromptTemplate("Say [MASK:5\nnext line]")
    assert "invalid hole '[MASK:5' on line 1: it has no closing ']' on its line" in str(caught.value)
    assert VALID_FORMS in str(caught.value)


def test_hole_length_from_jinja_is_rejected():
    with pytest.raises(HoleSyntaxError, match="the length must be literal digits, not Jinja code"):
        PromptTemplate("Say [MASK:{{ n }}]")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(6, (6, 6)), ((3, 9), (3, 9)), ("2-7", (2, 7)), ("5", (5, 5)), (" 4-12 ", (4, 12))],
)
def test_default_hole_length_forms(value, expected):
    template = PromptTemplate("[MASK]", default_hole_length=value)
    assert (template.holes[0].min_length, template.holes[0].max_length) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (0, "a hole must be at least 1 token long"),
        (-3, "a length must be positive"),
        ((8, 3), "the range starts above its end; write it as (3, 8)"),
        ((1, 600), "lengths must be from 1 to 512"),
        ("8-3", "the range '8-3' starts above its end"),
        ("many", "'many' is not a length"),
        (True, "a bool is not a length"),
        ([3, 8], "expected an int, a (min, max) tuple or a string like '3-8'"),
    ],
)
def test_default_hole_length_rejects(value, problem):
    with pytest.raises(ConfigError) as caught:
        PromptTemplate("[MASK]", default_hole_length=value)
    message = str(caught.value)
    assert message.startswith(f"invalid default_hole_length {value!r}: {problem}")
    assert "Pass a fixed length such as 6, or a range such as (4, 12) or '4-12'" in message
