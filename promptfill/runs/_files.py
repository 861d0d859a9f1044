"""Crash-safe file writes for run directories: atomic JSON files and fsynced JSONL appends.

A process killed at any moment (by SIGKILL, for example) leaves every JSON file at its old or
its new content. Every JSONL file keeps its complete lines plus at most one torn last line,
which readers ignore and the next append cuts off.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

TEMPORARY_SUFFIX = ".tmp"


def write_json_atomic(path: Path, value: Any) -> None:
    """Write ``value`` as indented JSON to ``path`` so that readers see the old or the new file.

    The text goes to a temporary file in the same directory (``os.replace`` is atomic only
    within one file system), which is fsynced and then renamed over ``path``.
    """
    # Serialise first: an unserialisable value then fails before any file is touched.
    text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    write_text_atomic(path, text)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a fsynced temporary file and ``os.replace``."""
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}{TEMPORARY_SUFFIX}"
    # os.open with mode 0o666 lets the umask set the permissions, as for any new file
    # (tempfile.mkstemp would make the file private to its owner).
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        # BaseException too: a KeyboardInterrupt mid-write must not leave the temporary file.
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Delete temporary files that a killed writer left in ``directory``; return their paths."""
    removed = []
    for path in directory.glob(f".*{TEMPORARY_SUFFIX}"):
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def _fsync_directory(directory: Path) -> None:
    # The rename itself is durable only once the directory entry is flushed. Opening a directory
    # is POSIX-only, so other systems skip this step.
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


class JsonlFile:
    """One JSONL file of records: read complete lines, append new ones with flush and fsync.

    A line counts as written only once its newline is on disk, so text after the last newline is
    a torn write from a killed process. :meth:`read` ignores it and :meth:`append` truncates it
    before writing, so a new record never joins a torn one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._complete_size: int | None = None  # bytes up to the last newline, once read

    def read(self) -> list[dict[str, Any]]:
        """Return the records of the complete lines, in file order.

        A complete line that is not a JSON object is skipped with a warning, so the work it
        recorded is done again instead of failing the whole run.
        """
        if not self.path.exists():
            self._complete_size = 0
            return []
        data = self.path.read_bytes()
        self._complete_size = data.rfind(b"\n") + 1
        if self._complete_size < len(data):
            logger.warning("%s ends in a torn line of %d bytes (a killed write); ignoring it", self.path, len(data) - self._complete_size)
        records = []
        lines = data[: self._complete_size].split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                logger.warning("%s:%d is not valid JSON (%s); skipping the record", self.path, number, error)
                continue
            if not isinstance(record, dict):
                logger.warning("%s:%d is a JSON %s, not an object; skipping the record", self.path, number, type(record).__name__)
                continue
            records.append(record)
        return records

    def append(self, record: Mapping[str, Any]) -> None:
        """Append ``record`` as one line, then flush and fsync before returning."""
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        if self._complete_size is None:
            self.read()
        with self.path.open("ab") as handle:
            if handle.tell() > self._complete_size:
                logger.info("cutting a torn last line off %s before appending", self.path)
                handle.truncate(self._complete_size)
                handle.seek(self._complete_size)
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self._complete_size += len(line)
