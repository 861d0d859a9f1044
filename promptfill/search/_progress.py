"""Append search progress to ``progress.jsonl`` in a run directory, one line per iteration."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ._result import SearchIteration

PROGRESS_FILE = "progress.jsonl"


class ProgressLog:
    """Append :class:`SearchIteration` lines to ``run_dir/progress.jsonl``; ``None`` writes nothing.

    Each line is flushed and fsynced, so a killed run leaves at most a torn last line. Such a
    line is cut off before the first new line is appended.
    """

    def __init__(self, run_dir: Path | str | None) -> None:
        self.path = None if run_dir is None else Path(run_dir) / PROGRESS_FILE
        self._checked = False

    def append(self, iteration: SearchIteration) -> None:
        """Write one iteration as a JSON line."""
        if self.path is None:
            return
        if not self._checked:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _truncate_torn_line(self.path)
            self._checked = True
        line = json.dumps(iteration.model_dump(mode="json"), ensure_ascii=False) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())


def read_progress(run_dir: Path | str) -> list[SearchIteration]:
    """Read the iterations of ``run_dir/progress.jsonl``, ignoring a torn last line."""
    path = Path(run_dir) / PROGRESS_FILE
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    # Text after the last newline is a line the writer did not finish.
    return [SearchIteration.model_validate_json(line) for line in lines[:-1] if line.strip()]


def _truncate_torn_line(path: Path) -> None:
    if not path.exists():
        return
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    with path.open("r+b") as handle:
        handle.truncate(data.rfind(b"\n") + 1)
