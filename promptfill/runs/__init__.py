"""Run directories: record a fill on disk as it runs, and resume it after an interruption.

The layout and the guarantees after a crash are described in docs/runs.md.
"""

from ._directory import RunDirectory

__all__ = ["RunDirectory"]
