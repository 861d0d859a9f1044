"""Prompt templates: Jinja source with ``[MASK]`` holes, rendered into segments and holes.

The template language is Jinja2 (sandboxed, with strict undefined variables) plus holes:

- ``[MASK]`` is a hole of the template's default length, ``[MASK:5]`` a hole of exactly
  5 tokens and ``[MASK:3-8]`` a hole of 3 to 8 tokens. Holes are written in template
  text; one inside ``{{ }}`` or ``{% %}`` raises :class:`~promptfill.errors.HoleSyntaxError`.
  A hole inside ``{% for %}`` renders once per iteration, each time with the same fill; a
  hole inside a false ``{% if %}`` does not render.
- ``|||`` in template text separates the prompt, which the target model receives, from
  the reference answer (promptsource's convention).
- ``\\[MASK]`` writes a literal ``[MASK]``. Text inside ``{% raw %}...{% endraw %}`` is
  literal too, so ``{% raw %}|||{% endraw %}`` writes a literal ``|||``; ``{# #}``
  comments are ignored. A backslash anywhere else is an ordinary character.
- Literal braces: ``{{ '{{' }}`` writes ``{{``, and ``{% raw %}{"a": 1}{% endraw %}``
  writes JSON. Values of an example are never parsed, so JSON, braces and ``[MASK]`` in
  the data render unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import jinja2
import jinja2.meta

from ..errors import (
    ConfigError,
    NoHoleError,
    PromptfillError,
    TemplateError,
    TemplateSyntaxError,
    TemplateVariableError,
)
from ._environment import RANDOM_VARIABLE, Dialect, make_environment, seeded_generator
from ._examples import PIPE, prepare_example, restore_pipes
from ._fill_source import write_fill_source
from ._holes import HoleSpec, default_length_range, hole_length_range
from ._scanner import (
    HOLE_CLOSE,
    HOLE_OPEN,
    RESERVED_CHARACTERS,
    SEPARATOR_MARK,
    CodePiece,
    HolePiece,
    Piece,
    ScanError,
    SeparatorPiece,
    TextPiece,
    scan_template,
)

__all__ = ["PromptTemplate", "RenderedCopy"]

Segment = str | int

_HOLE_MARK = re.compile(f"{HOLE_OPEN}([0-9]+){HOLE_CLOSE}")
_UNDEFINED_NAME = re.compile(r"^'([^']+)' is undefined$")
_MISSING_MEMBER = re.compile(r"has no (?:attribute|element) (.+)$")
_ENVIRONMENTS: dict[str, jinja2.Environment] = {}


@dataclass(frozen=True)
class RenderedCopy:
    """One example rendered through a template, with its holes left open.

    ``prompt`` and ``answer`` list text segments (``str``) and hole indices (``int``) in
    order. Empty text segments are dropped, and whitespace at the outer ends of each part
    is stripped, as promptsource strips its prompt and target. ``answer`` is ``None`` when
    the template rendered no answer separator for this example.
    """

    prompt: tuple[Segment, ...]
    answer: tuple[Segment, ...] | None

    @property
    def hole_indices(self) -> frozenset[int]:
        """Indices of the holes that occur in the prompt or the answer."""
        segments = self.prompt + (self.answer or ())
        return frozenset(segment for segment in segments if isinstance(segment, int))


class PromptTemplate:
    """A Jinja prompt template with ``[MASK]`` holes to infill.

    Args:
        source: Jinja source with holes, see the module documentation for the syntax.
        answer_separator: Text that splits the prompt from the reference answer, or
            ``None`` when the template has no answer part. Defaults to promptsource's ``|||``.
        default_hole_length: Token length of a bare ``[MASK]``: a fixed ``int``, a
            ``(min, max)`` tuple or a string like ``"4-12"``. The default (4, 12) spans a
            short instruction phrase in WordPiece or BPE tokens.
        name: A label for logs and reports.
        answer_choices: Label words offered to the template as ``answer_choices``: a list,
            or a promptsource string such as ``"negative ||| positive"``, which may contain
            Jinja and is then rendered for each example. Choices have no holes, so a
            ``[MASK]`` in them is literal text.
        allow_no_holes: Accept a template without holes, such as a human-written baseline
            that scorers compare infilled templates against.
        dialect: ``"promptfill"`` renders in an immutable sandbox. ``"promptsource"``
            also lets templates change the lists and dicts they build (``.append``,
            ``.update``), as promptsource templates do, rendering on a copy of each example.
        seed: Seed of the ``choice`` and ``random`` filters, combined with each example's
            content so that rendering is reproducible.

    Raises:
        HoleSyntaxError: A hole is malformed or inside Jinja code.
        TemplateSyntaxError: The Jinja source does not parse.
        NoHoleError: The template has no hole and ``allow_no_holes`` is false.
        ConfigError: An argument has the wrong type or an invalid value.
    """

    def __init__(
        self,
        source: str,
        *,
        answer_separator: str | None = PIPE,
        default_hole_length: int | tuple[int, int] | str = (4, 12),
        name: str | None = None,
        answer_choices: str | Sequence[str] | None = None,
        allow_no_holes: bool = False,
        dialect: Dialect = "promptfill",
        seed: int = 0,
    ) -> None:
        _check_arguments(source, answer_separator, name, dialect, seed)
        self._environment = _environment(dialect)
        self._static_choices, self._choices_template = _compile_choices(answer_choices, self._environment)
        self._default_length = default_length_range(default_hole_length)
        low, high = self._default_length
        self._init_arguments: dict[str, Any] = {
            "answer_separator": answer_separator,
            # A string, because JSON (the format of result files) has no tuples.
            "default_hole_length": low if low == high else f"{low}-{high}",
            "name": name,
            "answer_choices": answer_choices if isinstance(answer_choices, (str, type(None))) else list(answer_choices),
            "allow_no_holes": allow_no_holes,
            "dialect": dialect,
            "seed": seed,
        }
        self._source = source
        self._name = name
        self._separator = answer_separator
        self._dialect = dialect
        self._seed = seed

        # 1. Split the source and check its holes, then compile it with holes as markers.
        self._pieces = _scan(source, answer_separator, self._environment)
        self._jinja_source = _jinja_source(self._pieces)
        ast = _parse(self._environment, self._jinja_source, part="template")
        self._holes = tuple(
            HoleSpec(index=piece.index, min_length=low, max_length=high)
            for piece in self._pieces
            if isinstance(piece, HolePiece)
            for low, high in [_hole_range(piece, self._default_length)]
        )
        if not self._holes and not allow_no_holes:
            raise NoHoleError(
                f"template {_label(name, source)} has no [MASK] hole, so there is nothing to "
                "infill; add a hole such as [MASK] or [MASK:3-8] where the instruction should "
                "go, or pass allow_no_holes=True for a fixed template, such as a human-written "
                "baseline to score against"
            )

        # promptsource always passes answer_choices, as None when a template has none.
        self._provides_choices = answer_choices is not None or dialect == "promptsource"
        self._compiled = _compile(self._environment, ast)
        # Finding variables generates code a second time, so it waits for the first request.
        self._variables: frozenset[str] | None = None

    # -- attributes ---------------------------------------------------------------------

    @property
    def source(self) -> str:
        """The template source as given."""
        return self._source

    @property
    def name(self) -> str | None:
        """The template's label, if one was given."""
        return self._name

    @property
    def holes(self) -> tuple[HoleSpec, ...]:
        """The holes in source order; ``holes[i].index == i``."""
        return self._holes

    @property
    def variables(self) -> frozenset[str]:
        """Names the template reads from examples (some may be optional in the template)."""
        if self._variables is None:
            variables = _undeclared_variables(self._environment.parse(self._jinja_source))
            if self._choices_template is not None:
                variables |= _undeclared_variables(self._environment.parse(self._choices_template_source))
            variables -= set(self._environment.globals)
            variables.discard(RANDOM_VARIABLE)
            if self._provides_choices:
                variables.discard("answer_choices")
            self._variables = frozenset(variables)
        return self._variables

    @property
    def has_answer(self) -> bool:
        """Whether the source contains the answer separator in its text."""
        return any(isinstance(piece, SeparatorPiece) for piece in self._pieces)

    @property
    def answer_separator(self) -> str | None:
        """The text that separates prompt and answer, or ``None``."""
        return self._separator

    @property
    def answer_choices(self) -> list[str] | None:
        """The static answer choices; ``None`` when there are none or they depend on the example.

        Use :meth:`choices_for` to get the choices of one example in every case.
        """
        return None if self._static_choices is None else list(self._static_choices)

    @property
    def settings(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this template, as JSON-compatible values.

        ``PromptTemplate(template.source, **template.settings) == template`` holds.
        """
        return dict(self._init_arguments)

    @property
    def dialect(self) -> Dialect:
        """The Jinja dialect, ``"promptfill"`` or ``"promptsource"``."""
        return self._dialect

    # -- rendering ----------------------------------------------------------------------

    def choices_for(self, example: Mapping[str, object]) -> list[str] | None:
        """Return the answer choices for ``example``, or ``None`` if the template has none."""
        if self._static_choices is not None:
            return list(self._static_choices)
        if self._choices_template is None:
            return None
        values = prepare_example(example, protect_pipes=True)
        values[RANDOM_VARIABLE] = seeded_generator(self._seed, example)
        rendered = self._render_jinja(self._choices_template, values, example, part="answer_choices")
        return [restore_pipes(choice).strip() for choice in rendered.split(PIPE)]

    def render_copy(self, example: Mapping[str, object], *, include_answer: bool = True) -> RenderedCopy:
        """Render ``example`` through the template, keeping each hole as its index.

        Args:
            example: The values of the template's variables.
            include_answer: Render the answer part too. With ``False`` rendering stops at
                the answer separator, so an example without the answer's variables (a new
                input to answer) renders, and ``answer`` is ``None``.

        Raises:
            TemplateVariableError: The template reads a variable that ``example`` lacks,
                or a value contains a reserved character.
            TemplateError: Rendering failed for another reason.
        """
        values = prepare_example(example)
        if self._provides_choices:
            if "answer_choices" in values:
                raise TemplateVariableError(
                    f"the example has the key 'answer_choices', but template {_label(self._name, self._source)} "
                    "provides its own answer_choices; rename the key, or drop answer_choices "
                    "from the template"
                )
            values["answer_choices"] = self.choices_for(example)
        values[RANDOM_VARIABLE] = seeded_generator(self._seed, example)
        rendered = self._render_jinja(
            self._compiled, values, example, part="template", stop_at_separator=not include_answer
        )
        copy = self._split_rendered(rendered)
        return copy if include_answer else RenderedCopy(prompt=copy.prompt, answer=None)

    def render(self, fills: Sequence[str], /, **variables: object) -> str:
        """Render the prompt part with each hole replaced by its fill.

        Args:
            fills: One string per hole, in hole order.
            **variables: The example's values.

        Returns:
            The prompt the target model receives, stripped of whitespace at both ends as
            promptsource strips it (a fill's outer whitespace there included). Variables
            used only in the answer part may be left out.
        """
        self._check_fills(fills)
        return _join(self.render_copy(variables, include_answer=False).prompt, fills)

    def render_answer(self, fills: Sequence[str], /, **variables: object) -> str | None:
        """Render the answer part with each hole replaced by its fill, stripped like :meth:`render`.

        Returns ``None`` when the template rendered no answer separator for these variables.
        """
        self._check_fills(fills)
        answer = self.render_copy(variables).answer
        return None if answer is None else _join(answer, fills)

    def fill_source(self, fills: Sequence[str]) -> str:
        """Return the template source with each hole replaced by its fill as literal text.

        A fill that Jinja or the hole syntax would read as code (``{{``, ``{%``, ``[MASK]``,
        the answer separator, whitespace next to a ``-}}`` trim marker, ...) is written
        as a Jinja string expression such as ``{{ "{{x}}" }}``, so the result renders
        exactly what :meth:`render` returns with the same fills.
        """
        self._check_fills(fills)
        return write_fill_source(self._pieces, list(fills), self._separator)

    # -- construction helpers ---------------------------------------------------------

    @classmethod
    def from_promptsource(cls, path: str | Path, name: str | None = None) -> PromptTemplate:
        """Load one template from a promptsource ``templates.yaml`` file or its directory.

        Args:
            path: The ``templates.yaml`` file, or the directory that contains it.
            name: The template's name or id; may be omitted when the file has one template.

        Returns:
            The template, without holes, in the ``"promptsource"`` dialect.
        """
        from ._promptsource import find_promptsource_template

        return find_promptsource_template(path, name).to_template()

    # -- internals ----------------------------------------------------------------------

    @property
    def _choices_template_source(self) -> str:
        return self._init_arguments["answer_choices"]

    def _render_jinja(
        self,
        compiled: jinja2.Template,
        values: dict[str, Any],
        example: Mapping[str, object],
        *,
        part: str,
        stop_at_separator: bool = False,
    ) -> str:
        chunks: list[str] = []
        try:
            # Jinja yields output in source order and evaluates each expression only when
            # its chunk is requested, so stopping at the separator skips the answer part.
            generator = compiled.generate(values)
            for chunk in generator:
                chunks.append(chunk)
                if stop_at_separator and SEPARATOR_MARK in chunk:
                    generator.close()
                    break
            return "".join(chunks)
        except jinja2.UndefinedError as error:
            raise _undefined_error(error, example, part, self._name, self._source, self.variables) from error
        except PromptfillError:
            raise
        except Exception as error:
            # Templates call filters and methods of arbitrary data, so any exception type can
            # surface here; each is re-raised as a TemplateError with the cause chained.
            raise TemplateError(
                f"rendering the {part} of {_label(self._name, self._source)} failed for the "
                f"example with keys {sorted(map(str, example))}: {type(error).__name__}: {error}"
            ) from error

    def _split_rendered(self, rendered: str) -> RenderedCopy:
        parts = rendered.split(SEPARATOR_MARK)
        if len(parts) > 2:
            raise TemplateError(
                f"template {_label(self._name, self._source)} rendered the answer separator "
                f"{self._separator!r} {len(parts) - 1} times for one example; it must render at "
                "most once. Move it out of loops, or write a literal separator as "
                "{% raw %}" + str(self._separator) + "{% endraw %}"
            )
        prompt = self._segments(parts[0])
        answer = self._segments(parts[1]) if len(parts) == 2 else None
        return RenderedCopy(prompt=prompt, answer=answer)

    def _segments(self, part: str) -> tuple[Segment, ...]:
        pieces = _HOLE_MARK.split(part)
        segments: list[Segment] = []
        for position, piece in enumerate(pieces):
            if position % 2 == 1:
                index = int(piece)
                if index >= len(self._holes):
                    raise _damaged_marker_error(self._name, self._source)
                segments.append(index)
            elif any(char in piece for char in RESERVED_CHARACTERS):
                raise _damaged_marker_error(self._name, self._source)
            else:
                segments.append(piece)
        if segments and isinstance(segments[0], str):
            segments[0] = segments[0].lstrip()
        if segments and isinstance(segments[-1], str):
            segments[-1] = segments[-1].rstrip()
        return tuple(segment for segment in segments if segment != "")

    def _check_fills(self, fills: Sequence[str]) -> None:
        if isinstance(fills, str) or not isinstance(fills, Sequence):
            raise TemplateError(
                f"fills must be a sequence of strings, one per hole, got {_short(fills)}; "
                f"pass a list such as {['...'] * len(self._holes)!r}"
            )
        if len(fills) != len(self._holes):
            raise TemplateError(
                f"template {_label(self._name, self._source)} has {len(self._holes)} hole(s) but "
                f"{len(fills)} fill(s) were given; pass one fill per hole, in hole order"
            )
        for position, fill in enumerate(fills):
            if not isinstance(fill, str):
                raise TemplateError(f"fill {position} must be a str, got {_short(fill)}")

    def __repr__(self) -> str:
        label = f"name={self._name!r}, " if self._name is not None else ""
        return f"PromptTemplate({label}holes={len(self._holes)}, source={_short(self._source)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PromptTemplate):
            return NotImplemented
        return (self._source, self._init_arguments) == (other._source, other._init_arguments)

    def __hash__(self) -> int:
        return hash((self._source, self._dialect, self._separator, self._name))

    def __reduce__(self) -> tuple[Any, ...]:
        # Compiled Jinja templates do not pickle, so a copy is rebuilt from the arguments.
        return (_rebuild, (self._source, self._init_arguments))


def _rebuild(source: str, arguments: dict[str, Any]) -> PromptTemplate:
    return PromptTemplate(source, **arguments)


def _check_arguments(source: object, separator: object, name: object, dialect: object, seed: object) -> None:
    if not isinstance(source, str):
        raise ConfigError(f"source must be a str of Jinja template text, got {_short(source)}")
    if separator is not None:
        if not isinstance(separator, str) or not separator.strip():
            raise ConfigError(
                f"answer_separator must be a non-blank str or None, got {separator!r}; "
                "use '|||' (promptsource's separator) or None for a template without an answer"
            )
        forbidden = [text for text in ("{", "}", "\\", "[MASK", *RESERVED_CHARACTERS) if text in separator]
        if forbidden:
            raise ConfigError(
                f"answer_separator {separator!r} contains {forbidden[0]!r}, which the template "
                "syntax reserves for Jinja code, escapes or holes; choose a separator without it"
            )
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"name must be a str or None, got {_short(name)}")
    if dialect not in get_args(Dialect):
        raise ConfigError(f"dialect must be one of {list(get_args(Dialect))}, got {dialect!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"seed must be an int, got {seed!r}")


def _environment(dialect: str) -> jinja2.Environment:
    # Environments are immutable once built, so one per dialect is shared by all templates.
    if dialect not in _ENVIRONMENTS:
        _ENVIRONMENTS[dialect] = make_environment(dialect)  # type: ignore[arg-type]
    return _ENVIRONMENTS[dialect]


def _scan(source: str, separator: str | None, environment: jinja2.Environment) -> list[Piece]:
    try:
        return scan_template(source, separator)
    except ScanError as error:
        # Jinja's own message describes the broken structure best; ours is the fallback.
        _parse(environment, source, part="template")
        raise TemplateSyntaxError(f"invalid Jinja syntax on line {error.line}: {error}") from None


def _jinja_source(pieces: list[Piece]) -> str:
    """Return the Jinja source with holes and separators replaced by private markers."""
    parts: list[str] = []
    for piece in pieces:
        if isinstance(piece, TextPiece):
            parts.append(piece.text)
        elif isinstance(piece, HolePiece):
            parts.append(f"{HOLE_OPEN}{piece.index}{HOLE_CLOSE}")
        elif isinstance(piece, SeparatorPiece):
            parts.append(SEPARATOR_MARK)
            # An empty comment with the separator's newlines keeps Jinja's line numbers
            # equal to the source's.
            newlines = piece.source.count("\n")
            if newlines:
                parts.append("{#" + "\n" * newlines + "#}")
        else:
            parts.append(piece.source)
    return "".join(parts)


def _hole_range(piece: HolePiece, default: tuple[int, int]) -> tuple[int, int]:
    return hole_length_range(piece.spec, default, piece.source, piece.line)


def _parse(environment: jinja2.Environment, source: str, *, part: str) -> jinja2.nodes.Template:
    try:
        return environment.parse(source)
    except jinja2.TemplateSyntaxError as error:
        raise TemplateSyntaxError(f"invalid Jinja syntax in the {part} on line {error.lineno}: {error.message}") from None


def _undeclared_variables(ast: jinja2.nodes.Template) -> set[str]:
    # The template compiled already, so generating code for it again cannot fail.
    return set(jinja2.meta.find_undeclared_variables(ast))


def _compile(environment: jinja2.Environment, ast: jinja2.nodes.Template) -> jinja2.Template:
    try:
        return environment.from_string(ast)
    except jinja2.TemplateSyntaxError as error:
        # Unknown filters and tests are reported here, after parsing.
        raise TemplateSyntaxError(f"invalid Jinja in the template on line {error.lineno}: {error.message}") from None


def _compile_choices(
    answer_choices: object, environment: jinja2.Environment
) -> tuple[list[str] | None, jinja2.Template | None]:
    """Return ``(static_choices, per_example_template)``; at most one is not ``None``."""
    if answer_choices is None:
        return None, None
    if isinstance(answer_choices, str):
        reserved = [char for char in RESERVED_CHARACTERS if char in answer_choices]
        if reserved:
            raise ConfigError(
                f"answer_choices contains the reserved character {reserved[0]!r}; remove it"
            )
        if not any(opener in answer_choices for opener in ("{{", "{%", "{#")):
            return [choice.strip() for choice in answer_choices.split(PIPE)], None
        return None, _compile(environment, _parse(environment, answer_choices, part="answer_choices"))
    if isinstance(answer_choices, Sequence) and all(isinstance(choice, str) for choice in answer_choices):
        return list(answer_choices), None
    raise ConfigError(
        f"answer_choices must be a list of strings, a promptsource string such as "
        f"'no ||| yes', or None; got {_short(answer_choices)}"
    )


def _undefined_error(
    error: jinja2.UndefinedError,
    example: Mapping[str, object],
    part: str,
    name: str | None,
    source: str,
    variables: frozenset[str],
) -> TemplateVariableError:
    message = error.message or str(error)
    keys = sorted(map(str, example))
    undefined = _UNDEFINED_NAME.match(message)
    if undefined is not None:
        variable = undefined.group(1)
        return TemplateVariableError(
            f"the {part} of {_label(name, source)} reads the variable {variable!r}, but the "
            f"example has only the keys {keys}; add {variable!r} to every example, or make it "
            f"optional with {{{{ {variable} | default('') }}}}"
        )
    prefix = f"the {part} of {_label(name, source)} failed for the example with keys {keys}: {message}"
    absent = sorted(variables - set(keys))
    if absent:
        # An undefined variable used as an index ("has no element Undefined") lands here.
        return TemplateVariableError(
            f"{prefix}; the example lacks the template variables {absent}: add them to every "
            "example, or make them optional with {{ name | default('') }}"
        )
    member = _MISSING_MEMBER.search(message)
    missing = member.group(1) if member else "the value"
    return TemplateVariableError(
        f"{prefix}; add {missing} to the example's data, or make it optional with "
        "{{ value | default('') }}"
    )


def _damaged_marker_error(name: str | None, source: str) -> TemplateError:
    return TemplateError(
        f"the output of {_label(name, source)} contains a damaged hole marker: a filter "
        "applied to template text ({% filter %} or a macro's output) changed the private "
        "characters that mark a hole. Keep holes outside {% filter %} blocks"
    )


def _join(segments: Sequence[Segment], fills: Sequence[str]) -> str:
    joined = "".join(fills[segment] if isinstance(segment, int) else segment for segment in segments)
    return joined.strip()


def _label(name: str | None, source: str) -> str:
    return repr(name) if name is not None else _short(source)


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
