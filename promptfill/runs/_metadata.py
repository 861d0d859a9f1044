"""Write a run's ``config.json`` and ``environment.json``, for fills and training alike."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._config import normalize_config
from ._environment import capture_environment
from ._files import write_json_atomic

CONFIG_FILE = "config.json"
ENVIRONMENT_FILE = "environment.json"


def write_run_metadata(
    directory: str | Path,
    config: Mapping[str, Any],
    *,
    seed: int | None,
    command: Sequence[str] | None = None,
    device: str | None = None,
    dtype: str | None = None,
) -> None:
    """Write ``config.json`` and record this start in ``environment.json``, both atomically.

    Used for directories that are not a :class:`RunDirectory`, such as a training
    ``output_dir``: ``config.json`` is replaced by ``config``, and a start after the first one is
    appended to ``environment.json``'s ``resumes`` list.

    Raises:
        ConfigError: ``config`` is not JSON-compatible or contains a secret.
    """
    directory = Path(directory)
    normalized = normalize_config(config)
    directory.mkdir(parents=True, exist_ok=True)
    write_json_atomic(directory / CONFIG_FILE, normalized)
    record_start(directory, seed=seed, command=command, device=device, dtype=dtype)


def record_start(
    directory: Path, *, seed: int | None, command: Sequence[str] | None = None, device: str | None = None, dtype: str | None = None
) -> None:
    """Write ``environment.json``, or append this start to its ``resumes`` list when it exists."""
    current = capture_environment(seed=seed, command=command, device=device, dtype=dtype)
    path = directory / ENVIRONMENT_FILE
    try:
        environment = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        environment = None
    if not isinstance(environment, dict):
        write_json_atomic(path, current)
        return
    environment.setdefault("resumes", []).append(current)
    write_json_atomic(path, environment)
