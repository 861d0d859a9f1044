"""Turn the seeds of a search (fill results, filled templates, human-written prompts) into candidates."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Union

from .._results import FilledTemplate, FillResult
from ..errors import ConfigError
from ..templates import PromptTemplate
from ..templates._scanner import escape_literal_holes

Seed = Union[FillResult, FilledTemplate, PromptTemplate, str]


def normalize_seeds(seeds: Seed | Sequence[Seed], dev_examples: Sequence[Mapping[str, Any]], top: int) -> list[FilledTemplate]:
    """Return copies of the seeds as candidates, checked against the dev examples.

    A :class:`FillResult` contributes its ``top`` best candidates whose scoring did not fail.
    A string is a human-written prompt in plain Jinja, where ``[MASK]`` is literal text, as in
    promptsource. A :class:`PromptTemplate` seed must have no holes.

    Raises:
        ConfigError: No seeds, a seed of another type, a template with holes, or a prompt that
            uses none of the dev examples' fields.
        TemplateVariableError: A prompt reads a variable the dev examples lack.
    """
    items = [seeds] if isinstance(seeds, (FillResult, FilledTemplate, PromptTemplate, str)) else seeds
    if not isinstance(items, Sequence):
        raise ConfigError(f"seeds={_short(seeds)} is invalid; {_SEED_KINDS}")
    candidates: list[FilledTemplate] = []
    for item in items:
        if isinstance(item, FillResult):
            usable = [c for c in item.candidates if c.error is None][:top]
            candidates.extend(c.model_copy(deep=True) for c in usable)
        elif isinstance(item, FilledTemplate):
            candidates.append(item.model_copy(deep=True))
        elif isinstance(item, (str, PromptTemplate)):
            candidates.append(_from_prompt(item))
        else:
            raise ConfigError(f"seed {_short(item)} is invalid; {_SEED_KINDS}")
    if not candidates:
        raise ConfigError(f"seeds={_short(seeds)} gave no candidate to start from (a FillResult whose candidates all failed counts as none); {_SEED_KINDS}")
    for candidate in candidates:
        _check_uses_inputs(candidate, dev_examples)
    return candidates


_SEED_KINDS = (
    "pass a FillResult, a FilledTemplate, a human-written prompt string such as "
    "'Write the opposite word.\\nInput: {{ input }}\\nOutput: ||| {{ output }}', or a list of them"
)


def _from_prompt(prompt: str | PromptTemplate) -> FilledTemplate:
    if isinstance(prompt, str):
        template = PromptTemplate(escape_literal_holes(prompt), allow_no_holes=True)
    elif prompt.holes:
        raise ConfigError(
            f"seed template {prompt!r} has {len(prompt.holes)} hole(s); fill it first with "
            "PromptInfiller.fill and pass the FillResult as the seed"
        )
    else:
        template = prompt
    settings = {**template.settings, "allow_no_holes": True}
    return FilledTemplate(
        source=template.source, fills=[], model_score=0.0, hole_lengths=[],
        template_source=template.source, template_settings=settings,
    )


def _check_uses_inputs(candidate: FilledTemplate, dev_examples: Sequence[Mapping[str, Any]]) -> None:
    fields = sorted({key for example in dev_examples for key in example})
    prompts = {candidate.render(**example) for example in dev_examples}
    distinct_examples = {json.dumps(example, sort_keys=True, default=str) for example in dev_examples}
    if not candidate.template.variables & set(fields) or (len(prompts) == 1 and len(distinct_examples) > 1):
        raise ConfigError(
            f"seed prompt {_short(candidate.source)} renders the same prompt for every dev example, "
            f"so it uses none of the dev examples' fields {fields}; add the input to the prompt, "
            "for example '{{ " + (fields[0] if fields else "input") + " }}'"
        )


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
