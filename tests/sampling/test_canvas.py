"""build_canvas: tokenization, hole slots, layouts and length limits."""

from __future__ import annotations

import logging

import pytest
import torch
from sampling_fakes import MASK, PAD, SEP, Copy, FakeBackend

from promptfill.errors import ConfigError, ContextLengthError, TemplateError
from promptfill.sampling import build_canvas

WORDS = ["cls", "end", "review", "good", "bad", "fine", "label", "pos", "neg", "the", "is"]


def ids(backend: FakeBackend, text: str) -> list[int]:
    return backend.encode(text)


def sentiment_copies() -> list[Copy]:
    return [
        Copy(prompt=("review good", 0, "label"), answer=("pos",)),
        Copy(prompt=("review bad", 0, "label"), answer=("neg",)),
    ]


def test_batch_layout_one_context_per_copy() -> None:
    backend = FakeBackend(WORDS)
    canvas = build_canvas(sentiment_copies(), [2], backend, layout="batch")

    expected_rows = [
        ids(backend, "review good") + [MASK, MASK] + ids(backend, "label") + [SEP] + ids(backend, "pos"),
        ids(backend, "review bad") + [MASK, MASK] + ids(backend, "label") + [SEP] + ids(backend, "neg"),
    ]
    assert canvas.input_ids.tolist() == expected_rows
    assert canvas.attention_mask.tolist() == [[1] * 7, [1] * 7]
    assert canvas.occurrence_rows.tolist() == [0, 0, 1, 1]
    assert canvas.occurrence_positions.tolist() == [2, 3, 2, 3]
    assert canvas.occurrence_slots.tolist() == [0, 1, 0, 1]
    assert canvas.num_slots == 2
    assert canvas.copies_per_context == ((0,), (1,))
    assert canvas.layout == "batch"


def test_answer_left_out_when_not_included() -> None:
    backend = FakeBackend(WORDS)
    canvas = build_canvas(sentiment_copies(), [1], backend, layout="batch", include_answer=False)

    assert canvas.input_ids[0].tolist() == ids(backend, "review good") + [MASK] + ids(backend, "label")


def test_concat_layout_joins_copies_and_wraps_once() -> None:
    backend = FakeBackend(WORDS, wrap_ids=([4], [5]))  # "cls" ... "end"
    canvas = build_canvas(sentiment_copies(), [1], backend, layout="concat")

    first = ids(backend, "review good") + [MASK] + ids(backend, "label") + [SEP] + ids(backend, "pos")
    second = ids(backend, "review bad") + [MASK] + ids(backend, "label") + [SEP] + ids(backend, "neg")
    assert canvas.input_ids.tolist() == [[4, *first, SEP, *second, 5]]
    # The prefix token shifts positions by one; the second copy starts after first + [SEP].
    second_mask_position = 1 + len(first) + 1 + 2
    assert canvas.occurrence_positions.tolist() == [3, second_mask_position]
    assert canvas.occurrence_rows.tolist() == [0, 0]
    assert canvas.occurrence_slots.tolist() == [0, 0]
    assert canvas.copies_per_context == ((0, 1),)


def test_packed_layout_fills_contexts_greedily() -> None:
    copies = [Copy(prompt=("the", 0, word)) for word in ("good", "bad", "fine")]
    # Each copy is 3 tokens; two copies and a separator take 7, so max_length=7 fits two.
    backend = FakeBackend(WORDS, max_length=7)
    canvas = build_canvas(copies, [1], backend, layout="packed")

    assert canvas.copies_per_context == ((0, 1), (2,))
    assert canvas.input_ids[1].tolist() == ids(backend, "the") + [MASK] + ids(backend, "fine") + [PAD] * 4
    assert canvas.attention_mask.tolist() == [[1] * 7, [1, 1, 1, 0, 0, 0, 0]]
    assert canvas.occurrence_rows.tolist() == [0, 0, 1]
    assert canvas.occurrence_positions.tolist() == [1, 5, 1]


def test_slots_numbered_hole_by_hole() -> None:
    backend = FakeBackend(WORDS)
    copies = [Copy(prompt=("the", 1, "is", 0))]
    canvas = build_canvas(copies, [2, 1], backend, layout="batch")

    # Hole 1 comes first in the text, but its slot is numbered after both tokens of hole 0.
    assert canvas.occurrence_slots.tolist() == [2, 0, 1]
    assert canvas.occurrence_positions.tolist() == [1, 3, 4]
    assert list(canvas.hole_slots(0)) == [0, 1]
    assert list(canvas.hole_slots(1)) == [2]


def test_concat_overflow_falls_back_to_packed(caplog: pytest.LogCaptureFixture) -> None:
    copies = [Copy(prompt=("the", 0, word)) for word in ("good", "bad", "fine")]
    backend = FakeBackend(WORDS, max_length=7)

    with caplog.at_level(logging.WARNING, logger="promptfill.sampling._canvas"):
        canvas = build_canvas(copies, [1], backend, layout="concat")

    assert canvas.layout == "packed"
    assert canvas.copies_per_context == ((0, 1), (2,))
    assert caplog.messages == [
        "layout='concat' needs 11 tokens for 3 copies, but fake-backend accepts at most 7 per "
        "context; using layout='packed' with 2 contexts instead. Use fewer or shorter examples to "
        "keep one context, or set layout='packed' or 'batch' to silence this warning"
    ]


def test_concat_that_fits_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        canvas = build_canvas(sentiment_copies(), [1], FakeBackend(WORDS), layout="concat")

    assert canvas.layout == "concat"
    assert caplog.messages == []


def test_copy_longer_than_context_raises() -> None:
    copies = [Copy(prompt=("the", 0)), Copy(prompt=("the good bad fine", 0, "label"))]
    backend = FakeBackend(WORDS, max_length=5, wrap_ids=([4], [5]))

    with pytest.raises(ContextLengthError) as error:
        build_canvas(copies, [1], backend, layout="batch")

    assert str(error.value) == (
        "rendered copy 1 is 8 tokens long (with special tokens), but fake-backend accepts at most 5; "
        "shorten this example or the template, or use a model with a longer context"
    )


def test_holes_longer_than_context_raise() -> None:
    backend = FakeBackend(WORDS, max_length=8, wrap_ids=([4], [5]))

    with pytest.raises(ContextLengthError) as error:
        build_canvas([Copy(prompt=(0, 1))], [4, 3], backend)

    assert str(error.value) == (
        "the holes need 7 mask tokens (lengths [4, 3]), but fake-backend accepts at most 8 tokens "
        "per context, including 2 special tokens; give the holes shorter lengths ([MASK:n]) or "
        "use a model with a longer context"
    )


def test_hole_in_no_copy_raises() -> None:
    copies = [Copy(prompt=("the", 0)), Copy(prompt=("is", 0))]

    with pytest.raises(TemplateError, match=r"^hole 1 appears in none of the 2 rendered copies"):
        build_canvas(copies, [1, 2], FakeBackend(WORDS))


def test_hole_index_outside_lengths_raises() -> None:
    with pytest.raises(ConfigError) as error:
        build_canvas([Copy(prompt=("the", 3))], [1], FakeBackend(WORDS))

    assert str(error.value) == (
        "rendered copy 0 contains hole 3, but hole_lengths has 1 entries; pass one length per "
        "hole of the template"
    )


def test_empty_copies_raise() -> None:
    with pytest.raises(ConfigError, match=r"^copies is empty"):
        build_canvas([], [1], FakeBackend(WORDS))


def test_unknown_layout_raises() -> None:
    with pytest.raises(ConfigError) as error:
        build_canvas(sentiment_copies(), [1], FakeBackend(WORDS), layout="stacked")  # type: ignore[arg-type]

    assert str(error.value) == "layout='stacked' is invalid; choose one of 'concat', 'batch', 'packed'"


def test_zero_length_hole_has_no_slots() -> None:
    canvas = build_canvas([Copy(prompt=("the", 0, "is", 1))], [0, 1], FakeBackend(WORDS))

    assert canvas.num_slots == 1
    assert canvas.occurrence_slots.tolist() == [0]
    assert canvas.input_ids.dtype == torch.long


def test_canvas_from_rendered_template() -> None:
    from promptfill.templates import PromptTemplate

    backend = FakeBackend(WORDS)
    template = PromptTemplate("[MASK:2] review {{ text }} label ||| {{ label }}")
    copies = [template.render_copy({"text": "good", "label": "pos"}), template.render_copy({"text": "bad", "label": "neg"})]

    canvas = build_canvas(copies, [2], backend, layout="concat")

    first = [MASK, MASK] + ids(backend, "review good label") + [SEP] + ids(backend, "pos")
    second = [MASK, MASK] + ids(backend, "review bad label") + [SEP] + ids(backend, "neg")
    assert canvas.input_ids.tolist() == [[*first, SEP, *second]]
    assert canvas.occurrence_slots.tolist() == [0, 1, 0, 1]
