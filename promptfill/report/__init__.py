"""The HTML report of a run directory: one self-contained file with the ranking and score plots."""

from ._load import RunData, load_run
from ._write import write_report

__all__ = ["RunData", "load_run", "write_report"]
