"""The seam between a fill and the run directory that records it (see promptfill.runs).

A fill asks its run log for work that an earlier, interrupted run already finished, and reports
each piece of work as it finishes. Any object with these methods works; ``None`` records nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from .scoring._halving import ScoreLog

if TYPE_CHECKING:
    from ._results import FilledTemplate, FillResult


class RunLog(ScoreLog, Protocol):
    """What :meth:`PromptInfiller.fill` reads and writes while it runs."""

    def load_sampled(self, combination: int) -> list[FilledTemplate] | None:
        """Return the candidates recorded for hole-length combination ``combination``, if any."""

    def record_sampled(self, combination: int, lengths: Sequence[int], candidates: Sequence[FilledTemplate]) -> None:
        """Append the candidates of one finished combination."""

    def record_result(self, result: FillResult) -> None:
        """Write the final ranked result."""
