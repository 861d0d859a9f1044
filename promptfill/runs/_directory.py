"""RunDirectory: record a fill on disk as it runs, and hand finished work back to a resumed fill."""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..errors import ConfigError, RunDirectoryError
from ..scoring._base import CandidateScore
from ._config import RESUMABLE_KEYS, config_differences, normalize_config
from ._environment import capture_environment
from ._files import TEMPORARY_SUFFIX, JsonlFile, remove_stale_temporaries, write_json_atomic, write_text_atomic
from ._lock import DirectoryLock
from ._metadata import CONFIG_FILE, ENVIRONMENT_FILE, record_start

if TYPE_CHECKING:
    from .._results import FilledTemplate, FillResult

logger = logging.getLogger(__name__)

SAMPLED_FILE = "sampled.jsonl"
SCORES_FILE = "scores.jsonl"
PROGRESS_FILE = "progress.jsonl"
RESULT_FILE = "result.json"
CACHE_FILE = "cache.sqlite"
REPORT_FILE = "report.html"
TASK_FILE = "task.yaml"  # the CLI's copy of the task file it ran

# The files that ``create(..., overwrite=True)`` deletes. Files a user added to the directory stay.
RUN_FILES = (
    CONFIG_FILE, ENVIRONMENT_FILE, SAMPLED_FILE, SCORES_FILE, PROGRESS_FILE, RESULT_FILE,
    CACHE_FILE, CACHE_FILE + "-journal", CACHE_FILE + "-wal", CACHE_FILE + "-shm", REPORT_FILE, TASK_FILE,
)


class RunDirectory:
    """A run directory: the configuration, progress and result of one fill, written as it runs.

    Pass one as ``run=`` to :meth:`PromptInfiller.fill`. Every finished hole-length combination
    is appended to ``sampled.jsonl`` and every finished scoring to ``scores.jsonl``, each line
    fsynced before the fill goes on. After a crash or SIGKILL, :meth:`open` the directory and
    call ``fill`` again with the same arguments: it reuses the recorded work, samples and scores
    only what is missing, and returns the result an uninterrupted run would have returned.

    Create instances with :meth:`create` or :meth:`open`. An instance holds an exclusive lock on
    the directory until :meth:`close` (or garbage collection), so two processes never append to
    one run on systems with ``fcntl.flock`` (Linux, macOS).

    Example::

        run = RunDirectory.create("runs/sentiment", {"template": template, "model": None}, seed=7)
        result = infiller.fill(template, examples, scorer=scorer, seed=7, run=run)

        # after an interruption, in a new process:
        run = RunDirectory.open("runs/sentiment", {"template": template, "model": None}, seed=7)
        result = infiller.fill(template, examples, scorer=scorer, seed=7, run=run)
    """

    def __init__(self, path: Path, config: dict[str, Any], lock: DirectoryLock) -> None:
        # Use create() or open(); they check the directory and take the lock first.
        self.path = path
        self._config = config
        self._lock = lock
        self._finalizer = weakref.finalize(self, lock.release)
        self._sampled_file = JsonlFile(path / SAMPLED_FILE)
        self._scores_file = JsonlFile(path / SCORES_FILE)
        self._sampled: dict[int, dict[str, Any]] = {}
        self._scores: dict[tuple[str, int], CandidateScore] = {}
        self._score_outcomes: set[tuple[str, int, str]] = set()
        self._index_records()

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        config: Mapping[str, Any],
        *,
        seed: int,
        command: Sequence[str] | None = None,
        device: str | None = None,
        dtype: str | None = None,
        overwrite: bool = False,
    ) -> RunDirectory:
        """Start a new run in ``path`` and write its ``config.json`` and ``environment.json``.

        Args:
            path: The run directory. It is created if missing; an existing one must be empty.
            config: The resolved settings of the run (template, examples, model, sampler,
                scorer, target...), JSON-compatible. :meth:`open` compares a resume against it.
            seed: The fill's base seed, stored as ``config["seed"]``. Pass the same seed to
                ``fill``, because a run can be resumed only with the seed it started with.
            command: The command line to record; defaults to ``sys.argv``.
            device: The device the model runs on, for ``environment.json``.
            dtype: The model's dtype, for ``environment.json``.
            overwrite: Delete the run files of an existing run in ``path`` and start over.

        Raises:
            RunDirectoryError: ``path`` is a file, a non-empty directory that contains no run, or
                contains a run and ``overwrite`` is false.
            ConfigError: ``config`` is not JSON-compatible, contains a secret, or contains a
                ``seed`` other than ``seed``.
        """
        path = Path(path)
        normalized = _config_with_seed(normalize_config(config), seed)
        _check_creatable(path, overwrite)
        path.mkdir(parents=True, exist_ok=True)
        lock = DirectoryLock.acquire(path)
        try:
            if overwrite:
                _remove_run_files(path)
            remove_stale_temporaries(path)
            # config.json marks the directory as a run, so it is written first: a run killed
            # before environment.json exists can still be opened.
            write_json_atomic(path / CONFIG_FILE, normalized)
            environment = capture_environment(seed=seed, command=command, device=device, dtype=dtype)
            write_json_atomic(path / ENVIRONMENT_FILE, environment)
        except BaseException:
            lock.release()
            raise
        logger.info("recording the run in %s", path)
        return cls(path, normalized, lock)

    @classmethod
    def open(
        cls,
        path: str | Path,
        config: Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        command: Sequence[str] | None = None,
        ignore: Iterable[str] = RESUMABLE_KEYS,
    ) -> RunDirectory:
        """Open an existing run to resume it, checking that the resume computes the same thing.

        Args:
            path: A directory written by :meth:`create`.
            config: The settings of the resume; every top-level key not in ``ignore`` must equal
                the recorded one. ``None`` skips the check (the caller reuses
                :attr:`config`).
            seed: The resume's seed; it must equal the recorded one. ``None`` skips the check.
            command: The command line of the resume, added to ``environment.json``'s
                ``resumes`` list; defaults to ``sys.argv``.
            ignore: Top-level config keys allowed to differ (by default ``device`` and
                ``top``, which do not change what is computed).

        Raises:
            RunDirectoryError: ``path`` contains no run, or another process has it open.
            ConfigError: ``config`` or ``seed`` differs from the recorded run; the message
                lists every differing key with both values.
        """
        path = Path(path)
        recorded = _read_config(path)
        if seed is not None and recorded.get("seed") != seed:
            raise ConfigError(
                f"seed={seed!r} differs from the seed of the run in {str(path)!r} ({recorded.get('seed')!r}); "
                "resume with the run's seed, or start a new run directory"
            )
        if config is not None:
            current = _config_with_seed(normalize_config(config), recorded.get("seed") if seed is None else seed)
            differences = config_differences(recorded, current, ignore)
            if differences:
                raise ConfigError(
                    f"cannot resume the run in {str(path)!r}: {len(differences)} setting(s) differ from the "
                    f"recorded config.json ({'; '.join(differences)}); resume with the run's settings, "
                    "or start a new run directory"
                )
        lock = DirectoryLock.acquire(path)
        try:
            for stale in remove_stale_temporaries(path):
                logger.info("removed %s, a temporary file left by a killed writer", stale)
            record_start(path, seed=recorded.get("seed"), command=command)
            run = cls(path, recorded, lock)
        except BaseException:
            lock.release()
            raise
        logger.info("resuming the run in %s: %d combination(s) and %d score(s) recorded", path, len(run._sampled), len(run._scores))
        return run

    @staticmethod
    def read_config(path: str | Path) -> dict[str, Any]:
        """Return the recorded ``config.json`` of the run in ``path`` without opening the run.

        Raises:
            RunDirectoryError: ``path`` contains no run, or its ``config.json`` is not a JSON object.
        """
        return _read_config(Path(path))

    @staticmethod
    def is_run_directory(path: str | Path) -> bool:
        """Return whether ``path`` contains a run (a directory with ``config.json``)."""
        return (Path(path) / CONFIG_FILE).is_file()

    # -- properties -----------------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """A copy of the recorded ``config.json``."""
        return json.loads(json.dumps(self._config))

    @property
    def seed(self) -> int | None:
        """The run's base seed."""
        return self._config.get("seed")

    @property
    def cache_path(self) -> Path:
        """Where the run's target response cache lives (``cache.sqlite``, a SqliteCache file)."""
        return self.path / CACHE_FILE

    @property
    def result_path(self) -> Path:
        """Where the final result is written (``result.json``)."""
        return self.path / RESULT_FILE

    @property
    def environment(self) -> dict[str, Any]:
        """The recorded ``environment.json``."""
        return json.loads((self.path / ENVIRONMENT_FILE).read_text(encoding="utf-8"))

    # -- the RunLog protocol --------------------------------------------------------------------

    def load_sampled(self, combination: int) -> list[FilledTemplate] | None:
        """Return fresh copies of the candidates recorded for ``combination``, or ``None``."""
        from .._results import FilledTemplate

        record = self._sampled.get(combination)
        if record is None:
            return None
        return [FilledTemplate.model_validate(candidate) for candidate in record["candidates"]]

    def record_sampled(self, combination: int, lengths: Sequence[int], candidates: Sequence[FilledTemplate]) -> None:
        """Append the candidates of one finished combination, unless it is already recorded."""
        if combination in self._sampled:
            logger.debug("combination %d is already in %s; not appending it again", combination, SAMPLED_FILE)
            return
        record = {
            "combination": combination,
            "lengths": [int(length) for length in lengths],
            "candidates": [candidate.model_dump(mode="json") for candidate in candidates],
        }
        self._sampled_file.append(record)
        self._sampled[combination] = record

    def load_score(self, key: str, examples: int) -> CandidateScore | None:
        """Return the score recorded for candidate ``key`` on ``examples`` dev examples, if any.

        A recorded failure returns ``None``, so a resumed run tries that scoring again.
        """
        score = self._scores.get((key, examples))
        return None if score is None else score.model_copy(deep=True)

    def record_score(self, record: Mapping[str, Any]) -> None:
        """Append one scoring record, unless the same outcome is already recorded for it.

        The outcome is the score or the error of ``(key, examples)``. A retried failure that
        now succeeds, or fails differently, is a new outcome and is appended.
        """
        try:
            outcome = _score_outcome(record)
        except (KeyError, TypeError) as error:
            raise ConfigError(f"score record {record!r} lacks {error}; it needs key, examples, score and error") from None
        if outcome in self._score_outcomes:
            logger.debug("score of %s on %d examples is already in %s; not appending it again", outcome[0], outcome[1], SCORES_FILE)
            return
        self._scores_file.append(dict(record))
        self._index_score(dict(record))

    def record_result(self, result: FillResult) -> None:
        """Write the final ranked result to ``result.json`` (atomically)."""
        # fill() does not pass its seed to the run log before this point, so a mismatch is
        # reported here, where it is first visible.
        seed = result.sampler.get("seed")
        if self.seed is not None and seed != self.seed:
            logger.warning(
                "the fill used seed %r but the run in %s records seed %r; a resume would mix candidates "
                "of both seeds, so pass the run's seed to fill()", seed, self.path, self.seed,
            )
        write_text_atomic(self.result_path, result.to_json() + "\n")

    def read_result(self) -> FillResult | None:
        """Return the recorded final result, or ``None`` when the run has not finished."""
        from .._results import FillResult

        if not self.result_path.is_file():
            return None
        return FillResult.from_json(self.result_path)

    # -- lifetime -------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the directory lock; the files stay as they are."""
        self._finalizer()

    def __enter__(self) -> RunDirectory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r}, seed={self.seed!r})"

    # -- indexes of the recorded work -----------------------------------------------------------

    def _index_records(self) -> None:
        for record in self._sampled_file.read():
            try:
                combination = int(record["combination"])
                candidates = record["candidates"]
            except (KeyError, TypeError, ValueError):
                logger.warning("%s: skipping a record without combination and candidates", self._sampled_file.path)
                continue
            if not isinstance(candidates, list):
                logger.warning("%s: skipping combination %d, whose candidates are not a list", self._sampled_file.path, combination)
                continue
            # The first record of a combination wins; a later one can only be a duplicate.
            self._sampled.setdefault(combination, record)
        for record in self._scores_file.read():
            try:
                self._index_score(record)
            except (KeyError, TypeError, ValidationError):
                logger.warning("%s: skipping a score record without a valid key, examples, score and error", self._scores_file.path)

    def _index_score(self, record: dict[str, Any]) -> None:
        outcome = _score_outcome(record)
        if record.get("score") is not None:
            self._scores[(outcome[0], outcome[1])] = CandidateScore.model_validate(record["score"])
        self._score_outcomes.add(outcome)


def _score_outcome(record: Mapping[str, Any]) -> tuple[str, int, str]:
    """Return ``(key, examples, outcome)``, where outcome is the score or error as JSON text."""
    outcome = json.dumps({"score": record["score"], "error": record["error"]}, sort_keys=True)
    return str(record["key"]), int(record["examples"]), outcome


def _config_with_seed(config: dict[str, Any], seed: int | None) -> dict[str, Any]:
    recorded = config.get("seed")
    if recorded is not None and seed is not None and recorded != seed:
        raise ConfigError(f"config['seed']={recorded!r} differs from seed={seed!r}; pass one seed, or leave it out of config")
    return {**config, "seed": seed if seed is not None else recorded}


def _check_creatable(path: Path, overwrite: bool) -> None:
    if path.exists() and not path.is_dir():
        raise RunDirectoryError(f"run directory {str(path)!r} is a file; pass a new or empty directory")
    if not path.exists():
        return
    if RunDirectory.is_run_directory(path):
        if not overwrite:
            raise RunDirectoryError(
                f"{str(path)!r} already contains a run; resume it with RunDirectory.open (promptfill fill --resume), "
                "pass overwrite=True to delete it and start over, or choose another directory"
            )
        return
    # A run killed while being created leaves only the lock file and temporary files.
    entries = [entry.name for entry in path.iterdir() if entry.name != DirectoryLock.FILE_NAME and not _is_temporary(entry)]
    if entries:
        shown = ", ".join(sorted(entries)[:5]) + (", ..." if len(entries) > 5 else "")
        raise RunDirectoryError(
            f"{str(path)!r} is not empty ({shown}) and contains no run (no {CONFIG_FILE}); pass a new or empty directory"
        )


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_dir():
        raise RunDirectoryError(f"run directory {str(path)!r} does not exist; pass a directory that RunDirectory.create wrote")
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        raise RunDirectoryError(f"{str(path)!r} contains no run: it has no {CONFIG_FILE}; pass a directory that RunDirectory.create wrote")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunDirectoryError(f"{str(config_path)!r} is not valid JSON ({error}); the run cannot be resumed") from None
    if not isinstance(config, dict):
        raise RunDirectoryError(f"{str(config_path)!r} contains a JSON {type(config).__name__}, not an object; the run cannot be resumed")
    return config


def _is_temporary(entry: Path) -> bool:
    return entry.name.startswith(".") and entry.name.endswith(TEMPORARY_SUFFIX)


def _remove_run_files(path: Path) -> None:
    for name in RUN_FILES:
        (path / name).unlink(missing_ok=True)
