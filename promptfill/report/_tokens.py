"""Split a hole's infill text into per-token pieces, so each can be shaded by its confidence."""

from __future__ import annotations

from dataclasses import dataclass

from .._results import HoleFill

# Word-boundary markers of common subword vocabularies: WordPiece continues a word with "##",
# byte-level BPE (GPT-2, RoBERTa) starts one with "Ġ", SentencePiece with "▁".
_CONTINUATION = "##"
_WORD_STARTS = ("Ġ", "▁")


@dataclass(frozen=True)
class TokenPiece:
    """A run of infill text: one model token (with its confidence), or plain text between tokens."""

    text: str
    token: str | None = None
    confidence: float | None = None
    logprob: float | None = None


def token_pieces(fill: HoleFill) -> tuple[list[TokenPiece], bool]:
    """Return the pieces of ``fill.text``, one per token, and whether they match the text exactly.

    Each token's surface form (its string without subword markers) is found in order in the
    decoded text, so what the report shows is exactly what was inserted into the template. When
    a token cannot be found (byte-level tokens of non-ASCII text, normalised characters), the
    tokens are shown joined by their markers instead, and the second value is ``False``.
    """
    pieces = _aligned(fill)
    if pieces is not None:
        return pieces, True
    return _joined(fill), False


def _surface(token: str) -> tuple[str, bool]:
    """Return a token's text without its subword marker, and whether it continues a word."""
    if token.startswith(_CONTINUATION) and len(token) > len(_CONTINUATION):
        return token[len(_CONTINUATION):], True
    for marker in _WORD_STARTS:
        if token.startswith(marker):
            return token[len(marker):], False
    return token, False


def _aligned(fill: HoleFill) -> list[TokenPiece] | None:
    text = fill.text
    folded = text.lower()
    position = 0
    pieces: list[TokenPiece] = []
    for token, confidence, logprob in zip(fill.tokens, fill.confidences, fill.logprobs):
        surface, _ = _surface(token)
        if not surface:
            # A bare word-start marker stands for a space, which decoding may have dropped.
            pieces.append(TokenPiece("", token, confidence, logprob))
            continue
        # A decoder may keep a marker where nothing precedes it ("##ing" at the start of a
        # fill), so the token as written is tried before its surface form.
        span = _find(folded, position, (token.lower(), surface.lower()))
        if span is None:
            return None
        start, end = span
        if start > position:
            pieces.append(TokenPiece(text[position:start]))
        pieces.append(TokenPiece(text[start:end], token, confidence, logprob))
        position = end
    if text[position:].strip():
        return None
    if position < len(text):
        pieces.append(TokenPiece(text[position:]))
    return pieces


def _find(text: str, position: int, options: tuple[str, ...]) -> tuple[int, int] | None:
    """Return the span of the first option found at ``position`` after only whitespace."""
    for option in options:
        start = text.find(option, position)
        if start >= 0 and not text[position:start].strip():
            return start, start + len(option)
    return None


def _joined(fill: HoleFill) -> list[TokenPiece]:
    pieces: list[TokenPiece] = []
    for index, (token, confidence, logprob) in enumerate(zip(fill.tokens, fill.confidences, fill.logprobs)):
        surface, continues = _surface(token)
        if index > 0 and not continues:
            pieces.append(TokenPiece(" "))
        pieces.append(TokenPiece(surface, token, confidence, logprob))
    return pieces
