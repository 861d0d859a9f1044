"""The run directory of ``promptfill fill``: choose it, create or resume it, and write its report.

A run's ``config.json`` is the resolved task (template inline, paths absolute, the seed drawn,
the response cache placed in the run) plus digests of the examples, so ``promptfill fill
--resume DIR`` needs nothing else. ``task.yaml`` is the same task as a runnable YAML file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import yaml
from pydantic import ValidationError

from ..errors import ConfigError, TaskFileError
from ..runs import RunDirectory
from ..runs._directory import CONFIG_FILE, TASK_FILE
from ..runs._files import write_text_atomic
from ..sampling import SamplerConfig
from ._task import ScorerSpec, TargetSpec, TaskFile, load_task_file

logger = logging.getLogger(__name__)

RUNS_FOLDER = "runs"

# Settings that may change when a run resumes, because they change nothing that is computed:
# where the model runs, how many rows are printed, and where target responses are cached.
RESUMABLE_TASK_KEYS = ("device", "top", "cache")


def load_fill_task(task: Path | None, resume: Path | None, run_dir: Path | None, no_run_dir: bool) -> tuple[TaskFile, Path, Path]:
    """Return the task to fill, the folder its paths are relative to, and its file.

    Without ``task``, the task is rebuilt from the ``config.json`` of the run that ``resume``
    names, since that file exists as soon as the run does.

    Raises:
        ConfigError: For no task and no run to resume, or ``--resume`` combined with
            ``--run-dir`` or ``--no-run-dir``.
        RunDirectoryError: ``resume`` contains no run.
        TaskFileError: The task file is missing or invalid.
    """
    if resume is not None and (run_dir is not None or no_run_dir):
        raise ConfigError("--resume DIR continues the run in DIR; drop --run-dir and --no-run-dir")
    if run_dir is not None and no_run_dir:
        raise ConfigError("--run-dir and --no-run-dir contradict each other; pass one of them")
    if task is not None:
        spec, base = load_task_file(task)
        return spec, base, task
    if resume is None:
        raise ConfigError("pass a TASK file, or --resume DIR to continue the run in DIR")
    config = RunDirectory.read_config(resume)
    data = {key: value for key, value in config.items() if key in TaskFile.model_fields}
    try:
        spec = TaskFile.model_validate(data)
    except ValidationError as error:
        raise TaskFileError(f"{str(resume / CONFIG_FILE)!r} does not contain a valid task ({error.errors()[0]['msg']}); resume with the TASK file") from None
    return spec, resume, resume / TASK_FILE


def default_run_dir(task: Path, now: datetime | None = None) -> Path:
    """Return a new folder ``runs/<task stem>-<UTC time>`` in the current directory.

    A suffix ``-2``, ``-3``... keeps two runs started in the same second apart.
    """
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    path = Path(RUNS_FOLDER) / f"{task.stem}-{stamp}"
    suffix = 2
    while path.exists():
        path = Path(RUNS_FOLDER) / f"{task.stem}-{stamp}-{suffix}"
        suffix += 1
    return path


def start_run(
    spec: TaskFile,
    base: Path,
    sampler: SamplerConfig,
    examples: list[dict[str, Any]],
    dev_examples: list[dict[str, Any]] | None,
    *,
    task: Path,
    run_dir: Path | None,
    resume: Path | None,
    device: str | None,
) -> tuple[RunDirectory, TaskFile, SamplerConfig]:
    """Create the run directory (or open the one to resume) for a fill of ``spec``.

    Returns the run, the resolved task and the sampler settings with a seed. Writes
    ``config.json``, ``environment.json`` and ``task.yaml`` for a new run.

    Raises:
        RunDirectoryError: The directory cannot hold a new run, or the run to resume is missing
            or in use.
        ConfigError: The resumed run was started with other settings; the message names them.
    """
    # A run can be resumed only with the seed it started with, so a missing seed is drawn now
    # (or, on resume, taken from the run).
    if sampler.seed is None:
        seed = RunDirectory.read_config(resume).get("seed") if resume is not None else None
        sampler = sampler.model_copy(update={"seed": seed if seed is not None else int(torch.seed() % 2**31)})
    path = resume if resume is not None else (run_dir or default_run_dir(task))
    resolved = resolve_task(spec, base, sampler, path)
    config = run_config(resolved, examples, dev_examples)
    command = list(sys.argv)

    if resume is not None:
        run = RunDirectory.open(path, config, seed=sampler.seed, command=command, ignore=RESUMABLE_TASK_KEYS)
        logger.info("resuming the run in %s", path)
        return run, resolved, sampler
    run = RunDirectory.create(path, config, seed=sampler.seed, command=command, device=device or resolved.device, dtype=resolved.dtype)
    header = "# The resolved task of this run; `promptfill fill --resume DIR` reads it.\n"
    write_text_atomic(run.path / TASK_FILE, header + yaml.safe_dump(task_to_data(resolved), sort_keys=False, allow_unicode=True))
    return run, resolved, sampler


def resolve_task(spec: TaskFile, base: Path, sampler: SamplerConfig, run_path: Path) -> TaskFile:
    """Return ``spec`` made self-contained: template inline, paths absolute, seed and cache fixed.

    The cache is recorded as the file it resolves to (the user cache unless the task says
    otherwise), so a resumed run, and any later run of the same job, reuses its answers.
    """
    def absolute(path: Path | None) -> Path | None:
        if path is None:
            return None
        if not path.is_absolute():
            path = base / path
        return path.resolve()

    cache_file = spec.cache_path(base)
    cache = False if cache_file is None else absolute(cache_file)
    return spec.model_copy(update={
        "template": spec.template_source(base),
        "template_file": None,
        "examples_file": absolute(spec.examples_file),
        "dev_examples_file": absolute(spec.dev_examples_file),
        "sampler": sampler,
        "cache": cache,
    })


def task_to_data(spec: TaskFile) -> dict[str, Any]:
    """Return the task as plain data that :func:`load_task_file` reads back to the same task."""
    return spec.model_dump(mode="json")


def run_config(spec: TaskFile, examples: list[dict[str, Any]], dev_examples: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Return ``config.json`` of a run of ``spec``: the resolved task and digests of its examples.

    The digests make a resume fail when an examples file changed since the run started.
    """
    config = task_to_data(spec)
    config["scorer"] = _named(spec.scorer, ScorerSpec)
    config["target"] = _named(spec.target, TargetSpec)
    config["examples_sha256"] = _digest(examples)
    config["dev_examples_sha256"] = None if dev_examples is None else _digest(dev_examples)
    config["seed"] = spec.sampler.seed
    return config


def finish_run(run: RunDirectory) -> Path | None:
    """Write ``report.html`` of a run that has a result, then close the run; return the report path.

    The report is skipped (with a log line) when the report module is not available.
    """
    try:
        if run.read_result() is None:
            return None
        return _write_report(run.path)
    finally:
        run.close()


def _write_report(path: Path) -> Path | None:
    try:
        from ..report import write_report
    except ImportError:
        logger.info("promptfill.report is not available; not writing report.html")
        return None
    try:
        return write_report(path)
    except (OSError, ValueError) as error:
        # The run's results are already on disk, so a failed report must not fail the fill.
        logger.warning("failed to write the report of %s: %s; write it later with `promptfill report %s`", path, error, path)
        return None


def _named(value: Any, spec_class: type) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {"name": value, "settings": {}}
    return spec_class.model_validate(value).model_dump(mode="json")


def _digest(examples: list[dict[str, Any]]) -> str:
    text = json.dumps(examples, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
