"""Answer normalisation shared by the text-matching scorers (exact_match, f1)."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

from ._target import GenerationScorer

_ARTICLES = re.compile(r"\b(a|an|the)\b", flags=re.IGNORECASE)
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def normalize_answer(
    text: str,
    *,
    lowercase: bool = True,
    strip_punctuation: bool = True,
    strip_articles: bool = True,
    collapse_whitespace: bool = True,
) -> str:
    """Normalise an answer as SQuAD's evaluation does: lowercase, drop punctuation and articles, collapse spaces.

    Each step can be turned off. Articles are the English ``a``, ``an`` and ``the``. Punctuation
    is ASCII punctuation (``string.punctuation``), removed before articles so ``"the."`` goes too.
    """
    if lowercase:
        text = text.lower()
    if strip_punctuation:
        text = text.translate(_PUNCTUATION)
    if strip_articles:
        text = _ARTICLES.sub(" ", text)
    if collapse_whitespace:
        text = " ".join(text.split())
    return text


def first_line(text: str) -> str:
    """Return the first non-blank line of ``text``, stripped; ``""`` when every line is blank."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class NormalizingScorer(GenerationScorer):
    """A generation scorer that compares normalised texts; the settings of exact_match and f1.

    Args:
        target: The model to validate against (see :class:`TargetScorer`).
        lowercase: Compare case-insensitively.
        strip_punctuation: Remove ASCII punctuation before comparing.
        strip_articles: Remove the English articles a, an, the.
        collapse_whitespace: Replace runs of whitespace with one space and strip the ends.
        first_line: Compare only the first non-blank line of the prediction, for targets that
            keep writing after the answer.
        target_settings: Keyword arguments for a target given by name.
        reference_field: Take the reference from this example field instead of the template's
            answer part.
    """

    def __init__(
        self,
        target: Any = None,
        *,
        lowercase: bool = True,
        strip_punctuation: bool = True,
        strip_articles: bool = True,
        collapse_whitespace: bool = True,
        first_line: bool = False,
        target_settings: Mapping[str, Any] | None = None,
        reference_field: str | None = None,
    ) -> None:
        super().__init__(target, target_settings=target_settings, reference_field=reference_field)
        self.normalization = {
            "lowercase": bool(lowercase),
            "strip_punctuation": bool(strip_punctuation),
            "strip_articles": bool(strip_articles),
            "collapse_whitespace": bool(collapse_whitespace),
        }
        self.first_line = bool(first_line)

    def normalize_prediction(self, prediction: str) -> str:
        """Return the prediction as it is compared: first line (if set), then normalised."""
        if self.first_line:
            prediction = first_line(prediction)
        return normalize_answer(prediction, **self.normalization)

    def normalize_reference(self, reference: str) -> str:
        """Return the reference as it is compared."""
        return normalize_answer(reference, **self.normalization)

