"""ResampleSearch: APE-style resampling around the best prompts by infilling most of their words."""

from __future__ import annotations

import logging
import random

from pydantic import Field

from .._results import FilledTemplate
from ._loop import InfillSearch, SearchConfig
from ._masking import keep_some_words, prompt_words, replace_word_runs, separator_of

logger = logging.getLogger(__name__)


class ResampleConfig(SearchConfig):
    """Settings of :class:`ResampleSearch`."""

    keep_fraction: float = Field(
        0.3,
        gt=0.0,
        lt=1.0,
        description=(
            "Share of a parent's prompt words kept as anchors; the rest are masked. Low values "
            "explore further from the parent, high values stay close to it."
        ),
    )
    max_holes: int = Field(
        2, ge=1, description="Maximum holes per variant; each extra hole multiplies the hole-length combinations the sampler tries."
    )
    variants: int = Field(
        2, ge=1, description="Masked variants built per parent and iteration, each with its own random anchors."
    )


class ResampleSearch(InfillSearch):
    """Resample around the best prompts, in the spirit of APE's iterative Monte Carlo search.

    APE asks an LLM for "a variation of this instruction". Here the infiller writes the
    variation: each iteration takes the ``beam`` best prompts, keeps a random ``keep_fraction``
    of their words as anchors, masks the rest (merged into at most ``max_holes`` holes, each
    sized like the text it replaced, plus or minus ``length_slack`` tokens), and infills the
    holes from the few-shot examples. The anchors keep the variant near the parent's meaning
    while the examples pull the new words towards the task. Jinja code, the answer part and field
    labels such as ``Input:`` are never masked.
    """

    method = "resample"
    config_class = ResampleConfig
    config: ResampleConfig

    def masked_sources(self, parent: FilledTemplate, rng: random.Random) -> list[str]:
        config = self.config
        words = prompt_words(parent.source, separator_of(parent))
        if not words:
            logger.info("prompt %r has no maskable words (only variables and field labels); nothing to resample", parent.source)
            return []
        sources: list[str] = []
        for _ in range(config.variants):
            runs = keep_some_words(words, rng, config.keep_fraction, config.max_holes)
            source = replace_word_runs(parent.source, words, runs, self.infiller.tokenizer, config.length_slack)
            if source not in sources:
                sources.append(source)
        return sources
