"""Response caches: answers of target models kept across calls and runs.

A cache maps a request key (see :meth:`Target.cache_key`) to a successful
:class:`~promptfill.targets.Response`. Failed responses are never stored, so a rerun retries
them. :class:`SqliteCache` survives restarts and concurrent readers; :class:`MemoryCache` lasts
for one process.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ._base import Response


class ResponseCache(Protocol):
    """Interface of a response cache: look up and store responses by key."""

    def get(self, key: str) -> Response | None:
        """Return the stored response for ``key``, or ``None``."""

    def put(self, key: str, response: Response) -> None:
        """Store a successful response under ``key``."""


class MemoryCache:
    """A dict-backed cache for one process."""

    def __init__(self) -> None:
        self._entries: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Response | None:
        from ._base import Response

        with self._lock:
            text = self._entries.get(key)
        return None if text is None else Response.model_validate_json(text)

    def put(self, key: str, response: Response) -> None:
        with self._lock:
            self._entries[key] = response.model_copy(update={"cached": False}).model_dump_json()

    def __len__(self) -> int:
        return len(self._entries)


class SqliteCache:
    """A cache in one SQLite file; each put is committed at once, so a killed run keeps its answers.

    Args:
        path: The database file; created with its folder when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # check_same_thread=False: HTTP targets answer from worker threads; the lock serialises use.
        self._connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL)")
        self._connection.commit()

    def get(self, key: str) -> Response | None:
        from ._base import Response

        with self._lock:
            row = self._connection.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else Response.model_validate_json(row[0])

    def put(self, key: str, response: Response) -> None:
        text = response.model_copy(update={"cached": False}).model_dump_json()
        with self._lock:
            self._connection.execute("INSERT OR REPLACE INTO responses (key, response) VALUES (?, ?)", (key, text))
            self._connection.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._connection.close()
