"""Property tests of the template parser, rendering and fill_source (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptfill.errors import PromptfillError
from promptfill.templates import PromptTemplate

FUZZ_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EXAMPLE = {"x": "X", "a": 1, "b": [1, 2], "s": "  ", "label": "yes"}

# Source fragments that reach every scanner state: holes and near-holes, Jinja delimiters
# with whitespace control, strings, brackets, raw blocks, separators and escapes.
_FUZZ_TOKENS = st.sampled_from(
    [
        "[MASK", "[MASK]", "[MASK]", "[MASK]", "[MASK:", "[MASK:2]", ":", "-", "]", "[", "{", "}", "%", "#", "|", "|||", "\\", "\n", " ",
        "'", '"', "(", ")", "0", "1", "3", "9", "513", "a", "b", "x", "M", "S", "K",
        "{{", "}}", "{%", "%}", "{#", "#}", "{{-", "-}}", "{%-", "-%}", "{%+",
        " raw ", " endraw ", " if ", " endif ", " for x in b ", " endfor ", " x ", " set ",
        "\ue000", "\u00e9",
    ]
)
_FUZZ_SOURCE = st.lists(_FUZZ_TOKENS, max_size=40).map("".join)

_HOLE = st.sampled_from(["[MASK]", "[MASK:2]", "[MASK:1-4]"])

_FILL = st.lists(
    st.sampled_from(
        ["{", "}", "%", "#", "[", "]", "MASK", ":", "|", "\\", '"', "'", " ", "\n", "\r", "a", "-", "3", "\t"]
    ),
    max_size=8,
).map("".join)


@FUZZ_SETTINGS
@given(source=_FUZZ_SOURCE, fills=st.lists(_FILL, min_size=12, max_size=12))
def test_parser_raises_only_promptfill_errors(source, fills):
    try:
        template = PromptTemplate(source, allow_no_holes=True, default_hole_length=2)
    except PromptfillError:
        return
    assert [hole.index for hole in template.holes] == list(range(len(template.holes)))
    try:
        copy = template.render_copy(EXAMPLE)
    except PromptfillError:
        return
    assert copy.hole_indices <= set(range(len(template.holes)))

    # Whatever parsed and rendered must survive writing its fills back into the source.
    hole_fills = fills[: len(template.holes)] + ["f"] * max(0, len(template.holes) - len(fills))
    written = template.fill_source(hole_fills)
    filled = PromptTemplate(written, allow_no_holes=True)
    assert filled.holes == ()
    assert filled.render([], **EXAMPLE) == template.render(hole_fills, **EXAMPLE)
    assert filled.render_answer([], **EXAMPLE) == template.render_answer(hole_fills, **EXAMPLE)


# -- valid templates with whitespace control, checked by writing fills back ---------------

_BLOCKS = st.sampled_from(
    [
        "{{ x }}", "{{- x -}}", "{{ x -}}", "{{- x }}", "{{ s }}", "{# c #}", "{#- c -#}", "{# c -#}",
        "{% if a %}{% endif %}", "{%- if a -%}{%- endif -%}", "{%+ if a %}{% endif +%}",
        "{% raw %}{{[MASK]}} |||{% endraw %}", "{%- raw -%} ] {%- endraw -%}",
        "{% for i in b %}[MASK:1]{% endfor %}", "{% if not a %}[MASK:2]{% endif %}",
    ]
)
_TEXT = st.text(alphabet="ab [MASK}%#!-\n\t\r\\", min_size=1, max_size=5)


@st.composite
def valid_templates(draw):
    """Return the source of a template that parses, with holes, code and at most one separator."""
    pieces = draw(st.lists(st.one_of(_BLOCKS, _TEXT, _HOLE), min_size=1, max_size=12))
    if draw(st.booleans()):
        pieces.insert(draw(st.integers(0, len(pieces))), "|||")
    return "".join(pieces)


@FUZZ_SETTINGS
@given(source=valid_templates(), fills=st.lists(_FILL, min_size=30, max_size=30))
def test_fill_source_round_trips(source, fills):
    template = PromptTemplate(source, allow_no_holes=True)
    hole_fills = fills[: len(template.holes)]
    written = template.fill_source(hole_fills)
    filled = PromptTemplate(written, allow_no_holes=True)
    assert filled.holes == ()
    assert filled.render([], **EXAMPLE) == template.render(hole_fills, **EXAMPLE)
    assert filled.render_answer([], **EXAMPLE) == template.render_answer(hole_fills, **EXAMPLE)


# -- plain text and holes, checked against a reference built here -----------------------

# Text without "{", "]", ":", "|" or a trailing backslash cannot start Jinja code, a hole,
# a separator or an escape, so its rendered form is itself.
_PLAIN_TEXT = st.text(alphabet="abMASK[ \n\t}%#!-", min_size=1, max_size=6)
_ESCAPED = st.sampled_from([("\\[MASK]", "[MASK]"), ("\\[MASK:3]", "[MASK:3]")])


@st.composite
def plain_templates(draw):
    """Return ``(source, parts)``: ``parts`` holds literal strings and hole indices in order."""
    source: list[str] = []
    parts: list[str | int] = []
    holes = 0
    for kind in draw(st.lists(st.sampled_from(["text", "hole", "escaped"]), min_size=1, max_size=10)):
        if kind == "text":
            text = draw(_PLAIN_TEXT)
            source.append(text)
            parts.append(text)
        elif kind == "hole":
            source.append(draw(_HOLE))
            parts.append(holes)
            holes += 1
        else:
            written, literal = draw(_ESCAPED)
            source.append(written)
            parts.append(literal)
    return "".join(source), parts


def reference_segments(parts: list[str | int]) -> tuple[str | int, ...]:
    """Merge adjacent text, strip the outer ends and drop empty text, as RenderedCopy does."""
    merged: list[str | int] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    if merged and isinstance(merged[0], str):
        merged[0] = merged[0].lstrip()
    if merged and isinstance(merged[-1], str):
        merged[-1] = merged[-1].rstrip()
    return tuple(part for part in merged if part != "")


@FUZZ_SETTINGS
@given(template_parts=plain_templates(), fills=st.lists(_FILL, min_size=10, max_size=10))
def test_plain_templates_match_reference(template_parts, fills):
    source, parts = template_parts
    template = PromptTemplate(source, allow_no_holes=True, answer_separator=None)
    hole_count = sum(isinstance(part, int) for part in parts)
    assert len(template.holes) == hole_count

    copy = template.render_copy({})
    assert copy.prompt == reference_segments(parts)
    assert copy.answer is None

    hole_fills = fills[:hole_count]
    joined = "".join(hole_fills[s] if isinstance(s, int) else s for s in copy.prompt)
    assert joined.strip() == template.render(hole_fills)
    # Fills without outer whitespace are not stripped, so the join is the render itself.
    stripped_fills = [fill.strip() or "f" for fill in hole_fills]
    joined = "".join(stripped_fills[s] if isinstance(s, int) else s for s in copy.prompt)
    if not joined[:1].isspace() and not joined[-1:].isspace():
        assert joined == template.render(stripped_fills)
