"""CallableTarget: a plain Python function as the target model, for users' own systems."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ConfigError
from ._base import TARGETS, Response, Target
from ._cache import ResponseCache

logger = logging.getLogger(__name__)

LoglikelihoodResult = float | tuple[float, int]


@TARGETS.register("callable")
class CallableTarget(Target):
    """Wrap a Python callable as a target: a RAG pipeline, an agent, an API client of your own.

    Args:
        function: ``function(prompt) -> str``, or with ``batched=True``
            ``function(prompts) -> list[str]`` with one text per prompt, in order.
        batched: Pass whole batches of prompts (and of log-likelihood requests) at once.
        name: The name in the cache key and in messages; defaults to the function's module and
            qualified name. Give two different systems different names when they share a cache.
        loglikelihood_function: Optional ``function(prompt, continuation)`` returning the
            continuation's summed log-probability as ``(logprob, num_tokens)``, or a bare float
            that counts as one token. With ``batched=True`` it takes a list of
            ``(prompt, continuation)`` pairs and returns a list of such results.
        cache: Where answers are kept between calls; ``None`` calls the function every time.

    An exception raised by the function becomes the failed prompt's ``Response.error`` (with
    ``batched=True``, the error of every prompt in the batch) and is logged with its type. It is
    never turned into text, so scorers raise :class:`~promptfill.errors.ScorerError` for it.
    """

    name = "callable"

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        batched: bool = False,
        name: str | None = None,
        loglikelihood_function: Callable[..., Any] | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        super().__init__(cache=cache)
        if not callable(function):
            raise ConfigError(f"function={function!r} is not callable; pass a function prompt -> str")
        if loglikelihood_function is not None and not callable(loglikelihood_function):
            raise ConfigError(
                f"loglikelihood_function={loglikelihood_function!r} is not callable; pass a function "
                "(prompt, continuation) -> (logprob, num_tokens), or None"
            )
        self.function = function
        self.batched = bool(batched)
        self.loglikelihood_function = loglikelihood_function
        self.supports_loglikelihood = loglikelihood_function is not None
        self.label = name or _qualified_name(function)

    def identity(self) -> dict[str, Any]:
        """Return the function's name and whether it is batched."""
        return {"function": self.label, "batched": self.batched}

    def _generate(self, prompts: Sequence[str]) -> list[Response]:
        if self.batched:
            outputs = self._call_batch(self.function, list(prompts), "function")
            if isinstance(outputs, Response):
                return [outputs] * len(prompts)
            return [_text_response(output) for output in outputs]
        responses = []
        for prompt in prompts:
            output = self._call_one(self.function, (prompt,), "function")
            responses.append(output if isinstance(output, Response) else _text_response(output))
        return responses

    def _loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[Response]:
        if self.loglikelihood_function is None:
            return super()._loglikelihood(requests)
        if self.batched:
            outputs = self._call_batch(self.loglikelihood_function, list(requests), "loglikelihood_function")
            if isinstance(outputs, Response):
                return [outputs] * len(requests)
            return [_logprob_response(output) for output in outputs]
        responses = []
        for prompt, continuation in requests:
            output = self._call_one(self.loglikelihood_function, (prompt, continuation), "loglikelihood_function")
            responses.append(output if isinstance(output, Response) else _logprob_response(output))
        return responses

    def _call_one(self, function: Callable[..., Any], arguments: tuple[Any, ...], role: str) -> Any:
        """Call ``function``; return its output, or a failed Response when it raised."""
        try:
            return function(*arguments)
        except Exception as error:  # a user system may raise anything; the prompt fails, the run goes on
            return self._failure(error, role)

    def _call_batch(self, function: Callable[..., Any], batch: list[Any], role: str) -> list[Any] | Response:
        output = self._call_one(function, (batch,), role)
        if isinstance(output, Response):
            return output
        if isinstance(output, (str, bytes)) or not isinstance(output, Sequence) or len(output) != len(batch):
            raise ConfigError(
                f"{role} of target {self.label!r} is batched, so it must return a list with one result per "
                f"input ({len(batch)}), but it returned {_short(output)}; return a list, or set batched=False"
            )
        return list(output)

    def _failure(self, error: Exception, role: str) -> Response:
        logger.warning("%s of target %r raised %s: %s", role, self.label, type(error).__name__, error)
        return Response(error=f"{type(error).__name__}: {error}")


def _text_response(output: Any) -> Response:
    if not isinstance(output, str):
        return Response(error=f"the function returned {type(output).__name__} {_short(output)}, not a str")
    return Response(text=output)


def _logprob_response(output: Any) -> Response:
    """Turn ``(logprob, num_tokens)`` or a bare float into a Response; anything else fails."""
    if isinstance(output, tuple) and len(output) == 2:
        logprob, num_tokens = output
    else:
        logprob, num_tokens = output, 1
    valid_logprob = isinstance(logprob, (int, float)) and not isinstance(logprob, bool) and not math.isnan(logprob)
    valid_count = isinstance(num_tokens, int) and not isinstance(num_tokens, bool) and num_tokens >= 1
    if not (valid_logprob and valid_count):
        return Response(
            error=f"the loglikelihood function returned {_short(output)}; return (logprob: float, num_tokens: int >= 1) "
            "or a float"
        )
    return Response(logprob=float(logprob), num_tokens=num_tokens)


def _qualified_name(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None) or ""
    name = getattr(function, "__qualname__", None) or type(function).__qualname__
    return f"{module}.{name}" if module else name


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
