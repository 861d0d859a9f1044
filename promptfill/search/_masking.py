"""Re-mask part of a filled prompt: build a new template source with ``[MASK:n-m]`` holes.

Only words of template text in the prompt part (before the answer separator) are masked.
Jinja code (``{{ }}``, ``{% %}``, comments, raw blocks) and the answer part are copied
unchanged, so template variables always survive. Field labels, a word ending in ``:`` with
only whitespace between it and the next variable or the separator (``Input:``, ``Answer:``),
are kept too, because the target model reads the input format from them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._results import FilledTemplate
from ..templates._fill_source import write_fill_source
from ..templates._holes import MAX_HOLE_LENGTH
from ..templates._scanner import HolePiece, Piece, SeparatorPiece, TextPiece, scan_template

_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?]$")


@dataclass(frozen=True)
class Word:
    """A maskable word of template text: its offsets in the source and its text piece."""

    start: int
    end: int
    piece: int


def separator_of(candidate: FilledTemplate) -> str | None:
    """Return the answer separator of the candidate's template (promptsource's ``|||`` by default)."""
    return candidate.template_settings.get("answer_separator", "|||")


def prompt_words(source: str, separator: str | None) -> list[Word]:
    """Return the maskable words of ``source``: prompt-part template text, field labels left out."""
    pieces = scan_template(source, separator)
    words: list[Word] = []
    offset = 0
    for index, piece in enumerate(pieces):
        if isinstance(piece, SeparatorPiece):
            break
        if isinstance(piece, TextPiece):
            found = [(m.start(), m.end()) for m in _WORD.finditer(piece.source)]
            followed_by_code = index + 1 < len(pieces) and not isinstance(pieces[index + 1], TextPiece)
            for position, (start, end) in enumerate(found):
                is_last = position == len(found) - 1
                if is_last and followed_by_code and piece.source[start:end].endswith(":"):
                    continue
                words.append(Word(offset + start, offset + end, index))
        offset += len(piece.source)
    return words


def hole_text(num_tokens: int, slack: int) -> str:
    """Return a hole that may take ``num_tokens`` tokens, ``slack`` fewer or ``slack`` more."""
    low = max(1, num_tokens - slack)
    high = min(MAX_HOLE_LENGTH, max(low, num_tokens + slack))
    return f"[MASK:{low}]" if low == high else f"[MASK:{low}-{high}]"


def replace_word_runs(source: str, words: Sequence[Word], runs: Sequence[tuple[int, int]], tokenizer: Any, slack: int) -> str:
    """Replace each run ``(first, last)`` of ``words`` (indices, inclusive) with one hole.

    A run never spans two text pieces; each hole's length range is centred on the tokens the
    masked text had.
    """
    parts: list[str] = []
    position = 0
    for first, last in sorted(runs):
        start, end = words[first].start, words[last].end
        masked = source[start:end].replace("\\[MASK", "[MASK")
        parts.append(source[position:start])
        parts.append(hole_text(max(1, len(tokenizer.tokenize(masked))), slack))
        position = end
    parts.append(source[position:])
    return "".join(parts)


def random_span(words: Sequence[Word], rng: random.Random, span_words: tuple[int, int]) -> tuple[int, int]:
    """Pick a run of ``span_words[0]`` to ``span_words[1]`` consecutive words inside one text piece."""
    anchor = rng.randrange(len(words))
    piece = [i for i, word in enumerate(words) if word.piece == words[anchor].piece]
    size = min(len(piece), rng.randint(*span_words))
    first = rng.randint(piece[0], piece[-1] - size + 1)
    return first, first + size - 1


def random_sentence(words: Sequence[Word], source: str, rng: random.Random) -> tuple[int, int]:
    """Pick one sentence: words up to a ``.``, ``!`` or ``?``, a line break or a text piece's end."""
    sentences: list[tuple[int, int]] = []
    first = 0
    for index, word in enumerate(words):
        ends = (
            index == len(words) - 1
            or words[index + 1].piece != word.piece
            or "\n" in source[word.end : words[index + 1].start]
            or _SENTENCE_END.search(source[word.start : word.end]) is not None
        )
        if ends:
            sentences.append((first, index))
            first = index + 1
    return rng.choice(sentences)


def mask_least_confident(candidate: FilledTemplate, tokenizer: Any, span_tokens: int, slack: int) -> str | None:
    """Re-mask the ``span_tokens`` consecutive infilled tokens the model was least sure of.

    The window is chosen over the prompt-part holes by mean ``HoleFill.confidences`` and widened
    to whole words (WordPiece ``##`` continuation tokens). The rest of that hole's fill and every
    other fill are written back as literal text.

    Returns:
        The new template source, or ``None`` when the candidate has no infilled prompt tokens.
    """
    separator = separator_of(candidate)
    pieces = scan_template(candidate.template_source, separator)
    prompt_holes = _prompt_hole_indices(pieces)
    best: tuple[float, int, int, int] | None = None
    for fill in candidate.fills:
        if fill.hole not in prompt_holes or not fill.confidences:
            continue
        width = min(span_tokens, len(fill.confidences))
        for start in range(len(fill.confidences) - width + 1):
            mean = sum(fill.confidences[start : start + width]) / width
            if best is None or mean < best[0]:
                best = (mean, fill.hole, start, start + width)
    if best is None:
        return None

    _, hole, start, end = best
    tokens = candidate.fills[hole].tokens
    # NOTE: only WordPiece's "##" marks a word continuation here; with BPE tokenizers the
    # window may start or end inside a word.
    while start > 0 and tokens[start].startswith("##"):
        start -= 1
    while end < len(tokens) and tokens[end].startswith("##"):
        end += 1
    prefix = tokenizer.convert_tokens_to_string(tokens[:start]) if start > 0 else ""
    suffix = tokenizer.convert_tokens_to_string(tokens[end:]) if end < len(tokens) else ""
    mask = hole_text(end - start, slack)
    return _write_with_mask(pieces, candidate.texts, hole, prefix, mask, suffix, separator)


def _prompt_hole_indices(pieces: list[Piece]) -> set[int]:
    holes: set[int] = set()
    for piece in pieces:
        if isinstance(piece, SeparatorPiece):
            break
        if isinstance(piece, HolePiece):
            holes.add(piece.index)
    return holes


def _write_with_mask(
    pieces: list[Piece], fills: list[str], hole: int, prefix: str, mask: str, suffix: str, separator: str | None
) -> str:
    """Write ``pieces`` with every fill as text, and hole ``hole`` as ``prefix [MASK] suffix``."""
    new_pieces: list[Piece] = []
    new_fills: list[str] = []

    def add_fill(text: str, like: HolePiece) -> None:
        new_pieces.append(HolePiece(like.source, len(new_fills), like.spec, like.line))
        new_fills.append(text)

    for piece in pieces:
        if not isinstance(piece, HolePiece):
            new_pieces.append(piece)
            continue
        if piece.index != hole:
            add_fill(fills[piece.index], piece)
            continue
        if prefix:
            add_fill(prefix, piece)
        # Spaces keep the new hole apart from the kept words; rendering strips the outer ends.
        text = (" " if prefix else "") + mask + (" " if suffix else "")
        new_pieces.append(TextPiece(text, text))
        if suffix:
            add_fill(suffix, piece)
    return write_fill_source(new_pieces, new_fills, separator)



def keep_some_words(words: Sequence[Word], rng: random.Random, keep_fraction: float, max_holes: int) -> list[tuple[int, int]]:
    """Choose the runs of words to mask so that about ``keep_fraction`` of the words stay.

    Kept words are drawn at random. While the masked runs number more than ``max_holes``, a kept
    word between two runs is masked too, which merges them. At least one word is always masked.

    Returns:
        The masked runs as ``(first, last)`` word indices, inclusive.
    """
    keep = {i for i in range(len(words)) if rng.random() < keep_fraction}
    if len(keep) == len(words):
        keep.discard(rng.randrange(len(words)))
    while True:
        runs = _masked_runs(words, keep)
        if len(runs) <= max_holes:
            return runs
        bridges = [i for i in sorted(keep) if _joins_runs(words, keep, i)]
        if not bridges:
            return runs[:max_holes]
        keep.discard(rng.choice(bridges))


def _masked_runs(words: Sequence[Word], keep: set[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for index in range(len(words)):
        if index in keep:
            continue
        if runs and runs[-1][1] == index - 1 and words[index - 1].piece == words[index].piece:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def _joins_runs(words: Sequence[Word], keep: set[int], index: int) -> bool:
    """Check whether masking kept word ``index`` would merge the masked runs on both sides."""
    before, after = index - 1, index + 1
    return (
        before >= 0 and after < len(words)
        and before not in keep and after not in keep
        and words[before].piece == words[index].piece == words[after].piece
    )
