"""NumericScorer: compare the number in the generated answer with the reference number."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DataError
from ._base import SCORERS, Example
from ._target import GenerationScorer

if TYPE_CHECKING:
    from .._results import FilledTemplate

# GSM8K writes the final answer after this marker: "... so she has 18 left.\n#### 18".
ANSWER_MARKER = "####"

# A number with an optional sign and dollar sign ("-3.5", "$12", "-$1,234.50", ".5"). A sign
# counts only when no word character or ")" precedes it, so "5-3" reads as 5 and 3. Thousands
# separators must group three digits, so "3,4" reads as 3 and 4.
_NUMBER = re.compile(
    r"(?:(?<![\w)])(?P<sign>[-+]))?\$?\s*(?P<digits>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)"
)


def find_numbers(text: str) -> list[float]:
    """Return every number in ``text`` in order, with commas, signs, decimals and ``$`` handled."""
    numbers = []
    for match in _NUMBER.finditer(text):
        value = float(match.group("digits").replace(",", ""))
        numbers.append(-value if match.group("sign") == "-" else value)
    return numbers


def extract_answer_number(text: str) -> float | None:
    """Return the answer number of a text: the first number after the last ``####``, else the last number.

    Returns ``None`` when there is no number where one is looked for.
    """
    if ANSWER_MARKER in text:
        after = find_numbers(text.rsplit(ANSWER_MARKER, 1)[1])
        return after[0] if after else None
    numbers = find_numbers(text)
    return numbers[-1] if numbers else None


@SCORERS.register("numeric")
class NumericScorer(GenerationScorer):
    """Score 1.0 when the number in the target's answer equals the reference number, else 0.0.

    The reference number comes from a GSM8K-style answer (``"... #### 42"``) or a plain number.
    The prediction's number is the first one after its last ``####`` when it writes one, else
    its last number, so a worked answer ending in the result scores. A prediction with no
    number scores 0.0.

    Args:
        target: The model to validate against (see :class:`TargetScorer`).
        tolerance: Largest absolute difference that still counts as equal. The default 1e-6
            absorbs float rounding of decimals and nothing else; raise it for rounded answers.
        target_settings: Keyword arguments for a target given by name.
        reference_field: Take the reference from this example field instead of the template's
            answer part.

    Raises:
        DataError: When a reference contains no number.
    """

    name = "numeric"

    def __init__(
        self,
        target: Any = None,
        *,
        tolerance: float = 1e-6,
        target_settings: Mapping[str, Any] | None = None,
        reference_field: str | None = None,
    ) -> None:
        super().__init__(target, target_settings=target_settings, reference_field=reference_field)
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance >= 0:
            raise ConfigError(f"tolerance={tolerance!r} is invalid; pass a number >= 0")
        self.tolerance = float(tolerance)

    def score_examples(self, candidate: FilledTemplate, examples: Sequence[Example]) -> list[float]:
        # Check every reference before sending requests, so a data mistake costs no target calls.
        for index, options in enumerate(self.references(candidate, examples)):
            for reference in options:
                if extract_answer_number(reference) is None:
                    raise DataError(
                        f"the reference {reference!r} of dev example {index} contains no number; the numeric "
                        "scorer needs a number or a GSM8K-style answer ending in '#### 42'"
                    )
        return super().score_examples(candidate, examples)

    def metric(self, prediction: str, reference: str, example: Example) -> float:
        expected = extract_answer_number(reference)
        predicted = extract_answer_number(prediction)
        if expected is None or predicted is None:
            return 0.0
        return float(math.isclose(predicted, expected, rel_tol=0.0, abs_tol=self.tolerance))
