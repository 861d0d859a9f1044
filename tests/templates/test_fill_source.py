"""PromptTemplate.fill_source: writing fills back into template source, literally."""

from __future__ import annotations

import pytest

from promptfill.errors import TemplateError
from promptfill.templates import PromptTemplate

EXAMPLE = {"x": "X", "text": "a review", "label": "yes"}


def assert_round_trip(template: PromptTemplate, fills: list[str]) -> str:
    """Check that the written source renders what ``template.render`` does; return it."""
    written = template.fill_source(fills)
    filled = PromptTemplate(written, allow_no_holes=True, answer_separator=template.answer_separator)
    assert filled.holes == ()
    assert filled.render([], **EXAMPLE) == template.render(fills, **EXAMPLE)
    assert filled.render_answer([], **EXAMPLE) == template.render_answer(fills, **EXAMPLE)
    return written


def test_plain_fills_are_written_as_text():
    template = PromptTemplate("Review: {{ text }}\n[MASK:3-8] ||| {{ label }} [MASK:1]")
    written = assert_round_trip(template, ["Is it good? 100%", "#1"])
    assert written == "Review: {{ text }}\nIs it good? 100% ||| {{ label }} #1"


def test_escapes_and_code_are_kept_verbatim():
    source = r"\[MASK] {# note #}{% raw %}{{ }}{% endraw %} [MASK]"
    template = PromptTemplate(source)
    assert template.fill_source(["done"]) == r"\[MASK] {# note #}{% raw %}{{ }}{% endraw %} done"


@pytest.mark.parametrize(
    "fill",
    [
        "{{ x }}",
        "{% if x %}",
        "{# c #}",
        "{%- raw %}",
        "[MASK]",
        "[MASK:3]",
        "a ||| b",
        "line\r\nbreak",
        "ends with {",
    ],
)
def test_special_fills_become_expressions(fill):
    template = PromptTemplate("Q: {{ x }} [MASK] end ||| {{ label }}")
    written = assert_round_trip(template, [fill])
    assert written.startswith('Q: {{ x }} {{ "')
    assert template.render([fill], **EXAMPLE) == f"Q: X {fill} end"


@pytest.mark.parametrize("fill", ['say "hi" \\ there', "tab\\", "é ü \u2028 \U0001f600", "}} %} #}", "]:|"])
def test_harmless_fills_stay_plain(fill):
    template = PromptTemplate("Q: {{ x }} [MASK] end ||| {{ label }}")
    written = assert_round_trip(template, [fill])
    assert written == f"Q: {{{{ x }}}} {fill} end ||| {{{{ label }}}}"

@pytest.mark.parametrize(
    ("source", "fills"),
    [
        ("{[MASK]", ["{x"]),
        ("{[MASK]", ["%x"]),
        ("{[MASK]", ["#"]),
        ("a{[MASK]b", ["{{y"]),
        ("[[MASK]]", ["MASK"]),
        ("[MA[MASK]", ["SK]"]),
        ("[MASK:1][MASK:1]", ["[MA", "SK]"]),
        ("|[MASK]|", ["|"]),
        ("[MASK][MASK]", ["\\", "[MASK]"]),
        ("[MASK] \\[MASK]", ["\\"]),
        ("x\r[MASK]", ["\nnext"]),
        ("[MASK]", [""]),
        ("a [MASK] b", [""]),
        ("{[MASK]{", [""]),
        ("[[MASK]MASK]", [""]),
        ("[MASK[MASK][MASK]", ["", ":"]),
        ("[MASK[MASK][MASK]", ["", "]"]),
        ("[MA[MASK]S[MASK]K[MASK]", ["", "", ":"]),
    ],
)
def test_fills_at_boundaries(source, fills):
    assert_round_trip(PromptTemplate(source, default_hole_length=1), fills)


@pytest.mark.parametrize(
    ("source", "fills"),
    [
        ("{{ x -}} [MASK]", ["  leading"]),
        ("{{ x -}} [MASK] end", [""]),
        ("[MASK] {%- if true %}!{% endif %}", ["trailing  "]),
        ("[MASK]{{- x }}", ["\n"]),
        ("{# c -#}\n[MASK]", ["\tx"]),
        ("{{ x -}} [MASK] [MASK] b", ["", ""]),
        ("{{ x -}} [MASK] [MASK] b", [" ", "y"]),
        ("[MASK] {#- c #}", ["x "]),
    ],
)
def test_fills_next_to_trim_markers(source, fills):
    assert_round_trip(PromptTemplate(source, default_hole_length=1), fills)


def test_fill_without_trim_neighbour_stays_plain():
    template = PromptTemplate("{{ x }} [MASK] {% if true %}!{% endif %}")
    assert template.fill_source(["  spaced  "]) == "{{ x }}   spaced   {% if true %}!{% endif %}"


def test_fill_source_rejects_reserved_characters():
    template = PromptTemplate("[MASK]")
    with pytest.raises(TemplateError, match=r"fill 0 contains the reserved character '\\ue000'"):
        template.fill_source(["a\ue000"])


def test_fill_source_checks_fill_count():
    template = PromptTemplate("[MASK] [MASK]")
    with pytest.raises(TemplateError, match=r"has 2 hole\(s\) but 1 fill\(s\) were given"):
        template.fill_source(["one"])


def test_fill_source_keeps_other_options():
    template = PromptTemplate("{{ q }} [MASK] ### {{ a }}", answer_separator="###")
    written = template.fill_source(["a ### b"])
    filled = PromptTemplate(written, answer_separator="###", allow_no_holes=True)
    assert filled.render([], q="Q") == "Q a ### b"
    assert filled.render_answer([], q="Q", a="A") == "A"
