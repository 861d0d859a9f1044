"""Sandboxed Jinja environments for prompt templates, with promptsource's helper filters.

Both dialects add the helpers that promptsource templates use beyond plain Jinja:

- ``choice`` filter: one item of a sequence (``{{ ["Yes", "No"] | choice }}``);
- ``random`` filter: Jinja's own ``random``, made reproducible;
- ``most_frequent`` filter: the items that occur most often, in first-seen order;
- ``zip`` global: Python's ``zip``, returning a list.

``choice`` and ``random`` draw from a generator seeded by the template's ``seed`` and by
the content of the example being rendered. So one example renders the same way in any
process and in any order, while different examples get different draws.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import jinja2
from jinja2.exceptions import TemplateRuntimeError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

__all__ = ["Dialect", "RANDOM_VARIABLE", "make_environment", "seeded_generator"]

Dialect = Literal["promptfill", "promptsource"]

# Context variable that carries the per-render generator to `choice` and `random`.
RANDOM_VARIABLE = "_promptfill_random"


def make_environment(dialect: Dialect) -> jinja2.Environment:
    """Build the Jinja environment for ``dialect``.

    ``"promptfill"`` is immutable: templates cannot change lists or dicts, including the
    example's. ``"promptsource"`` lets templates call ``.append``, ``.update`` and
    ``.pop`` on lists and dicts, because many promptsource templates build lists that way.
    The caller renders those templates on a copy of the example.
    """
    environment_class = ImmutableSandboxedEnvironment if dialect == "promptfill" else SandboxedEnvironment
    environment = environment_class(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    environment.filters["choice"] = _choice
    environment.filters["random"] = _random
    environment.filters["most_frequent"] = _most_frequent
    environment.globals["zip"] = _zip
    return environment


def seeded_generator(seed: int, example: Mapping[str, Any]) -> random.Random:
    """Return a generator seeded by ``seed`` and a stable digest of ``example``'s content."""
    digest = hashlib.sha256(repr((seed, _canonical(example))).encode("utf-8", "surrogatepass"))
    return random.Random(digest.hexdigest())


def _canonical(value: Any) -> Any:
    """Return ``value`` with mappings as key-sorted tuples, so equal examples repr equally."""
    if isinstance(value, Mapping):
        items = [(repr(key), _canonical(item)) for key, item in value.items()]
        return ("mapping", tuple(sorted(items, key=lambda pair: pair[0])))
    if isinstance(value, (list, tuple)):
        return tuple(_canonical(item) for item in value)
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(repr(item) for item in value)))
    return value


def _generator(context: jinja2.runtime.Context) -> random.Random:
    generator = context.get(RANDOM_VARIABLE)
    if not isinstance(generator, random.Random):
        # Only a render outside PromptTemplate reaches this, so fall back to a fixed seed.
        return random.Random(0)
    return generator


@jinja2.pass_context
def _choice(context: jinja2.runtime.Context, items: Sequence[Any]) -> Any:
    """Return one item of ``items``, drawn with the render's seeded generator."""
    pool = list(items)
    if not pool:
        raise TemplateRuntimeError("the choice filter received an empty sequence")
    return pool[_generator(context).randrange(len(pool))]


@jinja2.pass_context
def _random(context: jinja2.runtime.Context, items: Sequence[Any]) -> Any:
    """Return one item of ``items`` like Jinja's ``random``, but reproducibly."""
    pool = list(items)
    if not pool:
        return context.environment.undefined("the random filter received an empty sequence")
    return pool[_generator(context).randrange(len(pool))]


def _most_frequent(items: Sequence[Any]) -> list[Any]:
    """Return the items that occur most often in ``items``, in the order first seen."""
    counts = Counter(items)
    if not counts:
        return []
    top = max(counts.values())
    return [item for item, count in counts.items() if count == top]


def _zip(*sequences: Sequence[Any]) -> list[tuple[Any, ...]]:
    return list(zip(*sequences))
