"""RefineSearch: mask one part of the best prompts, re-infill it, keep what scores better."""

from __future__ import annotations

import logging
import random
from typing import Literal

from pydantic import Field, model_validator

from .._results import FilledTemplate
from ._loop import InfillSearch, SearchConfig
from ._masking import mask_least_confident, prompt_words, random_sentence, random_span, replace_word_runs, separator_of

logger = logging.getLogger(__name__)

RefineStrategy = Literal["span", "sentence", "least_confident"]


class RefineConfig(SearchConfig):
    """Settings of :class:`RefineSearch`."""

    strategy: RefineStrategy = Field(
        "least_confident",
        description=(
            "What to re-mask: span (a random run of words), sentence (one random sentence) or "
            "least_confident (the infilled tokens the model was least sure of; a prompt without "
            "infilled tokens, such as a human-written seed, gets a random span instead)."
        ),
    )
    span_words: tuple[int, int] = Field(
        (2, 6), description="Minimum and maximum words of a random span; short spans change a prompt a little at a time."
    )
    span_tokens: int = Field(
        3, ge=1, description="Infilled tokens re-masked by least_confident, before widening to whole words."
    )

    @model_validator(mode="after")
    def _check_span_words(self) -> RefineConfig:
        low, high = self.span_words
        if low < 1 or low > high:
            raise ValueError(f"span_words={self.span_words!r} must be (min, max) with 1 <= min <= max, for example (2, 6)")
        return self


class RefineSearch(InfillSearch):
    """Mask-and-refill hill climbing.

    Each iteration takes the ``beam`` best prompts so far, re-masks one part of each (see
    :attr:`RefineConfig.strategy`), infills the new hole with the same few-shot examples, scores
    the new candidates on the dev examples and keeps every score. Jinja code, the answer part
    and field labels such as ``Input:`` are never masked.

    Example::

        search = RefineSearch(infiller, scorer, strategy="span", num_candidates=2)
        result = search.run(seed_prompt, examples, dev_examples=dev, budget=SearchBudget(max_target_calls=40))
        print(result.best.source)
    """

    method = "refine"
    config_class = RefineConfig
    config: RefineConfig

    def masked_sources(self, parent: FilledTemplate, rng: random.Random) -> list[str]:
        config = self.config
        tokenizer = self.infiller.tokenizer
        if config.strategy == "least_confident":
            source = mask_least_confident(parent, tokenizer, config.span_tokens, config.length_slack)
            if source is not None:
                return [source]
        words = prompt_words(parent.source, separator_of(parent))
        if not words:
            logger.info("prompt %r has no maskable words (only variables and field labels); nothing to refine", parent.source)
            return []
        if config.strategy == "sentence":
            run = random_sentence(words, parent.source, rng)
        else:
            run = random_span(words, rng, config.span_words)
        return [replace_word_runs(parent.source, words, [run], tokenizer, config.length_slack)]
