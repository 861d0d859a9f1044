"""One interface over Hugging Face masked LMs and masked diffusion LMs (LLaDA, Dream, MDLM)."""

from ._base import MaskedLMBackend
from ._kinds import LLADA_MASK_TOKEN_ID, BackendKind, KindChoice, detect_kind, find_mask_token_id
from ._loading import load_backend, resolve_device, resolve_dtype

__all__ = [
    "LLADA_MASK_TOKEN_ID",
    "BackendKind",
    "KindChoice",
    "MaskedLMBackend",
    "detect_kind",
    "find_mask_token_id",
    "load_backend",
    "resolve_device",
    "resolve_dtype",
]
