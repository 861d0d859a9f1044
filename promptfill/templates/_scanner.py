"""Split template source into Jinja text and code, and find holes and separators in the text.

Jinja has no hook for custom syntax in template text. So this scanner finds the boundaries
that Jinja's lexer finds: ``{{ }}``, ``{% %}``, ``{# #}`` and ``{% raw %}`` blocks, with the
``-`` and ``+`` whitespace-control variants, and string literals and nested brackets
inside code. It then looks for holes only in the text between them.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Literal, Union

from ..errors import HoleSyntaxError, TemplateSyntaxError
from ._holes import VALID_HOLE_FORMS

__all__ = [
    "CodePiece",
    "HolePiece",
    "Piece",
    "RESERVED_CHARACTERS",
    "ScanError",
    "SeparatorPiece",
    "TextPiece",
    "escape_literal_holes",
    "scan_template",
]

# Private-use characters that mark holes and the answer separator in rendered output.
# Template source and example values must not contain them, or markers could be forged.
HOLE_OPEN = "\ue000"
HOLE_CLOSE = "\ue001"
SEPARATOR_MARK = "\ue002"
PIPE_MARK = "\ue003"
RESERVED_CHARACTERS = (HOLE_OPEN, HOLE_CLOSE, SEPARATOR_MARK, PIPE_MARK)

# A hole starts where "[MASK" is followed by "]" or ":"; "[MASKED]" stays ordinary text.
HOLE_START = re.compile(r"\[MASK(?=[\]:])")

_CODE_OPEN = re.compile(r"\{\{|\{%|\{#")
_RAW_BEGIN = re.compile(r"\{%(-|\+|)\s*raw\s*(?:-%\}|%\})")
_RAW_END = re.compile(r"\{%(-|\+|)\s*endraw\s*(?:\+%\}|-%\}|%\})")
_COMMENT_END = re.compile(r"#\}")
# A Jinja string literal: quotes with backslash escapes inside, possibly spanning lines.
_STRING = re.compile(r"'[^'\\]*(?:\\.[^'\\]*)*'|\"[^\"\\]*(?:\\.[^\"\\]*)*\"", re.S)
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_ESCAPED_HOLE = re.compile(r"(\\*)\[MASK(?=[\]:])")


class ScanError(Exception):
    """Source whose Jinja structure is broken (an unclosed tag, string or raw block).

    The caller lets Jinja's own parser report the problem, since its message is the one
    Jinja users know, and uses this message only if Jinja accepts the source.
    """

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class TextPiece:
    """Template text: ``source`` as written and ``text`` with ``\\[MASK`` escapes resolved."""

    source: str
    text: str


@dataclass(frozen=True)
class HolePiece:
    """A hole as written (``[MASK:3-8]``), its order among holes and its length part."""

    source: str
    index: int
    spec: str | None
    line: int


@dataclass(frozen=True)
class SeparatorPiece:
    """An answer separator (``|||``) in template text."""

    source: str
    line: int


@dataclass(frozen=True)
class CodePiece:
    """A Jinja expression, tag, comment or whole raw block, passed to Jinja verbatim."""

    source: str
    kind: Literal["expression", "tag", "comment", "raw"]
    line: int
    string_spans: tuple[tuple[int, int], ...] = ()


Piece = Union[TextPiece, HolePiece, SeparatorPiece, CodePiece]


class _Lines:
    """Map a character offset of the source to its 1-based line number."""

    def __init__(self, source: str) -> None:
        self._newlines = [i for i, char in enumerate(source) if char == "\n"]

    def at(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1


def scan_template(source: str, separator: str | None) -> list[Piece]:
    """Split ``source`` into text, holes, separators and Jinja code, in source order.

    Raises:
        TemplateSyntaxError: The source contains a reserved private-use character.
        HoleSyntaxError: A hole has a malformed length or sits inside Jinja code.
        ScanError: The Jinja structure is broken; the caller asks Jinja for its message.
    """
    lines = _Lines(source)
    _check_reserved(source, lines)
    pieces: list[Piece] = []
    hole_count = 0
    for kind, start, end, strings in _split_source(source, lines):
        chunk = source[start:end]
        if kind == "text":
            text_pieces = _scan_text(chunk, start, separator, lines, hole_count)
            hole_count += sum(isinstance(piece, HolePiece) for piece in text_pieces)
            pieces.extend(text_pieces)
            continue
        if kind in ("expression", "tag"):
            misplaced = HOLE_START.search(chunk)
            if misplaced is not None:
                line = lines.at(start + misplaced.start())
                raise HoleSyntaxError(
                    f"hole {_hole_text_at(chunk, misplaced.start())!r} on line {line} is inside "
                    "the Jinja code "
                    f"{_shorten(chunk)!r}: holes must be in template text, not inside a Jinja "
                    "expression or tag. Move the hole out of the {{ }} or {% %}; for a literal "
                    "'[MASK]' inside a Jinja string, write '\\x5bMASK]'"
                )
        pieces.append(CodePiece(chunk, kind, lines.at(start), strings))
    return pieces


def escape_literal_holes(source: str) -> str:
    """Rewrite plain Jinja ``source`` so that every ``[MASK]`` in it stays literal text.

    Text gets a ``\\`` before each hole-like ``[MASK``. Inside string literals of Jinja code
    the ``[`` is written as the escape ``\\x5b``, which Jinja decodes back to ``[``.
    Comments and raw blocks are left as they are. Used to import templates written for
    plain Jinja, such as promptsource's, where ``[MASK]`` is data, not a hole.
    """
    lines = _Lines(source)
    parts: list[str] = []
    for kind, start, end, strings in _split_source(source, lines):
        chunk = source[start:end]
        if kind == "text":
            parts.append(HOLE_START.sub(r"\\[MASK", chunk))
        elif kind in ("expression", "tag"):
            parts.append(_escape_in_strings(chunk, strings))
        else:
            parts.append(chunk)
    return "".join(parts)


def _check_reserved(source: str, lines: _Lines) -> None:
    for char in RESERVED_CHARACTERS:
        offset = source.find(char)
        if offset >= 0:
            raise TemplateSyntaxError(
                f"template source contains the reserved character {char!r} on line "
                f"{lines.at(offset)}; promptfill uses U+E000 to U+E003 to mark holes and the "
                "answer separator. Remove it, or pass it in through a template variable"
            )


def _split_source(source: str, lines: _Lines):
    """Yield ``(kind, start, end, string_spans)`` for each text or code span of ``source``.

    ``kind`` is ``"text"``, ``"expression"``, ``"tag"``, ``"comment"`` or ``"raw"``;
    ``string_spans`` are the string literals of a code span, as offsets into that span.
    """
    position = 0
    length = len(source)
    while position < length:
        opener = _CODE_OPEN.search(source, position)
        text_end = length if opener is None else opener.start()
        if text_end > position:
            yield "text", position, text_end, ()
        if opener is None:
            return
        start = opener.start()
        raw = _RAW_BEGIN.match(source, start)
        if raw is not None:
            closing = _RAW_END.search(source, raw.end())
            if closing is None:
                raise ScanError("missing end of raw block '{% endraw %}'", lines.at(start))
            position = closing.end()
            yield "raw", start, position, ()
        elif opener.group() == "{#":
            closing = _COMMENT_END.search(source, start + 2)
            if closing is None:
                raise ScanError("missing end of comment tag '#}'", lines.at(start))
            position = closing.end()
            yield "comment", start, position, ()
        else:
            kind = "expression" if opener.group() == "{{" else "tag"
            position, strings = _find_code_end(source, start, kind, lines)
            yield kind, start, position, tuple((s - start, e - start) for s, e in strings)


def _find_code_end(source: str, start: int, kind: str, lines: _Lines) -> tuple[int, list[tuple[int, int]]]:
    """Return the end offset of the expression or tag opened at ``start``, and its strings.

    Like Jinja's lexer, a closing ``}}`` or ``%}`` counts only outside string literals
    and when every bracket opened inside the code has been closed.
    """
    endings = ("-}}", "}}") if kind == "expression" else ("-%}", "+%}", "%}")
    position = start + 2
    if source.startswith(("-", "+"), position):
        position += 1
    expected_closers: list[str] = []
    strings: list[tuple[int, int]] = []
    length = len(source)
    while position < length:
        char = source[position]
        if not expected_closers:
            for ending in endings:
                if source.startswith(ending, position):
                    return position + len(ending), strings
        if char in "'\"":
            literal = _STRING.match(source, position)
            if literal is None:
                raise ScanError("unterminated string literal", lines.at(position))
            strings.append((position, literal.end()))
            position = literal.end()
            continue
        if char in _CLOSERS:
            expected_closers.append(_CLOSERS[char])
        elif char in ")]}":
            if not expected_closers or expected_closers.pop() != char:
                raise ScanError(f"unexpected {char!r}", lines.at(position))
        position += 1
    closing = "}}" if kind == "expression" else "%}"
    raise ScanError(f"missing {closing!r} to close the Jinja {kind}", lines.at(start))


def _scan_text(chunk: str, offset: int, separator: str | None, lines: _Lines, first_index: int) -> list[Piece]:
    """Split one text span into text, hole and separator pieces."""
    patterns = [r"\\?\[MASK(?=[\]:])"]
    if separator is not None:
        patterns.append(re.escape(separator))
    marker = re.compile("|".join(patterns))

    pieces: list[Piece] = []
    source_parts: list[str] = []
    text_parts: list[str] = []

    def flush_text() -> None:
        if source_parts:
            pieces.append(TextPiece("".join(source_parts), "".join(text_parts)))
            source_parts.clear()
            text_parts.clear()

    position = 0
    while True:
        match = marker.search(chunk, position)
        if match is None:
            break
        found = match.group()
        source_parts.append(chunk[position : match.start()])
        text_parts.append(chunk[position : match.start()])
        if found.startswith("\\"):
            # "\[MASK" is an escaped hole: the text keeps "[MASK" without the backslash.
            source_parts.append(found)
            text_parts.append(found[1:])
            position = match.end()
            continue
        flush_text()
        line = lines.at(offset + match.start())
        if found == "[MASK":
            hole_end, spec = _read_hole(chunk, match.start(), line)
            index = first_index + sum(isinstance(piece, HolePiece) for piece in pieces)
            pieces.append(HolePiece(chunk[match.start() : hole_end], index, spec, line))
            position = hole_end
        else:
            pieces.append(SeparatorPiece(found, line))
            position = match.end()
    source_parts.append(chunk[position:])
    text_parts.append(chunk[position:])
    flush_text()
    return [piece for piece in pieces if not (isinstance(piece, TextPiece) and not piece.source)]


def _read_hole(chunk: str, start: int, line: int) -> tuple[int, str | None]:
    """Return the end offset and length part of the hole starting at ``chunk[start]``."""
    after = start + len("[MASK")
    if chunk[after] == "]":
        return after + 1, None
    closing = chunk.find("]", after)
    newline = chunk.find("\n", after)
    if closing < 0 or 0 <= newline < closing:
        raise HoleSyntaxError(
            f"invalid hole {_hole_text_at(chunk, start)!r} on line {line}: it has no closing "
            f"']' on its line (the length must be literal digits, not Jinja code); "
            f"{VALID_HOLE_FORMS}"
        )
    return closing + 1, chunk[after + 1 : closing]


def _hole_text_at(chunk: str, start: int) -> str:
    """Return the hole text starting at ``start``: up to its ``]`` or a short excerpt."""
    end = chunk.find("]", start)
    newline = chunk.find("\n", start)
    if end < 0 or 0 <= newline < end or end - start > 40:
        return chunk[start : start + 20].split("\n")[0]
    return chunk[start : end + 1]


def _shorten(code: str, limit: int = 60) -> str:
    return code if len(code) <= limit else code[: limit - 3] + "..."


def _escape_in_strings(code: str, strings: tuple[tuple[int, int], ...]) -> str:
    """Write each hole-like ``[MASK`` inside the string literals of ``code`` with ``\\x5b``."""
    parts: list[str] = []
    position = 0
    for start, end in strings:
        parts.append(code[position:start])
        parts.append(_ESCAPED_HOLE.sub(_escape_bracket, code[start:end]))
        position = end
    parts.append(code[position:])
    return "".join(parts)


def _escape_bracket(match: re.Match[str]) -> str:
    backslashes = match.group(1)
    if len(backslashes) % 2 == 0:
        return backslashes + "\\x5bMASK"
    # An odd run ends in "\[", an unknown escape that Jinja keeps as both characters,
    # so the kept backslash is written as "\x5c" too.
    return backslashes[:-1] + "\\x5c\\x5bMASK"
