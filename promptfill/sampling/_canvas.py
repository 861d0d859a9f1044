"""Build the token canvas: rendered copies with mask tokens in the holes, grouped into contexts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from ..errors import ConfigError, ContextLengthError, ModelError, TemplateError
from ._config import Layout

logger = logging.getLogger(__name__)

__all__ = ["Canvas", "RenderedCopyLike", "build_canvas"]

_LAYOUTS = ("concat", "batch", "packed")
_NO_SLOT = -1


class RenderedCopyLike(Protocol):
    """A rendered template: text segments (str) and hole indices (int), prompt then answer."""

    @property
    def prompt(self) -> Sequence[str | int]: ...

    @property
    def answer(self) -> Sequence[str | int] | None: ...


@dataclass(frozen=True)
class Canvas:
    """Token contexts with holes filled by mask tokens, and where each hole token occurs.

    Hole tokens are numbered as slots ``0..S-1`` hole by hole: hole 0's tokens first, then
    hole 1's, and so on. A slot occurs once in every copy that renders its hole, so ``K``, the
    number of occurrences, is at least ``S``.

    Attributes:
        input_ids: ``[G, L]`` long, one row per context, right-padded with the pad id.
        attention_mask: ``[G, L]`` long, 1 for real tokens and 0 for padding.
        occurrence_rows: ``[K]`` long, the context row of each occurrence.
        occurrence_positions: ``[K]`` long, its position in that row.
        occurrence_slots: ``[K]`` long, its slot.
        hole_lengths: Tokens per hole.
        num_slots: ``S``, the total number of hole tokens.
        copies_per_context: The indices of the copies in each context, in order.
        layout: The layout actually used; ``concat`` falls back to ``packed`` when it overflows.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    occurrence_rows: torch.Tensor
    occurrence_positions: torch.Tensor
    occurrence_slots: torch.Tensor
    hole_lengths: tuple[int, ...]
    num_slots: int
    copies_per_context: tuple[tuple[int, ...], ...]
    layout: Layout

    @property
    def num_contexts(self) -> int:
        """``G``, the number of context rows."""
        return int(self.input_ids.shape[0])

    def hole_slots(self, hole: int) -> range:
        """Return the slots of hole ``hole``."""
        start = sum(self.hole_lengths[:hole])
        return range(start, start + self.hole_lengths[hole])


@dataclass
class _CopyTokens:
    ids: list[int]
    slots: list[int]  # the slot of each token, or _NO_SLOT for text


def build_canvas(
    copies: Sequence[RenderedCopyLike],
    hole_lengths: Sequence[int],
    backend: Any,
    layout: Layout = "packed",
    include_answer: bool = True,
) -> Canvas:
    """Tokenize rendered copies, insert mask tokens for the holes, and group copies into contexts.

    Each copy becomes its prompt tokens, then (when it has an answer and ``include_answer`` is
    set) ``backend.separator_ids`` and its answer tokens. Hole ``h`` becomes
    ``hole_lengths[h]`` mask tokens. ``concat`` joins all copies with the separator in one
    context, ``batch`` gives each copy its own context, and ``packed`` fills each context
    greedily with as many copies as fit ``backend.max_length``.

    Args:
        copies: Rendered copies, each with ``.prompt`` and ``.answer`` segment tuples.
        hole_lengths: Mask tokens per hole, indexed by hole.
        backend: A :class:`~promptfill.backends.MaskedLMBackend` or an object with the same
            ``encode``, ``wrap``, ``separator_ids``, ``mask_token_id``, ``pad_token_id``,
            ``max_length`` and ``name``.
        layout: ``"concat"``, ``"batch"`` or ``"packed"``.
        include_answer: Whether each copy's reference answer is part of the context.

    Raises:
        ConfigError: For no copies, an unknown layout, a negative hole length, or a copy that
            names a hole index outside ``hole_lengths``.
        TemplateError: If a hole appears in none of the copies, so nothing constrains it.
        ContextLengthError: If the holes alone, or one copy, exceed ``backend.max_length``.
    """
    # 1. Check the arguments and that every hole fits the model at all.
    if not copies:
        raise ConfigError("copies is empty; pass at least one rendered copy of the template")
    if layout not in _LAYOUTS:
        raise ConfigError(f"layout={layout!r} is invalid; choose one of {', '.join(map(repr, _LAYOUTS))}")
    hole_lengths = tuple(int(length) for length in hole_lengths)
    if any(length < 0 for length in hole_lengths):
        raise ConfigError(f"hole_lengths={hole_lengths!r} contains a negative length; use lengths >= 0")
    overhead = len(backend.wrap([]))
    num_slots = sum(hole_lengths)
    if num_slots + overhead > backend.max_length:
        raise ContextLengthError(
            f"the holes need {num_slots} mask tokens (lengths {list(hole_lengths)}), but "
            f"{backend.name} accepts at most {backend.max_length} tokens per context, including "
            f"{overhead} special tokens; give the holes shorter lengths ([MASK:n]) or use a model "
            "with a longer context"
        )

    # 2. Tokenize each copy and check that it fits alone.
    tokenized = [
        _tokenize_copy(index, copy, hole_lengths, backend, include_answer)
        for index, copy in enumerate(copies)
    ]
    for index, copy_tokens in enumerate(tokenized):
        if len(copy_tokens.ids) + overhead > backend.max_length:
            raise ContextLengthError(
                f"rendered copy {index} is {len(copy_tokens.ids) + overhead} tokens long (with "
                f"special tokens), but {backend.name} accepts at most {backend.max_length}; shorten "
                "this example or the template, or use a model with a longer context"
            )
    _check_every_hole_occurs(tokenized, hole_lengths)

    # 3. Group copies into contexts.
    separator = list(backend.separator_ids)
    groups = _group_copies(tokenized, layout, len(separator), backend.max_length - overhead)
    if layout == "concat" and len(groups) > 1:
        needed = sum(len(t.ids) for t in tokenized) + len(separator) * (len(tokenized) - 1) + overhead
        logger.warning(
            "layout='concat' needs %d tokens for %d copies, but %s accepts at most %d per context; "
            "using layout='packed' with %d contexts instead. Use fewer or shorter examples to keep "
            "one context, or set layout='packed' or 'batch' to silence this warning",
            needed, len(tokenized), backend.name, backend.max_length, len(groups),
        )
        layout = "packed"

    # 4. Build the rows and the occurrence map.
    rows = [_build_context([tokenized[i] for i in group], separator, backend) for group in groups]
    return _assemble(rows, groups, hole_lengths, num_slots, layout, backend.pad_token_id)


def _tokenize_copy(
    index: int, copy: RenderedCopyLike, hole_lengths: tuple[int, ...], backend: Any, include_answer: bool
) -> _CopyTokens:
    slot_offsets = [sum(hole_lengths[:hole]) for hole in range(len(hole_lengths))]
    tokens = _CopyTokens(ids=[], slots=[])

    def add_segments(segments: Sequence[str | int]) -> None:
        for segment in segments:
            if isinstance(segment, str):
                ids = backend.encode(segment) if segment else []
                tokens.ids.extend(ids)
                tokens.slots.extend([_NO_SLOT] * len(ids))
                continue
            hole = int(segment)
            if not 0 <= hole < len(hole_lengths):
                raise ConfigError(
                    f"rendered copy {index} contains hole {hole}, but hole_lengths has "
                    f"{len(hole_lengths)} entries; pass one length per hole of the template"
                )
            tokens.ids.extend([backend.mask_token_id] * hole_lengths[hole])
            tokens.slots.extend(range(slot_offsets[hole], slot_offsets[hole] + hole_lengths[hole]))

    add_segments(copy.prompt)
    if include_answer and copy.answer is not None:
        separator = list(backend.separator_ids)
        tokens.ids.extend(separator)
        tokens.slots.extend([_NO_SLOT] * len(separator))
        add_segments(copy.answer)
    return tokens


def _check_every_hole_occurs(tokenized: list[_CopyTokens], hole_lengths: tuple[int, ...]) -> None:
    seen_slots = {slot for copy_tokens in tokenized for slot in copy_tokens.slots}
    offset = 0
    for hole, length in enumerate(hole_lengths):
        if length > 0 and offset not in seen_slots:
            raise TemplateError(
                f"hole {hole} appears in none of the {len(tokenized)} rendered copies (a Jinja "
                "condition or loop may skip it, or it sits in the answer while answers are left "
                "out), so no example constrains it; move the hole out of the condition or give "
                "examples that render it"
            )
        offset += length


def _group_copies(
    tokenized: list[_CopyTokens], layout: str, separator_length: int, capacity: int
) -> list[list[int]]:
    """Return the copy indices of each context; ``capacity`` excludes the special tokens."""
    if layout == "batch":
        return [[index] for index in range(len(tokenized))]
    groups: list[list[int]] = []
    used = 0
    for index, copy_tokens in enumerate(tokenized):
        needed = separator_length + len(copy_tokens.ids)
        if groups and used + needed <= capacity:
            groups[-1].append(index)
            used += needed
        else:
            groups.append([index])
            used = len(copy_tokens.ids)
    return groups


def _build_context(
    members: list[_CopyTokens], separator: list[int], backend: Any
) -> tuple[list[int], list[int]]:
    """Join copies with the separator and wrap them; return the ids and the slot of each position."""
    ids: list[int] = []
    slots: list[int] = []
    for member_index, member in enumerate(members):
        if member_index > 0:
            ids.extend(separator)
            slots.extend([_NO_SLOT] * len(separator))
        ids.extend(member.ids)
        slots.extend(member.slots)
    wrapped = list(backend.wrap(ids))
    start = _find_subsequence(wrapped, ids)
    if start is None:
        raise ModelError(
            f"{backend.name}.wrap() changed the tokens of a context instead of adding special "
            "tokens around it; a backend's wrap(ids) must return prefix + ids + suffix"
        )
    slots = [_NO_SLOT] * start + slots + [_NO_SLOT] * (len(wrapped) - start - len(ids))
    return wrapped, slots


def _find_subsequence(sequence: list[int], part: list[int]) -> int | None:
    for start in range(len(sequence) - len(part) + 1):
        if sequence[start : start + len(part)] == part:
            return start
    return None


def _assemble(
    rows: list[tuple[list[int], list[int]]],
    groups: list[list[int]],
    hole_lengths: tuple[int, ...],
    num_slots: int,
    layout: Layout,
    pad_token_id: int,
) -> Canvas:
    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
    occurrences: list[tuple[int, int, int]] = []
    for row, (ids, slots) in enumerate(rows):
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention_mask[row, : len(ids)] = 1
        occurrences.extend((row, position, slot) for position, slot in enumerate(slots) if slot != _NO_SLOT)
    occurrence_table = torch.tensor(occurrences, dtype=torch.long).reshape(-1, 3)  # [K, 3]
    return Canvas(
        input_ids=input_ids,
        attention_mask=attention_mask,
        occurrence_rows=occurrence_table[:, 0],
        occurrence_positions=occurrence_table[:, 1],
        occurrence_slots=occurrence_table[:, 2],
        hole_lengths=hole_lengths,
        num_slots=num_slots,
        copies_per_context=tuple(tuple(group) for group in groups),
        layout=layout,
    )
