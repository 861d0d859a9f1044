"""Fixtures for scorer tests: candidates built directly from a template and its fills."""

from __future__ import annotations

import pytest

from promptfill import FilledTemplate, HoleFill, PromptTemplate


@pytest.fixture
def make_candidate():
    """Return a factory ``(template_source, fills, **template_settings) -> FilledTemplate``."""

    def make(source: str, fills: list[str], **settings) -> FilledTemplate:
        template = PromptTemplate(source, **settings)
        return FilledTemplate(
            source=template.fill_source(fills),
            fills=[
                HoleFill(hole=i, text=text, token_ids=[], tokens=[], confidences=[], logprobs=[])
                for i, text in enumerate(fills)
            ],
            model_score=0.0,
            hole_lengths=[1] * len(fills),
            template_source=source,
            template_settings=template.settings,
        )

    return make
