"""Describe the software and hardware a run ran on, for ``environment.json``."""

from __future__ import annotations

import platform
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

# The packages whose versions change what a fill computes.
RECORDED_PACKAGES = ("promptfill", "torch", "transformers", "numpy", "pydantic")


def capture_environment(
    *, seed: int | None, command: Sequence[str] | None = None, device: str | None = None, dtype: str | None = None
) -> dict[str, Any]:
    """Return the environment record of a run starting now.

    Args:
        seed: The run's base seed.
        command: The command line; defaults to ``sys.argv``.
        device: The device the model runs on; ``None`` records the device PyTorch would pick.
        dtype: The model's dtype; ``None`` records ``"default"`` (the checkpoint's own).
    """
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": {name: _package_version(name) for name in RECORDED_PACKAGES},
        "device": device if device is not None else default_device(),
        "accelerators": _accelerators(),
        "dtype": dtype if dtype is not None else "default",
        "seed": seed,
        "command": list(command) if command is not None else list(sys.argv),
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def default_device() -> str:
    """Return the device a model loads on when none is given: CUDA, then MPS, then CPU."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _accelerators() -> list[str]:
    import torch

    if not torch.cuda.is_available():
        return []
    return [torch.cuda.get_device_name(index) for index in range(torch.cuda.device_count())]


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
