"""Write a template's source back with its holes replaced by literal fill text."""

from __future__ import annotations

from ..errors import TemplateError
from ._scanner import RESERVED_CHARACTERS, CodePiece, HolePiece, Piece, SeparatorPiece, TextPiece

__all__ = ["write_fill_source"]

# Sequences that change meaning in template text: Jinja openers, hole starts and their
# escapes, and a CRLF pair, which Jinja normalizes to one newline.
_SPECIAL = ("{{", "{%", "{#", "[MASK]", "[MASK:", "\\[MASK]", "\\[MASK:", "\r\n")

# Characters of neighbouring text checked for a special sequence formed across a fill's
# edges. The longest sequence, "\[MASK:", has 7 characters.
_CONTEXT = 8

_TRIM_BEFORE = ("{{-", "{%-", "{#-")
_TRIM_AFTER = ("-}}", "-%}", "-#}")


def write_fill_source(pieces: list[Piece], fills: list[str], separator: str | None) -> str:
    """Return the source of ``pieces`` with hole ``i`` written as the literal text ``fills[i]``.

    A fill is written as plain text when that cannot change how the source parses, and as
    a Jinja string expression (``{{ "..." }}``) otherwise.
    """
    for position, fill in enumerate(fills):
        for char in RESERVED_CHARACTERS:
            if char in fill:
                raise TemplateError(
                    f"fill {position} contains the reserved character {char!r}, which cannot be "
                    "written into template source; remove it from the fill"
                )

    special = _SPECIAL + ((separator,) if separator is not None else ())
    parts: list[str] = []
    # Text-state output just before the current position; empty right after Jinja code.
    tail = ""
    for position, piece in enumerate(pieces):
        if isinstance(piece, HolePiece):
            fill = fills[piece.index]
            head = _text_after(pieces, position)
            if _is_plain(fill, tail, head, special) and not _exposed_to_trim(pieces, position, fills):
                parts.append(fill)
                tail = (tail + fill)[-_CONTEXT:]
                continue
            if tail.endswith("{"):
                # "{" before "{{" would open the expression one character early.
                parts[-1] = parts[-1][:-1] + '{{ "{" }}'
            parts.append(_string_expression(fill))
            tail = ""
        elif isinstance(piece, CodePiece):
            parts.append(piece.source)
            tail = ""
        else:
            parts.append(piece.source)
            tail = (tail + piece.source)[-_CONTEXT:]
    return "".join(parts)


def _is_plain(fill: str, tail: str, head: str, special: tuple[str, ...]) -> bool:
    """Check that ``fill`` between ``tail`` and ``head`` forms no special sequence."""
    if "\r" in fill or fill.endswith("{"):
        return False
    combined = tail + fill + head
    fill_start = len(tail)
    fill_end = fill_start + len(fill)
    for sequence in special:
        start = combined.find(sequence)
        while start >= 0:
            end = start + len(sequence)
            touches_fill = start < fill_end and end > fill_start if fill else start < fill_start < end
            if touches_fill:
                return False
            start = combined.find(sequence, start + 1)
    return True


def _text_after(pieces: list[Piece], position: int) -> str:
    """Return the first characters of template text that follow the hole at ``position``."""
    text = ""
    for piece in pieces[position + 1 :]:
        if not isinstance(piece, (TextPiece, SeparatorPiece)) or len(text) >= _CONTEXT:
            break
        text += piece.source
    return text[:_CONTEXT]


def _exposed_to_trim(pieces: list[Piece], position: int, fills: list[str]) -> bool:
    """Check whether a ``-}}`` or ``{%-`` trim marker would strip whitespace at the fill's edges.

    Jinja strips all whitespace between a trim marker and the next non-blank character,
    so a fill that starts (or ends) with whitespace, or an empty one, is exposed when only
    blank text separates it from a marker.
    """
    fill = fills[pieces[position].index]  # type: ignore[union-attr]
    if (fill == "" or fill[0].isspace()) and _blank_until_trim(pieces, position, -1, fills):
        return True
    return (fill == "" or fill[-1].isspace()) and _blank_until_trim(pieces, position, 1, fills)


def _blank_until_trim(pieces: list[Piece], position: int, step: int, fills: list[str]) -> bool:
    index = position + step
    while 0 <= index < len(pieces):
        piece = pieces[index]
        if isinstance(piece, TextPiece):
            if piece.text.strip():
                return False
        elif isinstance(piece, HolePiece):
            if fills[piece.index].strip():
                return False
        elif isinstance(piece, SeparatorPiece):
            return False
        elif step < 0:
            return piece.source.endswith(_TRIM_AFTER)
        else:
            return piece.source.startswith(_TRIM_BEFORE)
        index += step
    return False


def _string_expression(text: str) -> str:
    """Return a Jinja expression that renders ``text`` exactly.

    Jinja decodes string literals with Python's ``unicode-escape`` codec, so ``\\x5b``
    stands for ``[`` (keeping ``[MASK`` out of the code) and ``\\r`` survives Jinja's
    newline normalization.
    """
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("[", "\\x5b").replace("\r", "\\r")
    )
    return '{{ "' + escaped + '" }}'
