"""Check and copy an example's values before a template renders them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import TemplateVariableError
from ._scanner import PIPE_MARK, RESERVED_CHARACTERS

__all__ = ["PIPE", "prepare_example", "restore_pipes"]

# The separator between answer choices in an ``answer_choices`` string, as in promptsource.
PIPE = "|||"

# Deeper nesting than this is almost surely a reference cycle, which would recurse forever.
_MAX_DEPTH = 64


def prepare_example(example: object, *, protect_pipes: bool = False) -> dict[str, Any]:
    """Return a checked copy of ``example`` whose lists, tuples, sets and dicts are new objects.

    Args:
        example: A mapping from template variable names to values.
        protect_pipes: Replace ``|||`` inside string values with a private marker, so that
            rendered answer choices split only at the template's own separators; undo it
            with :func:`restore_pipes`.

    Raises:
        TemplateVariableError: ``example`` is not a mapping with string keys, or a value
            contains a character reserved for hole markers.
    """
    if not isinstance(example, Mapping):
        raise TemplateVariableError(
            f"an example must be a mapping from variable names to values, got "
            f"{type(example).__name__} {_short_repr(example)}; pass a dict such as "
            "{'text': 'great movie', 'label': 1}"
        )
    prepared: dict[str, Any] = {}
    for key, value in example.items():
        if not isinstance(key, str):
            raise TemplateVariableError(
                f"example keys must be strings (template variable names), got {key!r}; "
                "convert the keys with str() or rename them"
            )
        prepared[key] = _copy_value(value, key, protect_pipes, depth=0)
    return prepared


def restore_pipes(text: str) -> str:
    """Undo the ``|||`` protection of :func:`prepare_example` in rendered ``text``."""
    return text.replace(PIPE_MARK, PIPE)


def _copy_value(value: Any, key: str, protect_pipes: bool, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise TemplateVariableError(
            f"example value of {key!r} is nested more than {_MAX_DEPTH} levels deep or contains "
            "itself; pass plain JSON-like data (strings, numbers, lists, dicts)"
        )
    if isinstance(value, str):
        _check_reserved(value, key)
        return value.replace(PIPE, PIPE_MARK) if protect_pipes else value
    if isinstance(value, Mapping):
        return {
            _copy_value(item_key, key, protect_pipes, depth + 1): _copy_value(item, key, protect_pipes, depth + 1)
            for item_key, item in value.items()
        }
    if isinstance(value, list):
        return [_copy_value(item, key, protect_pipes, depth + 1) for item in value]
    if isinstance(value, tuple):
        return tuple(_copy_value(item, key, protect_pipes, depth + 1) for item in value)
    if isinstance(value, (set, frozenset)):
        return type(value)(_copy_value(item, key, protect_pipes, depth + 1) for item in value)
    return value


def _check_reserved(text: str, key: str) -> None:
    for char in RESERVED_CHARACTERS:
        if char in text:
            raise TemplateVariableError(
                f"example value of {key!r} contains the reserved character {char!r} "
                f"(at offset {text.index(char)}); promptfill uses U+E000 to U+E003 to mark holes "
                "and the answer separator in rendered text. Remove these characters from the "
                "data, for example with str.translate"
            )


def _short_repr(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
