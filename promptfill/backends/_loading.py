"""load_backend(): read a checkpoint, detect its kind, and choose device and dtype."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import torch
from transformers import CONFIG_MAPPING, AutoConfig, AutoModel, AutoModelForMaskedLM, AutoTokenizer
from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES
from transformers.utils import cached_file

from ..errors import CheckpointError, ConfigError
from ._base import MaskedLMBackend
from ._kinds import KindChoice, detect_kind, find_mask_token_id, validate_kind

logger = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
_DTYPE_CHOICES = ("auto", *_DTYPES)
_EXPECTED_CHECKPOINT = (
    "expected a directory with config.json and weights (model.safetensors or pytorch_model.bin, "
    "as written by save_pretrained), or a Hugging Face Hub name when online"
)


def load_backend(
    name_or_path: str | os.PathLike[str],
    *,
    kind: KindChoice = "auto",
    device: str | torch.device | None = None,
    dtype: str | torch.dtype | None = None,
    trust_remote_code: bool = False,
    tokenizer: Any = None,
) -> MaskedLMBackend:
    """Load a masked LM or masked diffusion LM checkpoint as a :class:`MaskedLMBackend`.

    ``masked_lm`` checkpoints load with ``AutoModelForMaskedLM``. LLaDA, Dream and MDLM ship
    their own modeling code, so they load with the auto class that the checkpoint's
    ``auto_map`` registers: ``AutoModel`` when present (LLaDA, Dream), else
    ``AutoModelForMaskedLM`` (MDLM).

    Args:
        name_or_path: A local checkpoint directory, or a Hugging Face Hub name.
        kind: The model family, or ``"auto"`` to detect it from ``config.json``.
        device: ``"cuda"``, ``"mps"``, ``"cpu"``... Defaults to CUDA, then MPS, then CPU,
            whichever is available first.
        dtype: ``"float32"``, ``"bfloat16"``, ``"float16"``, a ``torch.dtype`` of those, or
            ``"auto"``/``None``: bfloat16 on a CUDA device that supports it, else float32.
        trust_remote_code: Allow running the modeling code shipped with the checkpoint, which
            LLaDA, Dream and MDLM need. Passed to transformers only when True.
        tokenizer: A tokenizer to use in place of the checkpoint's own.

    Raises:
        CheckpointError: For a missing path, a directory that is not a checkpoint, weights that
            fail to load, or a checkpoint that needs ``trust_remote_code=True``.
        ConfigError: For an invalid ``kind``, ``device`` or ``dtype``.
        UnsupportedModelError: For a causal LM or a model of unknown kind.
        MaskTokenNotFoundError: If neither tokenizer nor config defines a mask token.
    """
    name = os.fspath(name_or_path)
    kind = validate_kind(kind)
    resolved_device = resolve_device(device)
    resolved_dtype = resolve_dtype(dtype, resolved_device)

    # 1. Read config.json without running any checkpoint code.
    config_dict = _read_config_dict(name)
    model_type = config_dict.get("model_type")
    if kind == "auto":
        kind = detect_kind(model_type, config_dict.get("architectures"), name=name)
    needs_remote_code = "auto_map" in config_dict and model_type not in CONFIG_MAPPING
    if needs_remote_code and not trust_remote_code:
        raise CheckpointError(
            f"{name!r} (model_type={model_type!r}) ships its own modeling code, which runs only "
            "with trust_remote_code=True; pass trust_remote_code=True if you trust this checkpoint"
        )
    remote_kwargs = {"trust_remote_code": True} if trust_remote_code else {}

    # 2. Load config, tokenizer and weights.
    auto_class = _auto_class(kind, config_dict)
    try:
        config = AutoConfig.from_pretrained(name, **remote_kwargs)
        if tokenizer is None:
            tokenizer = AutoTokenizer.from_pretrained(name, **remote_kwargs)
        model = auto_class.from_pretrained(name, config=config, dtype=resolved_dtype, **remote_kwargs)
    except (OSError, ValueError) as error:
        raise CheckpointError(
            f"cannot load checkpoint {name!r}: {str(error).rstrip('.')}; {_EXPECTED_CHECKPOINT}"
        ) from error
    model.to(resolved_device)
    logger.info(
        "loaded %s as kind %r with %s on %s (%s)",
        name, kind, auto_class.__name__, resolved_device, resolved_dtype,
    )

    mask_token_id = find_mask_token_id(tokenizer, config, kind, name=name)
    return MaskedLMBackend(model, tokenizer, kind=kind, mask_token_id=mask_token_id, name=name)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """Return ``device`` as a ``torch.device``; ``None`` picks CUDA, then MPS, then CPU."""
    if device is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ConfigError(
            f"device={device!r} is not a torch device ({error}); pass 'cpu', 'cuda', 'cuda:1', "
            "'mps' or None to pick the first available"
        ) from None


def resolve_dtype(dtype: str | torch.dtype | None, device: torch.device) -> torch.dtype:
    """Return the floating point type for the model weights on ``device``.

    ``None`` and ``"auto"`` give bfloat16 on a CUDA device that supports it, because it halves
    the memory of float32 and LLaDA's reference code loads its weights in bfloat16. Elsewhere
    they give float32, because half-precision support on CPU and MPS varies by operator and
    PyTorch version.
    """
    if dtype is None or dtype == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    if isinstance(dtype, torch.dtype) and dtype in _DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    raise ConfigError(
        f"dtype={dtype!r} is not supported; choose one of {', '.join(map(repr, _DTYPE_CHOICES))}, "
        "or the matching torch.dtype"
    )


def _read_config_dict(name: str) -> dict[str, Any]:
    """Return the parsed config.json of a local directory or a Hub checkpoint."""
    path = Path(name).expanduser()
    if path.is_dir():
        config_path = path / "config.json"
        if not config_path.is_file():
            raise CheckpointError(f"directory {name!r} contains no config.json; {_EXPECTED_CHECKPOINT}")
    elif path.exists():
        raise CheckpointError(f"{name!r} is a file, not a checkpoint directory; {_EXPECTED_CHECKPOINT}")
    elif _looks_like_path(name):
        raise CheckpointError(f"checkpoint path {name!r} does not exist; {_EXPECTED_CHECKPOINT}")
    else:
        try:
            config_path = Path(cached_file(name, "config.json"))
        except (OSError, ValueError) as error:
            raise CheckpointError(
                f"{name!r} is not a local directory, and it cannot be loaded from the Hugging Face "
                f"Hub ({str(error).rstrip('.')}); {_EXPECTED_CHECKPOINT}"
            ) from None
    try:
        config_dict = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"cannot read {str(config_path)!r}: {error}") from None
    if not isinstance(config_dict, dict):
        raise CheckpointError(f"{str(config_path)!r} does not contain a JSON object")
    return config_dict


def _looks_like_path(name: str) -> bool:
    """Return whether ``name`` can only be a filesystem path, never a Hub name like ``org/model``."""
    return (
        os.path.isabs(name)
        or name.startswith((".", "~"))
        or "\\" in name
        or name.count("/") > 1
        or name.endswith("/")
    )


def _auto_class(kind: str, config_dict: dict[str, Any]) -> Any:
    """Return the transformers auto class that builds the checkpoint's model with its LM head."""
    if kind == "masked_lm":
        return AutoModelForMaskedLM
    auto_map = config_dict.get("auto_map") or {}
    if "AutoModel" in auto_map:
        return AutoModel
    if "AutoModelForMaskedLM" in auto_map:
        return AutoModelForMaskedLM
    if config_dict.get("model_type") in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return AutoModelForMaskedLM
    return AutoModel
