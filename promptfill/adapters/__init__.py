"""Adapters that compose promptfill's infilling with other prompt optimizers.

The base classes here need nothing beyond promptfill. The DSPy and TextGrad adapters live in
:mod:`promptfill.adapters.dspy` and :mod:`promptfill.adapters.textgrad`; they are imported
on first use, so ``import promptfill`` never imports DSPy or TextGrad. Without the package
installed, that first use raises ImportError naming the extra to install.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._base import AdapterCandidate, AdapterResult, MaskedPrompt, OptimizerAdapter, escape_text, fields_scaffold

__all__ = [
    "AdapterCandidate",
    "AdapterResult",
    "MaskedPrompt",
    "OptimizerAdapter",
    "escape_text",
    "fields_scaffold",
]

# Names served by the optional submodules, imported when first read.
_LAZY = {
    "PromptfillDSPy": "dspy",
    "PromptfillProposer": "dspy",
    "propose_instructions": "dspy",
    "VariableInfiller": "textgrad",
    "engine_scorer": "textgrad",
    "infill_variable": "textgrad",
    "seed_variables": "textgrad",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
