"""The fixed split of T0 template files into training and held-out templates."""

from __future__ import annotations

import hashlib
from pathlib import Path

HELD_OUT_FRACTION = 0.1


def split_template_files(data_dir: Path, held_out_fraction: float = HELD_OUT_FRACTION) -> tuple[list[Path], list[Path]]:
    """Split the template files of ``data_dir`` into (train, held_out) lists.

    Each file holds one prompt template, so holding out files holds out templates the model
    never sees. The split ranks files by the SHA-1 of their name, which keeps it stable when
    files are added and independent of the file system's order.
    """
    files = sorted(p for p in data_dir.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
    ranked = sorted(files, key=lambda p: hashlib.sha1(p.name.encode()).hexdigest())
    count = max(1, round(len(files) * held_out_fraction))
    held_out = sorted(ranked[:count])
    train = sorted(ranked[count:])
    return train, held_out
