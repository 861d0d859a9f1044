"""MaskedLMBackend: one interface over Hugging Face masked LMs and masked diffusion LMs."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Sequence
from typing import Any

import torch

from ._kinds import BackendKind, KindChoice, detect_kind, find_mask_token_id, validate_kind

logger = logging.getLogger(__name__)

# Tokenizers store "no limit" as a huge sentinel (int(1e30) in transformers), so a larger
# model_max_length is treated as unset.
_MAX_SANE_LENGTH = 1_000_000
_DEFAULT_MAX_LENGTH = 512
# Config fields that store the longest input, by model family: BERT-likes and Dream
# (max_position_embeddings), LLaDA (max_sequence_length), MDLM (model_length), GPT-2 (n_positions).
_CONFIG_LENGTH_FIELDS = ("max_position_embeddings", "max_sequence_length", "model_length", "n_positions")
_WORDPIECE_UNUSED = re.compile(r"^\[unused\d+\]$")
# Any text without special tokens, used to find the tokens a tokenizer adds around a sequence.
_PROBE_TEXT = "hello"


class MaskedLMBackend:
    """Wrap a masked LM or masked diffusion LM and its tokenizer for infilling.

    Build one with :func:`promptfill.backends.load_backend` or :meth:`from_model`.

    Attributes:
        model: The Hugging Face model, in eval mode.
        tokenizer: Its tokenizer.
        kind: The model family, which decides logit alignment and special tokens.
        name: The checkpoint name or path, used in messages.
        mask_token_id: The id written into hole positions.
        max_length: The maximum number of tokens in one context.
        device: Where the model's parameters are.
        dtype: The model's floating point type.
        forbidden_token_ids: ``[F]`` ids never allowed inside a hole. They are every special
            token (pad, cls, sep, bos, eos, unk, mask and added special tokens), the
            ``[unusedN]`` placeholders of WordPiece vocabularies, and the output ids past the
            tokenizer's vocabulary, which only pad the embedding matrix.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        kind: BackendKind,
        mask_token_id: int,
        name: str | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.kind: BackendKind = kind
        self.name = name or type(model).__name__
        self.mask_token_id = int(mask_token_id)
        self.max_length = _max_length(tokenizer, model.config)
        first_parameter = next(model.parameters())
        self.device: torch.device = first_parameter.device
        self.dtype: torch.dtype = first_parameter.dtype
        self.vocab_size = int(getattr(model.config, "vocab_size", None) or len(tokenizer))
        self.forbidden_token_ids = self._find_forbidden_token_ids()
        self._prefix_ids, self._suffix_ids = self._find_wrapping()
        self._separator_ids = self._find_separator()
        self._forward_parameters = set(inspect.signature(model.forward).parameters)
        self._warned_no_attention_mask = False

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, kind: KindChoice = "auto") -> MaskedLMBackend:
        """Build a backend around an in-memory model and tokenizer.

        Args:
            model: A Hugging Face model whose forward returns logits ``[B, L, V]``.
            tokenizer: Its tokenizer.
            kind: The model family, or ``"auto"`` to detect it from ``model.config`` and the
                model's class.

        Raises:
            UnsupportedModelError: For a causal LM or a model of unknown kind with ``kind="auto"``.
            MaskTokenNotFoundError: If neither tokenizer nor config defines a mask token.
        """
        kind = validate_kind(kind)
        config = model.config
        name = getattr(config, "name_or_path", None) or type(model).__name__
        if kind == "auto":
            architectures = [type(model).__name__, *(getattr(config, "architectures", None) or [])]
            kind = detect_kind(getattr(config, "model_type", None), architectures, name=name)
        mask_token_id = find_mask_token_id(tokenizer, config, kind, name=name)
        return cls(model, tokenizer, kind=kind, mask_token_id=mask_token_id, name=name)

    # --- tokens ---------------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        """Tokenize ``text`` without adding special tokens."""
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """Detokenize ``ids``, skipping special tokens and stripping outer whitespace."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        text = self.tokenizer.decode(list(ids), skip_special_tokens=True, clean_up_tokenization_spaces=True)
        return text.strip()

    def wrap(self, ids: Sequence[int]) -> list[int]:
        """Add the model's special tokens around one context (``[CLS] ... [SEP]`` for BERT)."""
        return [*self._prefix_ids, *ids, *self._suffix_ids]

    @property
    def separator_ids(self) -> list[int]:
        """Ids placed between concatenated copies: ``[SEP]`` for masked LMs, else a newline."""
        return list(self._separator_ids)

    @property
    def pad_token_id(self) -> int:
        """Id that right-pads contexts; pad positions are excluded by the attention mask."""
        for token_id in (self.tokenizer.pad_token_id, self.tokenizer.eos_token_id):
            if token_id is not None:
                return int(token_id)
        return self.mask_token_id

    # --- model ----------------------------------------------------------------------------

    @torch.inference_mode()
    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Run the model and return logits aligned so that ``logits[:, i]`` predicts token ``i``.

        Args:
            input_ids: ``[B, L]`` token ids.
            attention_mask: ``[B, L]``, 1 for real tokens and 0 for right padding.

        Returns:
            ``[B, L, V]`` logits in the model's dtype, on the model's device.
        """
        input_ids = input_ids.to(self.device)
        attention_mask = attention_mask.to(self.device)
        output = self.model(input_ids=input_ids, **self._forward_kwargs(input_ids, attention_mask))
        logits = _output_logits(output)

        # Dream is adapted from an autoregressive model and keeps its alignment: the logits at
        # position i predict token i + 1. Shift right by one so that position i predicts token i.
        if self.kind == "dream":
            logits = torch.cat([logits[:, :1], logits[:, :-1]], dim=1)
        return logits

    def _forward_kwargs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        has_padding = bool((attention_mask == 0).any())
        if "attention_mask" in self._forward_parameters:
            if self.kind != "dream":
                kwargs["attention_mask"] = attention_mask
            elif has_padding:
                kwargs["attention_mask"] = _dream_attention_mask(attention_mask)
        elif has_padding and not self._warned_no_attention_mask:
            self._warned_no_attention_mask = True
            logger.warning(
                "%s takes no attention_mask, so tokens of padded contexts also attend to padding; "
                "use layout='concat' or examples of equal length to avoid padding",
                self.name,
            )
        # MDLM's forward takes a diffusion time, which its backbone zeroes unless
        # config.time_conditioning is set. NOTE: a time-conditioned MDLM would want the current
        # mask ratio here; zeros are untested with one.
        if "timesteps" in self._forward_parameters:
            kwargs["timesteps"] = torch.zeros(input_ids.shape[0], device=self.device)
        return kwargs

    # --- setup helpers --------------------------------------------------------------------

    def _find_forbidden_token_ids(self) -> torch.Tensor:
        tokenizer = self.tokenizer
        forbidden = {self.mask_token_id, *(int(i) for i in tokenizer.all_special_ids)}
        added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
        forbidden.update(int(i) for i, token in added.items() if getattr(token, "special", False))
        forbidden.update(
            int(i) for token, i in tokenizer.get_vocab().items() if _WORDPIECE_UNUSED.match(token)
        )
        forbidden.update(range(len(tokenizer), self.vocab_size))
        forbidden = {i for i in forbidden if 0 <= i < self.vocab_size}
        return torch.tensor(sorted(forbidden), dtype=torch.long, device=self.device)

    def _find_wrapping(self) -> tuple[list[int], list[int]]:
        plain = self.encode(_PROBE_TEXT)
        wrapped = list(self.tokenizer(_PROBE_TEXT, add_special_tokens=True)["input_ids"])
        prefix: list[int] = []
        suffix: list[int] = []
        for start in range(len(wrapped) - len(plain) + 1):
            if wrapped[start : start + len(plain)] == plain:
                prefix, suffix = wrapped[:start], wrapped[start + len(plain) :]
                break
        else:
            logger.warning(
                "cannot tell which special tokens the tokenizer of %s adds around a sequence "
                "(%r becomes %r); contexts are built without special tokens",
                self.name, plain, wrapped,
            )
        # Put a BOS token first for LLaDA and Dream when the tokenizer adds none. LLaDA's chat
        # prompts start with one, and for Dream it keeps hole tokens off position 0, which the
        # shifted logits cannot predict.
        bos_token_id = self.tokenizer.bos_token_id
        if self.kind in ("llada", "dream") and not prefix and bos_token_id is not None:
            prefix = [int(bos_token_id)]
        return prefix, suffix

    def _find_separator(self) -> list[int]:
        sep_token_id = self.tokenizer.sep_token_id
        if self.kind == "masked_lm" and sep_token_id is not None:
            return [int(sep_token_id)]
        newline = self.encode("\n")
        if newline:
            return newline
        # WordPiece-style tokenizers drop whitespace, so fall back to a special token.
        for token_id in (sep_token_id, self.tokenizer.eos_token_id):
            if token_id is not None:
                return [int(token_id)]
        return []

    def __repr__(self) -> str:
        return (
            f"MaskedLMBackend(name={self.name!r}, kind={self.kind!r}, device={str(self.device)!r}, "
            f"dtype={self.dtype}, max_length={self.max_length})"
        )


def _max_length(tokenizer: Any, config: Any) -> int:
    """Return the smallest positive context length that the tokenizer or config states."""
    lengths = []
    model_max_length = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max_length, int) and 0 < model_max_length <= _MAX_SANE_LENGTH:
        lengths.append(model_max_length)
    for field in _CONFIG_LENGTH_FIELDS:
        value = getattr(config, field, None)
        if isinstance(value, int) and value > 0:
            lengths.append(value)
            break
    return min(lengths) if lengths else _DEFAULT_MAX_LENGTH


def _output_logits(output: Any) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    logits = getattr(output, "logits", None)
    if logits is not None:
        return logits
    return output[0]


def _dream_attention_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Expand a ``[B, L]`` padding mask into the ``[B, 1, L, L]`` boolean mask Dream expects.

    Real tokens attend to real tokens only. Padding rows attend everywhere, so that no row is
    fully masked: scaled_dot_product_attention returns NaN for such a row, and the NaN would
    then reach real tokens through the next layer's keys and values.
    """
    real = attention_mask.bool()
    return real[:, None, None, :] | ~real[:, None, :, None]
