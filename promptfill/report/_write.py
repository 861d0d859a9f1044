"""Write a run directory's HTML report to a file."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ._html import build_html
from ._load import load_run

logger = logging.getLogger(__name__)

REPORT_NAME = "report.html"


def write_report(run_dir: str | Path, output: str | Path | None = None) -> Path:
    """Write the self-contained HTML report of a run directory and return its path.

    The page needs no network and no JavaScript: styles are inline and plots are inline SVG.

    Args:
        run_dir: A run directory; it must contain ``result.json``. ``config.json``,
            ``environment.json``, ``scores.jsonl`` and ``progress.jsonl`` are shown when present.
        output: Where to write the page; defaults to ``run_dir/report.html``.

    Raises:
        DataError: ``run_dir`` has no ``result.json``, or it is not a valid result.
    """
    run = load_run(run_dir)
    path = Path(output) if output is not None else run.directory / REPORT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary file and rename it, so a reader never sees half a report.
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(build_html(run), encoding="utf-8")
    os.replace(temporary, path)
    logger.info("wrote the report of %s to %s", run.directory, path)
    return path
