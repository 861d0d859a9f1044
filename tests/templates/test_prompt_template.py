"""PromptTemplate: parsing, holes, escapes, rendering into copies, and errors."""

from __future__ import annotations

import json
import pickle

import pytest

from promptfill.errors import (
    ConfigError,
    HoleSyntaxError,
    NoHoleError,
    PromptfillError,
    TemplateError,
    TemplateSyntaxError,
    TemplateVariableError,
)
from promptfill.templates import HoleSpec, PromptTemplate, RenderedCopy

IN_CODE = "holes must be in template text, not inside a Jinja expression or tag"


# -- holes, escapes, raw blocks and comments ------------------------------------------


def test_holes_are_numbered_in_source_order():
    template = PromptTemplate("[MASK:2] a {{ x }} [MASK:3]\n{% if y %}[MASK:4]{% endif %}")
    assert [hole.index for hole in template.holes] == [0, 1, 2]
    assert [hole.min_length for hole in template.holes] == [2, 3, 4]


def test_escaped_hole_renders_literal():
    template = PromptTemplate(r"Fill \[MASK] and \[MASK:5] here: [MASK:2]", answer_separator=None)
    assert len(template.holes) == 1
    copy = template.render_copy({})
    assert copy.prompt == ("Fill [MASK] and [MASK:5] here: ", 0)


def test_backslash_before_escaped_hole_stays():
    template = PromptTemplate(r"a\\[MASK] b [MASK]")
    assert template.render_copy({}).prompt == ("a\\[MASK] b ", 0)


def test_backslash_elsewhere_is_literal():
    template = PromptTemplate(r"C:\path\n \[MASKED] [MASK]")
    assert template.render_copy({}).prompt == ("C:\\path\\n \\[MASKED] ", 0)


@pytest.mark.parametrize("text", ["[MASKED]", "[mask]", "[MASK", "MASK]", "[ MASK ]"])
def test_non_hole_brackets_are_text(text):
    template = PromptTemplate(f"{text} [MASK]")
    assert len(template.holes) == 1
    assert template.render_copy({}).prompt == (f"{text} ", 0)


@pytest.mark.parametrize(
    "raw",
    [
        "{% raw %}[MASK] {{ x }} |||{% endraw %}",
        "{%raw%}[MASK] {{ x }} |||{%endraw%}",
        "{%+ raw %}[MASK] {{ x }} |||{% endraw +%}",
    ],
)
def test_raw_block_is_literal(raw):
    template = PromptTemplate(f"{raw} [MASK:2]")
    assert len(template.holes) == 1
    assert template.has_answer is False
    copy = template.render_copy({})
    assert copy.prompt == ("[MASK] {{ x }} ||| ", 0)
    assert copy.answer is None


def test_raw_block_whitespace_control():
    template = PromptTemplate("a {%- raw -%}  [MASK] |||  {%- endraw -%}  [MASK:2]")
    assert template.render_copy({}).prompt == ("a[MASK] |||", 0)


def test_comments_are_ignored():
    template = PromptTemplate("a {# [MASK] ||| {{ #} b [MASK]")
    assert len(template.holes) == 1
    assert template.render_copy({}).prompt == ("a  b ", 0)


def test_comment_only_hole_is_no_hole():
    with pytest.raises(NoHoleError):
        PromptTemplate("{# [MASK] #} text")


def test_raw_only_hole_is_no_hole():
    with pytest.raises(NoHoleError):
        PromptTemplate("{% raw %}[MASK]{% endraw %}")


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("{{ '[MASK]' }}", 1),
        ("{{ x | replace('[MASK:3]', y) }}", 1),
        ("a\n{{- '[MASK]' }}", 2),
        ("a\n\n{{ '[MASK]' -}}", 3),
        ("{% set x = '[MASK]' %}", 1),
        ("{%- if x == '[MASK]' -%}{% endif %}", 1),
        ("{%+ if x == \"[MASK:2-3]\" %}{% endif %}", 1),
        ("{{ {'k': '[MASK]'} }}", 1),
        ("{{ items[MASK] }}", 1),
        ("{{ 'a\n\n[MASK]' }}", 3),
        ("{{ '}}' ~ '[MASK]' }}", 1),
    ],
)
def test_hole_inside_code_is_rejected(source, line):
    with pytest.raises(HoleSyntaxError) as caught:
        PromptTemplate(source + " [MASK]")
    message = str(caught.value)
    assert f"on line {line} is inside the Jinja code" in message
    assert IN_CODE in message
    assert "for a literal '[MASK]' inside a Jinja string, write '\\x5bMASK]'" in message


def test_escaped_hole_in_jinja_string():
    template = PromptTemplate("{{ '\\x5bMASK]' }} [MASK]")
    assert template.render_copy({}).prompt == ("[MASK] ", 0)


def test_brace_strings_end_code():
    template = PromptTemplate("{{ '}}' }} [MASK:2] {% if '%}' %}x{% endif %} [MASK:3]")
    assert [hole.min_length for hole in template.holes] == [2, 3]
    assert template.render_copy({}).prompt == ("}} ", 0, " x ", 1)


def test_nested_braces_in_expression():
    template = PromptTemplate("{{ {'a': {'b': 'c'}}['a']['b'] }} [MASK]")
    assert template.render_copy({}).prompt == ("c ", 0)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ x -}}   [MASK] ", ("1", 0)),
        ("{{ x }}   [MASK]   {%- if true %}!{% endif %}", ("1   ", 0, "!")),
        ("{{- x }}[MASK]\n\n{{- x -}}\n\n[MASK]", ("1", 0, "1", 1)),
        ("{%- if true -%}  [MASK]  {%- endif -%}", (0,)),
        ("a  {#- c -#}  [MASK]", ("a", 0)),
    ],
)
def test_whitespace_control_around_holes(source, expected):
    template = PromptTemplate(source, default_hole_length=1)
    assert template.render_copy({"x": 1}).prompt == expected


def test_reserved_character_in_source_is_rejected():
    with pytest.raises(TemplateSyntaxError, match=r"reserved character '\\ue001' on line 2"):
        PromptTemplate("a\nb \ue001 [MASK]")


# -- Jinja syntax errors --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "line", "jinja_message"),
    [
        ("[MASK]\n{% if x %}\nno end", 2, "Unexpected end of template"),
        ("[MASK] {{ x", 1, "unexpected end of template"),
        ("[MASK]\n\n{{ x | no_such_filter }}", 3, "No filter named 'no_such_filter'"),
        ("[MASK]\n{% endfor %}", 2, "Encountered unknown tag 'endfor'"),
        ("[MASK] {{ 'open }}", 1, "unexpected char"),
        ("[MASK] {# open", 1, "Missing end of comment tag"),
        ("[MASK] {% raw %} open", 1, "Missing end of raw directive"),
        ("[MASK] {{ x) }}", 1, "unexpected ')'"),
    ],
)
def test_jinja_syntax_errors(source, line, jinja_message):
    with pytest.raises(TemplateSyntaxError) as caught:
        PromptTemplate(source)
    message = str(caught.value)
    assert f"on line {line}: " in message
    assert jinja_message in message


def test_syntax_error_line_after_multiline_separator():
    with pytest.raises(TemplateSyntaxError, match="on line 5: "):
        PromptTemplate("[MASK]\n###\nanswer\n\n{% if %}", answer_separator="\n###\n")


# -- construction options -------------------------------------------------------------


def test_no_hole_error_message():
    with pytest.raises(NoHoleError) as caught:
        PromptTemplate("Review: {{ text }} Sentiment:", name="baseline")
    message = str(caught.value)
    assert message.startswith("template 'baseline' has no [MASK] hole, so there is nothing to infill")
    assert "pass allow_no_holes=True for a fixed template, such as a human-written baseline" in message


def test_allow_no_holes_accepts_baseline():
    template = PromptTemplate("Review: {{ text }} Sentiment:", allow_no_holes=True)
    assert template.holes == ()
    assert template.render([], text="fine") == "Review: fine Sentiment:"


def test_attributes():
    template = PromptTemplate(
        "Review: {{ text }} [MASK:3-8] ||| {{ answer_choices[label] }}",
        name="sentiment",
        answer_choices=["bad", "good"],
    )
    assert template.source == "Review: {{ text }} [MASK:3-8] ||| {{ answer_choices[label] }}"
    assert template.name == "sentiment"
    assert template.holes == (HoleSpec(index=0, min_length=3, max_length=8),)
    assert template.variables == frozenset({"text", "label"})
    assert template.has_answer is True
    assert template.answer_choices == ["bad", "good"]
    assert template.answer_separator == "|||"
    assert template.dialect == "promptfill"


def test_variables_exclude_globals_and_locals():
    template = PromptTemplate(
        "{% set n = 2 %}{% for a, b in zip(xs, ys) %}{{ a }}{{ b }}{% endfor %}"
        "{{ range(n) | list }} {{ loop_free | default('') }} [MASK]"
    )
    assert template.variables == frozenset({"xs", "ys", "loop_free"})


def test_variables_include_answer_choice_inputs():
    template = PromptTemplate("{{ q }} [MASK]", answer_choices="{{ options | join(' ||| ') }}")
    assert template.variables == frozenset({"q", "options"})


def test_variables_keep_undefined_choices():
    template = PromptTemplate("{{ answer_choices | join(', ') }} [MASK]")
    assert template.variables == frozenset({"answer_choices"})


def test_custom_separator():
    template = PromptTemplate("Q: {{ q }} [MASK] ### A: {{ a }} ||| x", answer_separator="###")
    copy = template.render_copy({"q": "why", "a": "because"})
    assert copy.prompt == ("Q: why ", 0)
    assert copy.answer == ("A: because ||| x",)


def test_no_separator():
    template = PromptTemplate("a ||| [MASK]", answer_separator=None)
    assert template.has_answer is False
    assert template.render_copy({}) == RenderedCopy(prompt=("a ||| ", 0), answer=None)


@pytest.mark.parametrize(
    ("separator", "problem"),
    [
        ("", "answer_separator must be a non-blank str or None, got ''"),
        ("  ", "answer_separator must be a non-blank str or None, got '  '"),
        (3, "answer_separator must be a non-blank str or None, got 3"),
        ("{sep}", "answer_separator '{sep}' contains '{'"),
        ("\\\\", "contains '\\\\'"),
        ("[MASK]", "contains '[MASK'"),
    ],
)
def test_invalid_separator(separator, problem):
    with pytest.raises(ConfigError) as caught:
        PromptTemplate("[MASK]", answer_separator=separator)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"source": 3}, "source must be a str of Jinja template text, got 3"),
        ({"source": "[MASK]", "name": 5}, "name must be a str or None, got 5"),
        ({"source": "[MASK]", "dialect": "jinja"}, "dialect must be one of ['promptfill', 'promptsource'], got 'jinja'"),
        ({"source": "[MASK]", "seed": "1"}, "seed must be an int, got '1'"),
        ({"source": "[MASK]", "answer_choices": 3}, "answer_choices must be a list of strings"),
        ({"source": "[MASK]", "answer_choices": ["a", 1]}, "answer_choices must be a list of strings"),
    ],
)
def test_invalid_arguments(arguments, problem):
    source = arguments.pop("source")
    with pytest.raises(ConfigError) as caught:
        PromptTemplate(source, **arguments)
    assert problem in str(caught.value)


# -- render_copy ----------------------------------------------------------------------


def test_render_copy_splits_prompt_and_answer():
    template = PromptTemplate("\n  Review: {{ text }}\n[MASK:3-8]\n|||\n {{ label }}  \n")
    copy = template.render_copy({"text": "great film", "label": "positive"})
    assert copy == RenderedCopy(prompt=("Review: great film\n", 0), answer=("positive",))
    assert copy.hole_indices == frozenset({0})


def test_render_copy_drops_empty_segments():
    template = PromptTemplate("[MASK:1][MASK:2]{{ empty }}[MASK:3] ||| ")
    copy = template.render_copy({"empty": ""})
    assert copy.prompt == (0, 1, 2)
    assert copy.answer == ()


def test_hole_in_answer():
    template = PromptTemplate("Q: {{ q }} ||| [MASK:2] {{ a }}")
    copy = template.render_copy({"q": "2+2?", "a": "4"})
    assert copy.prompt == ("Q: 2+2?",)
    assert copy.answer == (0, " 4")


def test_hole_in_loop_repeats_index():
    template = PromptTemplate("{% for item in items %}{{ item }}: [MASK:2]\n{% endfor %}")
    copy = template.render_copy({"items": ["a", "b", "c"]})
    assert copy.prompt == ("a: ", 0, "\nb: ", 0, "\nc: ", 0)


def test_hole_in_false_branch_is_absent():
    template = PromptTemplate("{% if long %}Explain: [MASK:5]{% else %}Say: [MASK:1]{% endif %}")
    assert template.render_copy({"long": False}).prompt == ("Say: ", 1)
    assert template.render_copy({"long": True}).prompt == ("Explain: ", 0)


def test_answer_absent_when_separator_not_rendered():
    template = PromptTemplate("[MASK] {% if labeled %}||| {{ label }}{% endif %}")
    assert template.render_copy({"labeled": False}).answer is None
    assert template.render_copy({"labeled": True, "label": "yes"}).answer == ("yes",)


def test_separator_rendered_twice_is_rejected():
    template = PromptTemplate("{% for x in xs %}[MASK] |||{% endfor %}")
    with pytest.raises(TemplateError) as caught:
        template.render_copy({"xs": [1, 2]})
    assert "rendered the answer separator '|||' 2 times for one example; it must render at most once" in str(caught.value)


def test_separator_from_expression_is_text():
    template = PromptTemplate("{{ '|||' }} [MASK] ||| {{ value }}")
    copy = template.render_copy({"value": "a ||| b"})
    assert copy.prompt == ("||| ", 0)
    assert copy.answer == ("a ||| b",)


def test_example_values_are_not_parsed():
    data = {"doc": json.dumps({"a": [1, 2], "b": "{{ x }}"}), "note": "[MASK] {% raw %} |||"}
    template = PromptTemplate("{{ doc }} {{ note }} [MASK]")
    assert template.render_copy(data).prompt == ('{"a": [1, 2], "b": "{{ x }}"} [MASK] {% raw %} ||| ', 0)


def test_literal_braces():
    template = PromptTemplate("{{ '{{' }} name {{ '}}' }} {% raw %}{\"k\": {{v}}}{% endraw %} [MASK]")
    assert template.render_copy({}).prompt == ('{{ name }} {"k": {{v}}} ', 0)


def test_missing_variable_error():
    template = PromptTemplate("Review: {{ text }} [MASK]", name="t")
    with pytest.raises(TemplateVariableError) as caught:
        template.render_copy({"review": "good", "label": 1})
    assert str(caught.value) == (
        "the template of 't' reads the variable 'text', but the example has only the keys "
        "['label', 'review']; add 'text' to every example, or make it optional with "
        "{{ text | default('') }}"
    )


def test_optional_variable_with_default():
    template = PromptTemplate("{{ title | default('') }}[MASK]")
    assert template.render_copy({}).prompt == (0,)


def test_missing_attribute_error():
    template = PromptTemplate("{{ doc.title }} [MASK]", name="t")
    with pytest.raises(TemplateVariableError) as caught:
        template.render_copy({"doc": {"body": "x"}})
    message = str(caught.value)
    assert message.startswith("the template of 't' failed for the example with keys ['doc']: ")
    assert "has no attribute 'title'" in message
    assert "add 'title' to the example's data, or make it optional with {{ value | default('') }}" in message


def test_missing_index_error():
    template = PromptTemplate("{{ items[3] }} [MASK]")
    with pytest.raises(TemplateVariableError, match="has no element 3"):
        template.render_copy({"items": [1]})


@pytest.mark.parametrize(
    "value",
    ["a\ue000b", ["ok", "bad\ue001"], {"nested": {"deep": "\ue002"}}, ("\ue003",)],
)
def test_reserved_character_in_value(value):
    template = PromptTemplate("{{ field }} [MASK]")
    with pytest.raises(TemplateVariableError) as caught:
        template.render_copy({"field": value})
    assert str(caught.value).startswith("example value of 'field' contains the reserved character")
    assert "Remove these characters from the data" in str(caught.value)


def test_non_mapping_example():
    template = PromptTemplate("[MASK]")
    with pytest.raises(TemplateVariableError, match="an example must be a mapping from variable names to values, got list"):
        template.render_copy(["text"])  # type: ignore[arg-type]


def test_non_string_key():
    template = PromptTemplate("[MASK]")
    with pytest.raises(TemplateVariableError, match="example keys must be strings .* got 1"):
        template.render_copy({1: "x"})  # type: ignore[dict-item]


def test_self_containing_value():
    looped: list[object] = []
    looped.append(looped)
    template = PromptTemplate("[MASK]")
    with pytest.raises(TemplateVariableError, match="nested more than 64 levels deep or contains itself"):
        template.render_copy({"looped": looped})


def test_runtime_error_becomes_template_error():
    template = PromptTemplate("{{ n // d }} [MASK]", name="t")
    with pytest.raises(TemplateError) as caught:
        template.render_copy({"n": 1, "d": 0})
    assert str(caught.value) == (
        "rendering the template of 't' failed for the example with keys ['d', 'n']: "
        "ZeroDivisionError: integer division or modulo by zero"
    )


def test_immutable_sandbox_blocks_mutation():
    template = PromptTemplate("{{ items.append(4) }} [MASK]")
    with pytest.raises(TemplateError, match="SecurityError"):
        template.render_copy({"items": [1]})


def test_promptsource_dialect_mutates_a_copy():
    template = PromptTemplate(
        "{{ items.append(4) or '' }}{{ items | join(',') }} [MASK]", dialect="promptsource"
    )
    items = [1, 2]
    assert template.render_copy({"items": items}).prompt == ("1,2,4 ", 0)
    assert items == [1, 2]


def test_damaged_hole_marker_is_reported():
    template = PromptTemplate("{% filter reverse %}Hi [MASK]{% endfilter %}")
    with pytest.raises(TemplateError, match="contains a damaged hole marker"):
        template.render_copy({})


def test_example_is_not_modified():
    example = {"items": [3, 1, 2], "meta": {"k": "v"}}
    template = PromptTemplate("{{ items | sort | join(',') }} {{ meta.k }} [MASK]")
    assert template.render_copy(example).prompt == ("1,2,3 v ", 0)
    assert example == {"items": [3, 1, 2], "meta": {"k": "v"}}


# -- render, render_answer ------------------------------------------------------------


def test_render_and_render_answer():
    template = PromptTemplate("Review: {{ text }}\n[MASK:3-8] ||| [MASK:1] {{ label }}")
    fills = ["Is it positive?", "Answer:"]
    assert template.render(fills, text="great") == "Review: great\nIs it positive?"
    assert template.render_answer(fills, text="great", label="yes") == "Answer: yes"


def test_render_skips_answer_variables():
    template = PromptTemplate("Review: {{ text }} [MASK] ||| {{ answer_choices[label] }}", answer_choices=["no", "yes"])
    assert template.render(["Positive?"], text="fine") == "Review: fine Positive?"
    with pytest.raises(TemplateVariableError) as caught:
        template.render_answer(["Positive?"], text="fine")
    assert "the example lacks the template variables ['label']: add them to every example" in str(caught.value)


def test_render_copy_without_answer():
    template = PromptTemplate("{{ text }} [MASK] ||| {{ label }}")
    assert template.render_copy({"text": "new input"}, include_answer=False) == RenderedCopy(
        prompt=("new input ", 0), answer=None
    )
    with pytest.raises(TemplateVariableError, match="reads the variable 'label'"):
        template.render_copy({"text": "new input"})


def test_render_answer_without_answer():
    template = PromptTemplate("[MASK]")
    assert template.render_answer(["x"]) is None


def test_render_accepts_variable_named_fills():
    template = PromptTemplate("{{ fills }} [MASK]")
    assert template.render(["x"], fills="data") == "data x"


@pytest.mark.parametrize(
    ("fills", "problem"),
    [
        ("one", "fills must be a sequence of strings, one per hole, got 'one'; pass a list such as ['...', '...']"),
        (["a"], "has 2 hole(s) but 1 fill(s) were given; pass one fill per hole, in hole order"),
        (["a", 2], "fill 1 must be a str, got 2"),
        (None, "fills must be a sequence of strings, one per hole, got None"),
    ],
)
def test_render_rejects_bad_fills(fills, problem):
    template = PromptTemplate("[MASK] [MASK]")
    with pytest.raises(TemplateError) as caught:
        template.render(fills)
    assert problem in str(caught.value)


# -- answer choices -------------------------------------------------------------------


def test_static_choices_from_string():
    template = PromptTemplate("{{ text }} [MASK] ||| {{ answer_choices[label] }}", answer_choices="negative ||| positive")
    assert template.answer_choices == ["negative", "positive"]
    assert template.choices_for({"text": "x", "label": 0}) == ["negative", "positive"]
    assert template.render_copy({"text": "x", "label": 1}).answer == ("positive",)


def test_per_example_choices():
    template = PromptTemplate(
        "{{ q }} [MASK] ||| {{ answer_choices[label] }}",
        answer_choices="{{ options | join(' ||| ') }}",
    )
    example = {"q": "pick", "options": ["red", "green ||| blue"], "label": 1}
    assert template.answer_choices is None
    assert template.choices_for(example) == ["red", "green ||| blue"]
    assert template.render_copy(example).answer == ("green ||| blue",)


def test_template_without_choices():
    template = PromptTemplate("[MASK]")
    assert template.answer_choices is None
    assert template.choices_for({}) is None


def test_example_cannot_override_choices():
    template = PromptTemplate("[MASK] {{ answer_choices }}", answer_choices=["a", "b"], name="t")
    with pytest.raises(TemplateVariableError, match="the example has the key 'answer_choices', but template 't' provides its own"):
        template.render_copy({"answer_choices": ["c"]})


def test_choices_syntax_error():
    with pytest.raises(TemplateSyntaxError, match="invalid Jinja syntax in the answer_choices on line 1"):
        PromptTemplate("[MASK]", answer_choices="{{ a ||| b")


def test_choice_filter_is_reproducible():
    template = PromptTemplate("{{ ['a', 'b', 'c', 'd'] | choice }} {{ range(100) | random }} [MASK]")
    first = [template.render_copy({"id": i}).prompt for i in range(20)]
    again = [template.render_copy({"id": i}).prompt for i in range(20)]
    assert first == again
    assert len({copy[0] for copy in first}) > 1


def test_choice_depends_on_seed():
    examples = [{"id": i} for i in range(10)]
    outputs = {
        seed: [PromptTemplate("{{ range(1000) | choice }}[MASK]", seed=seed).render_copy(e).prompt for e in examples]
        for seed in (0, 1)
    }
    assert outputs[0] != outputs[1]


def test_most_frequent_filter():
    template = PromptTemplate("{{ ['b', 'a', 'b', 'a', 'c'] | most_frequent | join(',') }} [MASK]")
    assert template.render_copy({}).prompt == ("b,a ", 0)


def test_choice_of_empty_sequence():
    template = PromptTemplate("{{ [] | choice }} [MASK]")
    with pytest.raises(TemplateError, match="the choice filter received an empty sequence"):
        template.render_copy({})


# -- identity -------------------------------------------------------------------------


def test_pickle_round_trip():
    template = PromptTemplate("{{ q }} [MASK:3] ||| {{ a }}", name="qa", answer_choices=["x"], seed=3)
    restored = pickle.loads(pickle.dumps(template))
    assert restored == template
    assert restored.render(["fill"], q="why", a="x") == "why fill"


def test_settings_rebuild_through_json():
    template = PromptTemplate(
        "{{ q }} [MASK] ### {{ a }}",
        answer_separator="###",
        default_hole_length=(3, 9),
        name="qa",
        answer_choices="{{ options | join(' ||| ') }}",
        dialect="promptsource",
        seed=7,
    )
    settings = json.loads(json.dumps(template.settings))
    assert settings == {
        "answer_separator": "###",
        "default_hole_length": "3-9",
        "name": "qa",
        "answer_choices": "{{ options | join(' ||| ') }}",
        "allow_no_holes": False,
        "dialect": "promptsource",
        "seed": 7,
    }
    assert PromptTemplate(template.source, **settings) == template
    assert PromptTemplate("[MASK]", default_hole_length=5).settings["default_hole_length"] == 5


def test_equality_and_repr():
    first = PromptTemplate("[MASK] {{ x }}", name="n")
    assert first == PromptTemplate("[MASK] {{ x }}", name="n")
    assert first != PromptTemplate("[MASK] {{ x }}", name="m")
    assert hash(first) == hash(PromptTemplate("[MASK] {{ x }}", name="n"))
    assert repr(first) == "PromptTemplate(name='n', holes=1, source='[MASK] {{ x }}')"


def test_errors_share_base_class():
    for error in (HoleSyntaxError, NoHoleError, TemplateSyntaxError, TemplateVariableError):
        assert issubclass(error, PromptfillError)
