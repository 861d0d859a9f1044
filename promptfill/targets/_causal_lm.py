"""CausalLMTarget: a local Hugging Face causal LM (GPT-2, Llama, Qwen...) as the target model."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError, ConfigError, UnsupportedModelError
from ._base import TARGETS, Response, Target
from ._cache import ResponseCache

logger = logging.getLogger(__name__)

_CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")
_MASKED_SUFFIXES = ("ForMaskedLM",)


@TARGETS.register("causal_lm")
class CausalLMTarget(Target):
    """Validate prompts against a local causal LM loaded with ``AutoModelForCausalLM``.

    Generation is greedy (no sampling), so answers are deterministic and cacheable, and stops
    at the EOS token or after ``max_new_tokens``. Batches are left-padded, so every prompt ends
    right where its generation starts.

    Log-likelihood is teacher forcing: the sum of ``log p(token)`` over the continuation's tokens,
    each predicted from the prompt and the continuation tokens before it. The prompt and the
    continuation are tokenized separately and their ids concatenated, so the continuation's
    tokens are exactly its own and never merge with the prompt's last token. Trailing
    whitespace of the prompt moves to the front of the continuation first, because BPE
    tokenizers attach a space to the word after it (``"Answer:" + " yes"``, not
    ``"Answer: " + "yes"``).

    Args:
        model: A local checkpoint directory (or a Hub name when online) of a causal LM.
        device: ``"cuda"``, ``"mps"`` or ``"cpu"``; defaults to the first available.
        dtype: ``"float32"``, ``"bfloat16"``, ``"float16"`` or ``"auto"``; ``None`` gives
            bfloat16 on a CUDA device that supports it, else float32.
        max_new_tokens: The longest answer, in tokens. 64 covers a sentence or a short worked
            answer; raise it for reasoning tasks.
        batch_size: Prompts per forward pass. 8 keeps memory small on a CPU.
        chat_template: Wrap each prompt as one user message with the tokenizer's chat template
            (and the generation prompt), for instruction-tuned checkpoints.
        trust_remote_code: Run modeling code shipped with the checkpoint.
        cache: Where answers are kept between calls; ``None`` sends every request to the model.

    Raises:
        CheckpointError: ``model`` is not a loadable checkpoint.
        UnsupportedModelError: ``model`` is a masked LM or another model that is not a causal LM.
        ConfigError: An invalid setting, or ``chat_template=True`` for a tokenizer without one.
    """

    name = "causal_lm"
    supports_loglikelihood = True

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        device: str | None = None,
        dtype: str | torch.dtype | None = None,
        max_new_tokens: int = 64,
        batch_size: int = 8,
        chat_template: bool = False,
        trust_remote_code: bool = False,
        cache: ResponseCache | None = None,
    ) -> None:
        super().__init__(cache=cache)
        for setting, value in (("max_new_tokens", max_new_tokens), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{setting}={value!r} is invalid; pass an integer >= 1")
        self.model_name = os.fspath(model)
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.chat_template = bool(chat_template)
        self.model, self.tokenizer = _load_causal_lm(self.model_name, device, dtype, trust_remote_code)
        self.device = next(self.model.parameters()).device
        self.dtype = str(self.model.dtype)
        if self.chat_template and not getattr(self.tokenizer, "chat_template", None):
            raise ConfigError(
                f"chat_template=True, but the tokenizer of {self.model_name!r} has no chat template; "
                "pass chat_template=False to send prompts as plain text"
            )
        # A causal LM often has no pad token; padding positions are masked out, so EOS can stand in.
        self.pad_token_id = _first_id(self.tokenizer.pad_token_id, self.tokenizer.eos_token_id, default=0)
        self.max_length = _context_length(self.model.config)

    def identity(self) -> dict[str, Any]:
        """Return the checkpoint, dtype and decoding settings.

        NOTE: a local checkpoint is identified by its path, so weights retrained in place share
        cache entries with the earlier ones; clear the cache after retraining.
        """
        path = Path(self.model_name).expanduser()
        model = str(path.resolve()) if path.exists() else self.model_name
        return {
            "model": model,
            "dtype": self.dtype,
            "max_new_tokens": self.max_new_tokens,
            "chat_template": self.chat_template,
            "decoding": "greedy",
        }

    def close(self) -> None:
        """Drop the model so that its memory can be freed."""
        self.model = None

    # --- tokens -----------------------------------------------------------------------------

    def _prompt_ids(self, prompt: str) -> list[int]:
        """Tokenize a prompt as the model receives it (chat template and BOS included)."""
        if self.chat_template:
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
            return list(self.tokenizer.encode(text, add_special_tokens=False))
        return list(self.tokenizer.encode(prompt, add_special_tokens=True))

    # --- generation -------------------------------------------------------------------------

    def _generate(self, prompts: Sequence[str]) -> list[Response]:
        responses: list[Response] = []
        for start in range(0, len(prompts), self.batch_size):
            responses.extend(self._generate_batch(list(prompts[start : start + self.batch_size])))
        return responses

    def _generate_batch(self, prompts: list[str]) -> list[Response]:
        encoded = [self._prompt_ids(prompt) for prompt in prompts]
        results: list[Response | None] = [None] * len(prompts)
        rows = []
        for index, ids in enumerate(encoded):
            if not ids:
                results[index] = Response(error="the prompt is empty and the tokenizer adds no BOS token to start from")
            elif len(ids) + self.max_new_tokens > self.max_length:
                results[index] = Response(error=(
                    f"the prompt is {len(ids)} tokens, and with max_new_tokens={self.max_new_tokens} it exceeds "
                    f"the {self.max_length}-token context of {self.model_name!r}; shorten the prompt or lower max_new_tokens"
                ))
            else:
                rows.append(index)
        if rows:
            for index, response in zip(rows, self._run_generate([encoded[i] for i in rows])):
                results[index] = response
        return [r for r in results if r is not None]

    @torch.inference_mode()
    def _run_generate(self, encoded: list[list[int]]) -> list[Response]:
        # Left padding: every prompt's last token sits in the last column, where generation starts.
        width = max(len(ids) for ids in encoded)
        input_ids = torch.full((len(encoded), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, ids in enumerate(encoded):
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, width - len(ids) :] = 1
        output = self.model.generate(
            input_ids=input_ids.to(self.device),
            attention_mask=attention_mask.to(self.device),
            max_new_tokens=self.max_new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=self.pad_token_id,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        new_tokens = output[:, width:].tolist()  # [B, T] generated ids, padded after EOS
        eos = self.tokenizer.eos_token_id
        responses = []
        for ids, row in zip(encoded, new_tokens):
            end = row.index(eos) if eos is not None and eos in row else len(row)
            text = self.tokenizer.decode(row[:end], skip_special_tokens=True).strip()
            responses.append(Response(text=text, prompt_tokens=len(ids), completion_tokens=end))
        return responses

    # --- log-likelihood ---------------------------------------------------------------------

    def _loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[Response]:
        results: list[Response | None] = [None] * len(requests)
        ready: list[tuple[int, list[int], list[int]]] = []
        for index, (prompt, continuation) in enumerate(requests):
            prepared = self._split_request(prompt, continuation)
            if isinstance(prepared, Response):
                results[index] = prepared
            else:
                ready.append((index, *prepared))
        for start in range(0, len(ready), self.batch_size):
            batch = ready[start : start + self.batch_size]
            for (index, _, _), response in zip(batch, self._score_batch(batch)):
                results[index] = response
        return [r for r in results if r is not None]

    def _split_request(self, prompt: str, continuation: str) -> Response | tuple[list[int], list[int]]:
        """Return ``(prompt_ids, continuation_ids)``, or a failed Response saying why not."""
        stripped = prompt.rstrip()
        continuation = prompt[len(stripped) :] + continuation
        prompt_ids = self._prompt_ids(stripped)
        continuation_ids = list(self.tokenizer.encode(continuation, add_special_tokens=False))
        if not continuation_ids:
            return Response(error=f"continuation {continuation!r} has no tokens to score")
        if not prompt_ids:
            # The first continuation token needs a token before it to be predicted from.
            start = _first_id(self.tokenizer.bos_token_id, self.tokenizer.eos_token_id, default=None)
            if start is None:
                return Response(error="the prompt is empty and the tokenizer has no BOS or EOS token to start from")
            prompt_ids = [start]
        if len(prompt_ids) + len(continuation_ids) > self.max_length:
            return Response(error=(
                f"prompt and continuation are {len(prompt_ids) + len(continuation_ids)} tokens, but "
                f"{self.model_name!r} accepts at most {self.max_length}; shorten the prompt or the dev example"
            ))
        return prompt_ids, continuation_ids

    @torch.inference_mode()
    def _score_batch(self, batch: list[tuple[int, list[int], list[int]]]) -> list[Response]:
        sequences = [prompt_ids + continuation_ids for _, prompt_ids, continuation_ids in batch]
        width = max(len(ids) for ids in sequences)
        input_ids = torch.full((len(batch), width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, ids in enumerate(sequences):
            input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, : len(ids)] = 1
        logits = self.model(input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device)).logits  # [B, L, V]

        responses = []
        for row, (_, prompt_ids, continuation_ids) in enumerate(batch):
            # Position i - 1 predicts token i, so the continuation's tokens at positions
            # [P, P + C) are read from the logits at [P - 1, P + C - 1).
            start = len(prompt_ids)
            predicted = logits[row, start - 1 : start - 1 + len(continuation_ids)].float().log_softmax(dim=-1)  # [C, V]
            targets = torch.tensor(continuation_ids, device=predicted.device)
            logprob = predicted.gather(-1, targets.unsqueeze(-1)).sum()
            responses.append(Response(logprob=float(logprob), num_tokens=len(continuation_ids), prompt_tokens=start))
        return responses


def _load_causal_lm(name: str, device: Any, dtype: Any, trust_remote_code: bool) -> tuple[Any, Any]:
    """Load model and tokenizer, after checking from config.json alone that it is a causal LM."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from ..backends import resolve_device, resolve_dtype
    from ..backends._loading import _read_config_dict

    config_dict = _read_config_dict(name)  # raises CheckpointError for a path that is no checkpoint
    _check_causal(name, config_dict)
    resolved_device = resolve_device(device)
    remote_kwargs = {"trust_remote_code": True} if trust_remote_code else {}
    try:
        config = AutoConfig.from_pretrained(name, **remote_kwargs)
        tokenizer = AutoTokenizer.from_pretrained(name, **remote_kwargs)
        model = AutoModelForCausalLM.from_pretrained(
            name, config=config, dtype=resolve_dtype(dtype, resolved_device), **remote_kwargs
        )
    except (OSError, ValueError) as error:
        raise CheckpointError(
            f"cannot load causal LM {name!r}: {str(error).rstrip('.')}; expected a directory written by "
            "save_pretrained with config.json, weights and tokenizer files"
        ) from error
    model.to(resolved_device).eval()
    logger.info("loaded causal LM %s on %s (%s)", name, resolved_device, model.dtype)
    return model, tokenizer


def _check_causal(name: str, config_dict: dict[str, Any]) -> None:
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    architectures = list(config_dict.get("architectures") or [])
    model_type = config_dict.get("model_type")
    if any(arch.endswith(_CAUSAL_SUFFIXES) for arch in architectures):
        return
    masked = [arch for arch in architectures if arch.endswith(_MASKED_SUFFIXES)]
    if masked:
        raise UnsupportedModelError(
            f"{name!r} is a masked LM ({masked[0]}), not a causal LM; use it as the target with "
            "target='dlm' (DiffusionTarget), or pass a causal LM checkpoint to 'causal_lm'"
        )
    if model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and "AutoModelForCausalLM" not in (config_dict.get("auto_map") or {}):
        raise UnsupportedModelError(
            f"{name!r} (model_type={model_type!r}, architectures={architectures}) has no causal LM class "
            "in transformers; pass a causal LM checkpoint such as GPT-2, Llama or Qwen"
        )


def _context_length(config: Any) -> int:
    for field in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        value = getattr(config, field, None)
        if isinstance(value, int) and value > 0:
            return value
    # NOTE: a config with no length field is assumed to accept 2048 tokens, a common size.
    return 2048


def _first_id(*candidates: int | None, default: int | None) -> int | None:
    return next((int(c) for c in candidates if c is not None), default)
