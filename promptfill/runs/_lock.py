"""An exclusive lock on a run directory, so two processes never append to one run."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import RunDirectoryError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


class DirectoryLock:
    """An ``flock`` on ``DIR/.lock``, held until :meth:`release` or the process exits.

    The kernel drops the lock when the holder dies, even by SIGKILL, so a killed run never
    leaves a stale lock behind.
    """

    FILE_NAME = ".lock"

    def __init__(self, descriptor: int | None) -> None:
        self._descriptor = descriptor

    @classmethod
    def acquire(cls, directory: Path) -> DirectoryLock:
        """Lock ``directory``; raise RunDirectoryError when another holder has it."""
        if fcntl is None:
            # NOTE: without fcntl (Windows) two processes can open one run; nothing stops them.
            return cls(None)
        descriptor = os.open(directory / cls.FILE_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise RunDirectoryError(
                f"the run in {str(directory)!r} is in use by another process or RunDirectory object; "
                "wait for it to finish, or close the other RunDirectory first"
            ) from None
        return cls(descriptor)

    def release(self) -> None:
        """Release the lock; releasing twice does nothing."""
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None
