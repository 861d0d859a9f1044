"""Hole specifications and the length syntax of ``[MASK]`` holes.

A hole is written in template text as ``[MASK]`` (the template's default length),
``[MASK:5]`` (exactly 5 tokens) or ``[MASK:3-8]`` (3 to 8 tokens, both ends included).
Lengths count tokens of the infilling model's tokenizer.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ConfigError, HoleSyntaxError

__all__ = ["MAX_HOLE_LENGTH", "HoleSpec"]

# A hole longer than this would take most of the 512-position context of a BERT-sized
# infiller on its own, so a larger length is almost certainly a typo.
MAX_HOLE_LENGTH = 512

VALID_HOLE_FORMS = (
    "valid forms are [MASK] (the template's default length), [MASK:5] (exactly 5 tokens) "
    f"and [MASK:3-8] (3 to 8 tokens), with lengths from 1 to {MAX_HOLE_LENGTH}"
)

# ASCII digits only: `\d` would also accept other scripts' digits, which int() parses too.
_LENGTH_SPEC = re.compile(r"([0-9]+)(?:-([0-9]+))?")

# More digits than this cannot be a valid length; checking first keeps int() off huge strings.
_MAX_LENGTH_DIGITS = len(str(MAX_HOLE_LENGTH))


class HoleSpec(BaseModel):
    """A hole of a template: its position among the holes and the token lengths it may take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0, description="0-based order of the hole in the template source.")
    min_length: int = Field(
        ge=1, le=MAX_HOLE_LENGTH, description="Minimum number of tokens in the infill."
    )
    max_length: int = Field(
        ge=1, le=MAX_HOLE_LENGTH, description="Maximum number of tokens in the infill."
    )

    @model_validator(mode="after")
    def _check_order(self) -> HoleSpec:
        if self.min_length > self.max_length:
            raise ValueError(
                f"min_length={self.min_length} is greater than max_length={self.max_length}; "
                "swap them, or set both to one value for a fixed length"
            )
        return self

    @property
    def is_fixed(self) -> bool:
        """Whether the hole has exactly one allowed length."""
        return self.min_length == self.max_length

    def candidate_lengths(self, trials: int) -> list[int]:
        """Return up to ``trials`` lengths to try, evenly spaced over the allowed range.

        With ``trials >= 2`` the list includes both ``min_length`` and ``max_length``. Values
        are rounded to whole tokens, so duplicates are merged and the list can be shorter
        than ``trials``. A fixed hole returns its one length. With ``trials == 1`` a range
        returns its midpoint (rounded up), the single guess closest to every allowed length.

        Args:
            trials: The maximum number of lengths to return, at least 1.

        Returns:
            Distinct lengths in ascending order.
        """
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            raise ConfigError(
                f"trials must be a positive integer, got {trials!r}; "
                "pass the number of hole lengths to try, for example 3"
            )
        if self.is_fixed:
            return [self.min_length]
        span = self.max_length - self.min_length
        if trials == 1:
            return [self.min_length + (span + 1) // 2]

        # Integer arithmetic rounds half up, where round() would take 2.5 down to the even 2.
        steps = trials - 1
        lengths = {self.min_length + (i * span * 2 + steps) // (2 * steps) for i in range(trials)}
        return sorted(lengths)


def parse_length_spec(spec: str) -> tuple[int, int] | str:
    """Parse the length part of a hole, ``"5"`` or ``"3-8"``, into ``(min, max)``.

    Returns:
        The inclusive length range, or a string saying what is wrong with ``spec``.
    """
    match = _LENGTH_SPEC.fullmatch(spec)
    if match is None:
        if spec == "":
            return "the length after ':' is missing"
        return f"{spec!r} is not a length or a length range"
    parts = [part for part in match.groups() if part is not None]
    if any(len(part.lstrip("0")) > _MAX_LENGTH_DIGITS for part in parts):
        return f"a length in {spec!r} is greater than {MAX_HOLE_LENGTH}"
    low = int(parts[0])
    high = int(parts[-1])
    if low < 1:
        return "a hole must be at least 1 token long"
    if high > MAX_HOLE_LENGTH:
        return f"a length in {spec!r} is greater than {MAX_HOLE_LENGTH}"
    if low > high:
        return f"the range {spec!r} starts above its end; write it as {high}-{low}"
    return low, high


def hole_length_range(spec: str | None, default: tuple[int, int], text: str, line: int) -> tuple[int, int]:
    """Return the length range of the hole ``text`` found on ``line``.

    Args:
        spec: What follows ``[MASK:`` up to ``]``, or ``None`` for a bare ``[MASK]``.
        default: The template's default range, used for a bare ``[MASK]``.
        text: The whole hole as written, for the error message.
        line: 1-based line of the hole in the template source.
    """
    if spec is None:
        return default
    parsed = parse_length_spec(spec)
    if isinstance(parsed, str):
        raise HoleSyntaxError(f"invalid hole {text!r} on line {line}: {parsed}; {VALID_HOLE_FORMS}")
    return parsed


def default_length_range(value: object) -> tuple[int, int]:
    """Convert the ``default_hole_length`` argument (``5``, ``(3, 8)``, ``"3-8"``) to ``(min, max)``."""
    problem: str | None = None
    if isinstance(value, bool):
        problem = "a bool is not a length"
    elif isinstance(value, int):
        parsed = parse_length_spec(str(value)) if value >= 0 else "a length must be positive"
        if isinstance(parsed, str):
            problem = parsed
        else:
            return parsed
    elif isinstance(value, str):
        parsed = parse_length_spec(value.strip())
        if isinstance(parsed, str):
            problem = parsed
        else:
            return parsed
    elif isinstance(value, tuple) and len(value) == 2 and all(
        isinstance(part, int) and not isinstance(part, bool) for part in value
    ):
        low, high = value
        if low < 1 or high > MAX_HOLE_LENGTH:
            problem = f"lengths must be from 1 to {MAX_HOLE_LENGTH}"
        elif low > high:
            problem = f"the range starts above its end; write it as ({high}, {low})"
        else:
            return low, high
    else:
        problem = "expected an int, a (min, max) tuple or a string like '3-8'"
    raise ConfigError(
        f"invalid default_hole_length {value!r}: {problem}. Pass a fixed length such as 6, "
        f"or a range such as (4, 12) or '4-12', with lengths from 1 to {MAX_HOLE_LENGTH}"
    )
