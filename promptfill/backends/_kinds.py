"""Model kinds: detect which family a checkpoint belongs to and find its mask token id."""

from __future__ import annotations

import logging
from typing import Any, Literal, get_args

from transformers.models.auto.modeling_auto import (
    MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
    MODEL_FOR_MASKED_LM_MAPPING_NAMES,
)

from ..errors import ConfigError, MaskTokenNotFoundError, UnsupportedModelError

logger = logging.getLogger(__name__)

BackendKind = Literal["masked_lm", "llada", "dream", "mdlm"]
"""Model families that promptfill can infill with.

``masked_lm`` is any Hugging Face ``...ForMaskedLM`` model (BERT, RoBERTa, ModernBERT...);
``llada``, ``dream`` and ``mdlm`` are masked diffusion LMs loaded with their own modeling code.
"""

KindChoice = Literal["auto", "masked_lm", "llada", "dream", "mdlm"]

# LLaDA's guidelines name the reserved token 126336 as its mask token, and a LLaDA config
# may not store it.
LLADA_MASK_TOKEN_ID = 126336

_SUPPORTED_MODELS = "BERT, RoBERTa, ModernBERT, LLaDA, Dream, MDLM"


def validate_kind(kind: object) -> KindChoice:
    """Return ``kind`` unchanged, or raise :class:`ConfigError` if it is not a known kind."""
    choices = get_args(KindChoice)
    if kind not in choices:
        raise ConfigError(
            f"kind={kind!r} is invalid; choose one of {', '.join(map(repr, choices))}"
        )
    return kind  # type: ignore[return-value]


def detect_kind(model_type: str | None, architectures: list[str] | None, *, name: str) -> BackendKind:
    """Infer the model family from a config's ``model_type`` and ``architectures``.

    Args:
        model_type: ``config.model_type`` (case is ignored).
        architectures: Class names from ``config.architectures``, optionally with the class
            of an in-memory model first.
        name: The checkpoint name or path, used in error messages.

    Raises:
        UnsupportedModelError: For a causal LM, or a model of no recognised kind.
    """
    model_type = (model_type or "").lower()
    architectures = list(architectures or [])

    # 1. Masked diffusion LMs, which ship their own modeling code.
    if model_type == "llada" or "LLaDAModelLM" in architectures:
        return "llada"
    if model_type == "dream" or "DreamModel" in architectures:
        return "dream"
    if model_type.startswith("mdlm") or "MDLM" in architectures:
        return "mdlm"

    # 2. An explicit architecture name decides between masked and causal LMs.
    if any(arch.endswith("ForMaskedLM") for arch in architectures):
        return "masked_lm"
    causal = [arch for arch in architectures if arch.endswith(("ForCausalLM", "LMHeadModel"))]
    if causal:
        raise _causal_model_error(name, causal[0])

    # 3. Otherwise the model type decides (a BERT checkpoint saved as "BertModel" still has a
    # masked-LM class registered for its model type).
    if MODEL_FOR_MASKED_LM_MAPPING_NAMES.get(model_type, "").endswith("ForMaskedLM"):
        return "masked_lm"
    if model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise _causal_model_error(name, MODEL_FOR_CAUSAL_LM_MAPPING_NAMES[model_type])
    raise UnsupportedModelError(
        f"cannot tell what kind of model {name!r} is (model_type={model_type!r}, "
        f"architectures={architectures!r}); promptfill fills holes with a masked language model "
        f"or masked diffusion LM ({_SUPPORTED_MODELS}). If this checkpoint is one, pass "
        "kind='masked_lm', 'llada', 'dream' or 'mdlm' to say which"
    )


def _causal_model_error(name: str, class_name: str) -> UnsupportedModelError:
    return UnsupportedModelError(
        f"{name!r} is a causal language model ({class_name}); promptfill needs a masked language "
        f"model or masked diffusion LM ({_SUPPORTED_MODELS}) to fill holes, because a causal LM "
        "cannot see the text after a hole. Use a causal LM as the target model of a scorer instead"
    )


def find_mask_token_id(tokenizer: Any, config: Any, kind: BackendKind, *, name: str) -> int:
    """Return the mask token id of a checkpoint.

    Looks in this order: ``tokenizer.mask_token_id``, ``config.mask_token_id``, then for
    LLaDA the documented id 126336. For MDLM the last fallback is the id one past the
    tokenizer's vocabulary, used when the model has exactly one extra output, because MDLM
    appends its mask token that way to a tokenizer without one.

    Raises:
        MaskTokenNotFoundError: If none of these applies.
    """
    mask_token_id = getattr(tokenizer, "mask_token_id", None)
    if mask_token_id is not None:
        return int(mask_token_id)
    mask_token_id = getattr(config, "mask_token_id", None)
    if mask_token_id is not None:
        return int(mask_token_id)
    if kind == "llada":
        logger.debug(
            "%s sets no mask token; using LLaDA's reserved mask token id %d", name, LLADA_MASK_TOKEN_ID
        )
        return LLADA_MASK_TOKEN_ID
    vocab_size = getattr(config, "vocab_size", None)
    if kind == "mdlm" and vocab_size == len(tokenizer) + 1:
        logger.debug(
            "%s sets no mask token; using MDLM's appended mask token id %d", name, len(tokenizer)
        )
        return len(tokenizer)
    raise MaskTokenNotFoundError(
        f"checkpoint {name!r} has no mask token: its tokenizer's mask_token is None and its "
        "config sets no mask_token_id. Pass a tokenizer that defines a mask token "
        "(tokenizer=...), or use a masked language model such as BERT, RoBERTa or ModernBERT"
    )
