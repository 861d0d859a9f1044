"""Read the files of a run directory that the report shows."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .._results import FillResult
from ..errors import DataError

logger = logging.getLogger(__name__)


@dataclass
class RunData:
    """Everything the report shows, read from one run directory.

    Only ``result`` is required. Each optional file that is absent stays ``None``. A file that
    exists but cannot be read is ``None`` too and gets a line in ``problems``. The report shows
    those lines, so a damaged file never hides the rest of the run.
    """

    directory: Path
    result: FillResult
    config: dict[str, Any] | None = None
    environment: dict[str, Any] | None = None
    progress: list[dict[str, Any]] | None = None
    scores: list[dict[str, Any]] | None = None
    problems: list[str] = field(default_factory=list)


def load_run(run_dir: str | Path) -> RunData:
    """Read ``result.json`` and the optional files of a run directory.

    Raises:
        DataError: ``run_dir`` is not a directory, has no ``result.json``, or its
            ``result.json`` is not a valid result.
    """
    directory = Path(run_dir)
    if not directory.is_dir():
        raise DataError(f"run directory {str(directory)!r} does not exist or is not a directory; pass the directory a run wrote (for example with `promptfill fill --output DIR`)")
    result_path = directory / "result.json"
    if not result_path.is_file():
        raise DataError(
            f"{str(directory)!r} is not a run directory: it has no result.json; pass a directory "
            "written by a finished run (an interrupted run writes result.json only when it ends)"
        )
    try:
        result = FillResult.from_json(result_path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError) as error:
        raise DataError(f"{str(result_path)!r} is not a valid result file ({_first_line(error)}); rewrite it with FillResult.to_json") from None

    run = RunData(directory=directory, result=result)
    run.config = _read_object(directory / "config.json", run.problems)
    run.environment = _read_object(directory / "environment.json", run.problems)
    run.progress = _read_records(directory / "progress.jsonl", ("best_score", "target_calls"), run.problems, numeric=True)
    run.scores = _read_records(directory / "scores.jsonl", ("key",), run.problems)
    return run


def read_jsonl(path: Path) -> tuple[list[Any], list[int]]:
    """Return the JSON values of a JSONL file and the line numbers (from 1) that failed to parse.

    A last line without a trailing newline that does not parse is a torn write from a killed
    process, so it is dropped without being counted as bad.
    """
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    values: list[Any] = []
    bad: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except json.JSONDecodeError:
            torn = number == len(lines) and not text.endswith("\n")
            if not torn:
                bad.append(number)
    return values, bad


def _read_object(path: Path, problems: list[str]) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as error:
        return _problem(problems, f"{path.name} could not be read ({_first_line(error)}); its settings are not shown")
    if not isinstance(value, dict):
        return _problem(problems, f"{path.name} holds a {type(value).__name__}, not a JSON object; its settings are not shown")
    return value


def _read_records(path: Path, required: tuple[str, ...], problems: list[str], *, numeric: bool = False) -> list[dict[str, Any]] | None:
    """Return the records of a JSONL file that are objects with the ``required`` keys (numbers, if ``numeric``)."""
    if not path.is_file():
        return None
    try:
        values, bad = read_jsonl(path)
    except (UnicodeDecodeError, OSError) as error:
        return _problem(problems, f"{path.name} could not be read ({_first_line(error)})")
    records = [value for value in values if _has_keys(value, required, numeric)]
    skipped = len(bad) + len(values) - len(records)
    if skipped:
        kind = "numeric " if numeric else ""
        _problem(problems, f"{path.name}: skipped {skipped} line(s) that are not JSON objects with {kind}{', '.join(required)}")
    return records


def _has_keys(value: Any, required: tuple[str, ...], numeric: bool) -> bool:
    if not isinstance(value, dict) or not all(key in value for key in required):
        return False
    # bool is a subclass of int, but true/false is no score or call count.
    return not numeric or all(isinstance(value[key], (int, float)) and not isinstance(value[key], bool) for key in required)


def _problem(problems: list[str], message: str) -> None:
    logger.warning("%s", message)
    problems.append(message)
    return None


def _first_line(error: BaseException) -> str:
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "top level"
        return f"{location}: {first['msg']}"
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
