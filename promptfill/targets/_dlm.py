"""DiffusionTarget: the infiller's own masked (diffusion) LM, answering by filling response positions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch

from ..errors import ConfigError, ContextLengthError
from ..sampling import Canvas, SamplerConfig, build_canvas
from ..templates import RenderedCopy
from ._base import TARGETS, Response, Target
from ._cache import ResponseCache
from ._rowwise import RowwiseDecoder, make_generators, stack_rows

logger = logging.getLogger(__name__)


@TARGETS.register("dlm")
class DiffusionTarget(Target):
    """Answer prompts with a masked LM or masked diffusion LM by unmasking the response positions.

    Each request becomes the context ``prompt <separator> response <closing tokens>``, the layout
    of full-sequence masking SFT (``[CLS] prompt [SEP] response [SEP]`` for BERT-style models),
    with the response written as mask tokens.

    Generation fills ``max_tokens`` mask tokens by masked-diffusion decoding and keeps the text
    before the first end-of-answer token (``[SEP]``, EOS or padding, which the model learned to
    write after a response). Prompts are decoded ``batch_size`` at a time, right-padded, with one
    forward pass per step for the whole batch. Each row commits its own tokens by the schedule
    and remasking rule of :class:`~promptfill.sampling.MaskedDiffusionSampler`, so a greedy
    answer is the one the sampler gives for that prompt alone. Decoding is greedy by default,
    so the same prompt always gets the same answer and the cache can serve it. With
    ``temperature`` > 0 or random remasking, each prompt draws from its own generator, seeded
    from ``seed`` and the prompt text, so its answer does not depend on the rest of the batch.

    Log-likelihood masks every continuation token at once and sums ``log p(token)`` at those
    positions, given the prompt and the continuation's length. This all-masked score is an
    approximation: the exact likelihood of a masked diffusion LM is a bound averaged over masking
    orders, which needs many passes. The all-masked score takes one forward pass for a whole batch
    of requests and is deterministic.

    Args:
        backend: A loaded :class:`~promptfill.backends.MaskedLMBackend`, such as
            ``infiller.backend``. When given, ``model``, ``device``, ``dtype`` and
            ``trust_remote_code`` are ignored.
        model: A checkpoint path or Hub name to load when ``backend`` is None; None loads the
            embedded model.
        max_tokens: Mask tokens in the response canvas, so the longest answer. 16 covers labels,
            numbers and short phrases; a larger canvas costs one forward pass per extra token at
            the default ``steps``.
        steps: Denoising steps per answer; None gives one per response token, the most accurate.
        remasking: Which masked response tokens to commit first (see ``SamplerConfig.remasking``).
        temperature: 0 decodes greedily, so answers are deterministic and cacheable.
        top_k: Sample among the k likeliest tokens; None keeps all.
        top_p: Nucleus sampling threshold; None keeps all.
        threshold: Also commit every token likelier than this at each step; None commits by the
            step schedule alone.
        seed: Seed of the random generators, used when ``temperature`` > 0 or remasking is
            random; each prompt's generator is seeded from it and the prompt. None draws fresh
            seeds.
        batch_size: Prompts (or log-likelihood requests) per forward pass. 8 keeps memory small
            on a CPU; raise it on a GPU.
        first_line: Cut each answer at its first newline. Off by default, because WordPiece
            tokenizers produce no newlines; turn it on for byte-level dLMs that keep writing
            after the answer.
        device: Device for a model loaded here.
        dtype: Floating point type for a model loaded here.
        trust_remote_code: Run modeling code shipped with a checkpoint loaded here.
        cache: Where answers are kept between calls; ``None`` sends every request to the model.

    Raises:
        ConfigError: For an invalid ``max_tokens``, ``batch_size`` or sampler setting.
    """

    name = "dlm"
    supports_loglikelihood = True

    def __init__(
        self,
        backend: Any = None,
        model: str | None = None,
        *,
        max_tokens: int = 16,
        steps: int | None = None,
        remasking: str = "low_confidence",
        temperature: float = 0.0,
        top_k: int | None = None,
        top_p: float | None = None,
        threshold: float | None = None,
        seed: int | None = 0,
        batch_size: int = 8,
        first_line: bool = False,
        device: str | None = None,
        dtype: str | None = None,
        trust_remote_code: bool = False,
        cache: ResponseCache | None = None,
    ) -> None:
        super().__init__(cache=cache)
        _check_positive("max_tokens", max_tokens)
        _check_positive("batch_size", batch_size)
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.first_line = bool(first_line)
        # One candidate per prompt, and each prompt decoded as its own row, so answers never
        # depend on which other prompts share a call (a requirement of caching).
        self.sampler_config = SamplerConfig(
            steps=steps, remasking=remasking, temperature=temperature, top_k=top_k, top_p=top_p,
            threshold=threshold, seed=seed, num_candidates=1, layout="batch",
        )
        self._decoder = RowwiseDecoder(self.sampler_config)
        self.backend = backend if backend is not None else _load(model, device, dtype, trust_remote_code)
        self._answer_backend = _AnswerBackend(self.backend)

    def identity(self) -> dict[str, Any]:
        """Return the model name, kind and dtype, the canvas length and the decoding settings.

        NOTE: the model is identified by name, so a checkpoint retrained in place under the same
        path shares cache entries with its earlier weights; clear the cache after retraining.
        """
        config = self.sampler_config
        return {
            "model": str(self.backend.name),
            "kind": self.backend.kind,
            "dtype": str(self.backend.dtype),
            "max_tokens": self.max_tokens,
            "first_line": self.first_line,
            "steps": config.steps,
            "remasking": config.remasking,
            "temperature": config.temperature,
            "top_k": config.top_k,
            "top_p": config.top_p,
            "threshold": config.threshold,
            "seed": config.seed,
        }

    # --- generation -------------------------------------------------------------------------

    def _generate(self, prompts: Sequence[str]) -> list[Response]:
        responses: list[Response | None] = [None] * len(prompts)
        ready: list[tuple[int, Canvas]] = []
        for index, prompt in enumerate(prompts):
            copy = RenderedCopy(prompt=(prompt,), answer=(0,))
            try:
                ready.append((index, build_canvas([copy], [self.max_tokens], self.backend, layout="batch")))
            except ContextLengthError as error:
                responses[index] = Response(error=str(error))
        # Batches of similar lengths need less padding. Every row is decoded on its own, so the
        # order changes no answer.
        ready.sort(key=lambda item: item[1].input_ids.shape[1])
        for start in range(0, len(ready), self.batch_size):
            batch = ready[start : start + self.batch_size]
            answers = self._generate_batch([prompts[index] for index, _ in batch], [canvas for _, canvas in batch])
            for (index, _), response in zip(batch, answers):
                responses[index] = response
        return [r for r in responses if r is not None]

    def _generate_batch(self, prompts: list[str], canvases: list[Canvas]) -> list[Response]:
        """Answer up to ``batch_size`` prompts with one forward pass per denoising step."""
        batch = stack_rows(canvases, self.backend.pad_token_id)
        generators = make_generators(self.sampler_config.seed, prompts, self.backend.device)
        tokens, forward_passes = self._decoder.decode(self._answer_backend, batch, generators)  # [B, S]
        logger.debug(
            "decoded %d prompts of up to %d tokens in %d forward passes",
            len(prompts), batch.input_ids.shape[1], forward_passes,
        )

        end_ids = self._answer_backend.end_token_ids
        responses = []
        for row, answer_ids in enumerate(tokens.tolist()):
            end = next((i for i, token in enumerate(answer_ids) if token in end_ids), len(answer_ids))
            text = self.backend.decode(answer_ids[:end])
            if self.first_line:
                text = text.split("\n", 1)[0].strip()
            prompt_tokens = int(batch.attention_mask[row].sum()) - self.max_tokens
            responses.append(Response(text=text, prompt_tokens=prompt_tokens, completion_tokens=end))
        return responses

    # --- log-likelihood ---------------------------------------------------------------------

    def _loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[Response]:
        responses: list[Response | None] = [None] * len(requests)
        ready: list[tuple[int, str, list[int]]] = []
        for index, (prompt, continuation) in enumerate(requests):
            error = self._check_request(prompt, continuation)
            if isinstance(error, Response):
                responses[index] = error
            else:
                ready.append((index, prompt, error))
        for start in range(0, len(ready), self.batch_size):
            batch = ready[start : start + self.batch_size]
            for (index, _, _), response in zip(batch, self._score_batch(batch)):
                responses[index] = response
        return [r for r in responses if r is not None]

    def _check_request(self, prompt: str, continuation: str) -> Response | list[int]:
        """Return the continuation's token ids, or a failed Response explaining why it cannot be scored."""
        # Answers are stripped in the canvas layout, as template answers are, so surrounding
        # whitespace does not change the tokens.
        continuation_ids = self.backend.encode(continuation.strip())
        if not continuation_ids:
            return Response(error=f"continuation {continuation!r} has no tokens to score")
        length = len(self.backend.wrap([
            *self.backend.encode(prompt), *self.backend.separator_ids, *continuation_ids,
        ]))
        if length > self.backend.max_length:
            return Response(
                error=f"prompt and continuation are {length} tokens, but {self.backend.name} accepts at most "
                f"{self.backend.max_length}; shorten the prompt or the dev example"
            )
        return continuation_ids

    def _score_batch(self, batch: list[tuple[int, str, list[int]]]) -> list[Response]:
        """Score a batch in one forward pass: request ``b`` is context row ``b`` and hole ``b``."""
        copies = [RenderedCopy(prompt=(prompt,), answer=(hole,)) for hole, (_, prompt, _) in enumerate(batch)]
        lengths = [len(ids) for _, _, ids in batch]
        canvas = build_canvas(copies, lengths, self.backend, layout="batch")

        logits = self.backend.logits(canvas.input_ids, canvas.attention_mask)  # [B, L, V]
        rows = canvas.occurrence_rows.to(logits.device)
        positions = canvas.occurrence_positions.to(logits.device)
        # float32 log-softmax over the full vocabulary: the model's own probability of each token.
        logprobs = logits[rows, positions].float().log_softmax(dim=-1)  # [K, V]
        slots = canvas.occurrence_slots.to(logits.device)  # [K]; each slot occurs once, in its own row
        targets = torch.tensor([token for _, _, ids in batch for token in ids], device=logits.device)  # [S]
        occurrence_logprobs = logprobs.gather(-1, targets[slots].unsqueeze(-1)).squeeze(-1)  # [K]
        token_logprobs = torch.zeros(canvas.num_slots, device=logits.device).index_add_(0, slots, occurrence_logprobs)  # [S]

        responses = []
        for hole, (_, _, ids) in enumerate(batch):
            hole_slots = canvas.hole_slots(hole)
            prompt_tokens = int(canvas.attention_mask[hole].sum()) - len(ids)
            responses.append(Response(
                logprob=float(token_logprobs[hole_slots.start : hole_slots.stop].sum()),
                num_tokens=len(ids),
                prompt_tokens=prompt_tokens,
            ))
        return responses


class _AnswerBackend:
    """The backend as the sampler sees it, with end-of-answer tokens allowed in the response.

    The backend forbids every special token inside a hole, but a response ends with ``[SEP]``
    (or EOS) in full-sequence masking SFT, and the positions after a short answer need it too.
    """

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.device = backend.device
        tokenizer = backend.tokenizer
        candidates = (tokenizer.sep_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id)
        self.end_token_ids = {int(token) for token in candidates if token is not None and token != backend.mask_token_id}
        forbidden = backend.forbidden_token_ids
        allowed = torch.tensor(sorted(self.end_token_ids), dtype=torch.long, device=forbidden.device)
        self.forbidden_token_ids = forbidden[~torch.isin(forbidden, allowed)]

    def logits(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.backend.logits(input_ids, attention_mask)


def _load(model: str | None, device: str | None, dtype: str | None, trust_remote_code: bool) -> Any:
    if model is None:
        from ..embedded import load_embedded_backend

        return load_embedded_backend(device=device, dtype=dtype)
    from ..backends import load_backend

    return load_backend(model, device=device, dtype=dtype, trust_remote_code=trust_remote_code)


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name}={value!r} is invalid; pass an integer >= 1")
