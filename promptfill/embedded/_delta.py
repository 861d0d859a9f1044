"""Store a fine-tuned model as a small delta over the base weights, and apply it.

Linear weights are stored as low-rank factors of ``W_tuned - W_base`` (exact when the model was
trained with LoRA of that rank, since a merged LoRA update has exactly that rank); every other
changed tensor (LayerNorms, biases, the new head) is stored whole. Tensors are saved in float16,
which halves the file and costs under 1e-3 relative error on these weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

DELTA_FILE = "delta.safetensors"
DELTA_META_FILE = "delta.json"


def export_delta(tuned: nn.Module, base: nn.Module, directory: Path, rank: int, tolerance: float = 1e-6) -> dict:
    """Write the difference between ``tuned`` and ``base`` to ``directory``; return its summary.

    Args:
        tuned: The fine-tuned model (LoRA already merged).
        base: The same architecture with the base weights.
        directory: Created if needed; receives ``delta.safetensors`` and ``delta.json``.
        rank: Rank kept for each 2-D weight; a weight whose full storage is smaller is stored whole.
        tolerance: Tensors whose largest absolute change is below this are skipped.
    """
    directory.mkdir(parents=True, exist_ok=True)
    base_state = base.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    summary = {"rank": rank, "low_rank": [], "full": [], "skipped": 0}
    for name, value in tuned.state_dict().items():
        reference = base_state[name]
        change = (value.float() - reference.float())
        if change.abs().max().item() < tolerance:
            summary["skipped"] += 1
            continue
        out_features, in_features = change.shape if change.dim() == 2 else (0, 0)
        if change.dim() == 2 and rank * (out_features + in_features) < out_features * in_features:
            # Truncated SVD: change ~= (U * S)[:, :r] @ Vh[:r], both factors stored in float16.
            U, S, Vh = torch.linalg.svd(change, full_matrices=False)
            tensors[f"{name}::left"] = (U[:, :rank] * S[:rank]).half().contiguous()
            tensors[f"{name}::right"] = Vh[:rank].half().contiguous()
            summary["low_rank"].append(name)
        else:
            tensors[f"{name}::full"] = value.half().contiguous()
            summary["full"].append(name)
    save_file(tensors, str(directory / DELTA_FILE))
    (directory / DELTA_META_FILE).write_text(json.dumps(summary, indent=1) + "\n")
    return summary


@torch.no_grad()
def apply_delta(model: nn.Module, directory: Path) -> None:
    """Add the delta stored in ``directory`` to ``model``'s weights in place."""
    state = model.state_dict()
    stored = load_file(str(directory / DELTA_FILE))
    for key, tensor in stored.items():
        name, kind = key.rsplit("::", 1)
        target = state[name]
        if kind == "full":
            target.copy_(tensor.to(target.dtype))
        elif kind == "left":
            right = stored[f"{name}::right"]
            target.add_((tensor.float() @ right.float()).to(target.dtype))
