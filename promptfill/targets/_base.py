"""The target model interface: the model a candidate prompt is validated against.

A target answers two kinds of request: generation (the text it writes after a prompt) and
log-likelihood (how probable a given continuation is after a prompt). Subclasses implement
:meth:`Target._generate` and, where the model exposes probabilities, :meth:`Target._loglikelihood`.
The public :meth:`Target.generate` and :meth:`Target.loglikelihood` add the response cache and
the call accounting, so every target gets both for free.

Targets register by name in :data:`TARGETS`; third-party packages add theirs through the
``promptfill.targets`` entry point group.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .._registry import Registry
from ..errors import ConfigError
from ._cache import ResponseCache

logger = logging.getLogger(__name__)

RequestKind = Literal["generate", "loglikelihood"]


class Response(BaseModel):
    """A target's answer to one request, or why there is none.

    Exactly one of ``text`` (generation), ``logprob`` (log-likelihood) and ``error`` is the
    payload. A response with ``error`` set is never cached and never scored.
    """

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="Generated text, for a generation request.")
    logprob: float | None = Field(None, description="Sum of the continuation's token log-probabilities (natural log).")
    num_tokens: int | None = Field(None, description="Tokens in the continuation, for per-token normalisation.")
    error: str | None = Field(None, description="Why the request failed after all retries; the example is then unscored.")
    prompt_tokens: int = Field(0, description="Prompt tokens billed, when the target reports them.")
    completion_tokens: int = Field(0, description="Completion tokens billed, when the target reports them.")
    cached: bool = Field(False, description="True when the answer came from the cache, not the model.")

    @property
    def ok(self) -> bool:
        """True when the request succeeded."""
        return self.error is None


class TargetStats(BaseModel):
    """Running totals of one target's calls; read them to size budgets and costs."""

    model_config = ConfigDict(extra="forbid")

    requests: int = Field(0, description="Requests answered by the model (not the cache), including failed ones.")
    cache_hits: int = Field(0, description="Requests answered from the cache.")
    failures: int = Field(0, description="Requests that failed after all retries.")
    retries: int = Field(0, description="Extra attempts spent on retryable faults (429, 5xx, timeouts).")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = Field(0.0, description="Estimated spend, in the currency of the target's prices.")
    seconds: float = Field(0.0, description="Wall time spent waiting for the model.")


class Target(ABC):
    """Base class of target models.

    Args:
        cache: Where answers are kept between calls and runs; ``None`` sends every request.

    Subclasses set ``name`` (the registry name) and implement :meth:`identity` and
    :meth:`_generate`; :meth:`_loglikelihood` when the model exposes probabilities.
    """

    name: str = "target"
    supports_loglikelihood: bool = False

    def __init__(self, cache: ResponseCache | None = None) -> None:
        self.cache = cache
        self.stats = TargetStats()
        self._stats_lock = threading.Lock()

    @abstractmethod
    def identity(self) -> dict[str, Any]:
        """Return every setting that changes the target's answers (model, decoding, seed).

        The cache key includes this mapping, so two targets that could answer differently never
        share cache entries. Secrets such as API keys must not appear here.
        """

    @abstractmethod
    def _generate(self, prompts: Sequence[str]) -> list[Response]:
        """Generate one completion per prompt; a failed prompt gets a Response with ``error``."""

    def _loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[Response]:
        """Score each ``(prompt, continuation)`` pair; overridden by targets that can."""
        raise ConfigError(
            f"target {self.name!r} cannot compute log-likelihoods; use a generation scorer "
            "(exact_match, f1, numeric, embedding) or a target with log-probabilities"
        )

    def generate(self, prompts: Sequence[str]) -> list[Response]:
        """Return one completion per prompt, from the cache where it has one."""
        return self._run("generate", [(p, None) for p in prompts], lambda todo: self._generate([p for p, _ in todo]))

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[Response]:
        """Return the log-probability of each continuation after its prompt."""
        if not self.supports_loglikelihood:
            self._loglikelihood(requests)  # raises the explanatory ConfigError
        return self._run("loglikelihood", list(requests), lambda todo: self._loglikelihood(todo))

    def cache_key(self, kind: RequestKind, prompt: str, continuation: str | None) -> str:
        """Return the cache key of one request: a hash of the target identity and the request."""
        payload = {"target": self.name, "identity": self.identity(), "kind": kind, "prompt": prompt, "continuation": continuation}
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _run(self, kind: RequestKind, requests: list[tuple[str, str | None]], call: Callable[[list], list[Response]]) -> list[Response]:
        results: list[Response | None] = [None] * len(requests)
        keys = [self.cache_key(kind, prompt, continuation) for prompt, continuation in requests]
        todo: list[int] = []
        first_index: dict[str, int] = {}
        duplicates: list[tuple[int, int]] = []
        for index, key in enumerate(keys):
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None:
                results[index] = hit.model_copy(update={"cached": True})
                with self._stats_lock:
                    self.stats.cache_hits += 1
            elif key in first_index:
                duplicates.append((index, first_index[key]))  # the same request twice in one batch
            else:
                first_index[key] = index
                todo.append(index)
        if todo:
            started = time.perf_counter()
            try:
                answers = call([requests[i] for i in todo])
            except Exception:
                # A target may give up on a whole batch (every connection refused); the calls
                # still count as made and failed.
                with self._stats_lock:
                    self.stats.seconds += time.perf_counter() - started
                    self.stats.requests += len(todo)
                    self.stats.failures += len(todo)
                raise
            if len(answers) != len(todo):
                raise RuntimeError(f"target {self.name!r} returned {len(answers)} responses for {len(todo)} requests")
            with self._stats_lock:
                self.stats.seconds += time.perf_counter() - started
                self.stats.requests += len(todo)
            for index, answer in zip(todo, answers):
                results[index] = answer
                with self._stats_lock:
                    self.stats.prompt_tokens += answer.prompt_tokens
                    self.stats.completion_tokens += answer.completion_tokens
                    if not answer.ok:
                        self.stats.failures += 1
                if answer.ok and self.cache is not None:
                    self.cache.put(keys[index], answer)
        for index, source in duplicates:
            results[index] = results[source]
        return [r for r in results if r is not None]

    def close(self) -> None:
        """Release connections or models; the default does nothing."""


TARGETS: Registry[Target] = Registry("target", entry_point_group="promptfill.targets")


def resolve_target(target: Target | str | Callable[..., Any] | None, **settings: Any) -> Target | None:
    """Turn a target argument (instance, registered name or callable) into a :class:`Target`."""
    if target is None or isinstance(target, Target):
        return target
    if isinstance(target, str):
        return TARGETS.create(target, **settings)
    if callable(target):
        return TARGETS.create("callable", function=target, **settings)
    raise ConfigError(
        f"target={target!r} is invalid; pass a Target, a registered target name "
        f"({', '.join(TARGETS.names())}) or a callable prompts -> texts"
    )
