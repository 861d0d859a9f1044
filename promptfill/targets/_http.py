"""The OpenAI-compatible HTTP target: chat or completions endpoints of vLLM, Ollama, llama.cpp
server or a hosted API.

:class:`OpenAITarget` sends each prompt as one request from a thread pool of ``concurrency``
workers that share one ``httpx.Client`` connection pool. Requests that fail for a reason that
can pass (HTTP 408, 409, 429 and 5xx, timeouts, connection errors, malformed JSON) are retried
with jittered exponential backoff, or after the server's ``Retry-After`` when it sends one.
Other HTTP errors (400, 401, 403, 404, 422) fail at once with the server's message. A prompt
whose retries run out gets a :class:`~promptfill.targets.Response` with ``error`` set, and the
other prompts of the batch are unaffected.

The API key is read from an environment variable when the target is built. It is sent only in
the ``Authorization`` header, and it is removed from every error message and log line.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any, Literal

import tenacity
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import ConfigError, ScorerError
from ..sampling._config import config_error_from_validation
from ._base import TARGETS, Response, Target
from ._cache import ResponseCache

logger = logging.getLogger(__name__)

# 408 (request timeout) and 409 (conflict) report a transient server state, not a bad request,
# so they are retried with 429 and every 5xx status.
RETRYABLE_STATUS = frozenset({408, 409, 429})
# Payload keys the target sets itself; extra_body may not replace them.
RESERVED_KEYS = frozenset({"model", "messages", "prompt", "echo", "logprobs", "stream"})
ENDPOINTS = {"chat": "chat/completions", "completions": "completions"}


class OpenAISettings(BaseModel):
    """Settings of :class:`OpenAITarget`; invalid values raise :class:`ConfigError`."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="API root including the version path, such as http://127.0.0.1:8000/v1.")
    model: str = Field(min_length=1, description="Model name sent with every request, as the server lists it.")
    api_key_env: str | None = Field(
        "OPENAI_API_KEY",
        min_length=1,
        description="Environment variable holding the API key, read once at construction; None sends no key.",
    )
    mode: Literal["chat", "completions"] = Field(
        "chat",
        description="chat posts one user message to /chat/completions; completions posts the raw prompt "
        "to /completions, which log-likelihood scoring needs.",
    )
    max_tokens: int = Field(64, ge=1, description="Maximum tokens generated per prompt; 64 fits the short answers scorers grade.")
    temperature: float = Field(
        0.0, ge=0.0, le=2.0,
        description="Sampling temperature (OpenAI's range is 0-2); 0 makes answers near-deterministic, so "
        "scores compare prompts rather than sampling noise and cached answers stay valid.",
    )
    top_p: float | None = Field(None, gt=0.0, le=1.0, description="Nucleus sampling mass; None leaves the server default.")
    seed: int | None = Field(None, description="Sampling seed, for servers that support one; None leaves it unset.")
    stop: str | list[str] | None = Field(None, description="Stop string(s) that end generation.")
    timeout: float = Field(
        60.0, gt=0.0,
        description="Seconds allowed for each phase of one attempt (connect, send, each read); 60 covers a "
        "busy server's queue without hanging a run on a dead one.",
    )
    max_retries: int = Field(5, ge=0, description="Extra attempts per request after a retryable failure.")
    concurrency: int = Field(8, ge=1, description="Maximum requests in flight; 8 keeps a local server busy without flooding a hosted rate limit.")
    backoff: tuple[float, float] = Field(
        (0.5, 30.0),
        description="Initial and maximum wait between attempts, in seconds. The wait doubles per attempt "
        "plus up to `initial` of random jitter, and Retry-After is capped at the maximum.",
    )
    prompt_price: float = Field(0.0, ge=0.0, description="Price per 1M prompt tokens, for stats.cost.")
    completion_price: float = Field(0.0, ge=0.0, description="Price per 1M completion tokens, for stats.cost.")
    echo_max_tokens: Literal[0, 1] = Field(
        0,
        description="max_tokens of log-likelihood requests. 0 generates nothing; set 1 for servers that "
        "reject 0 with echo (vLLM releases from early 2024). The extra token is ignored.",
    )
    extra_body: dict[str, Any] = Field(default_factory=dict, description="Extra JSON fields merged into every request body.")

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url={value!r} is invalid: it must start with http:// or https://, such as http://127.0.0.1:8000/v1")
        for endpoint in ENDPOINTS.values():
            if url.endswith("/" + endpoint):
                raise ConfigError(
                    f"base_url={value!r} names an endpoint; give the API root without /{endpoint}, "
                    f"such as {url[: -len(endpoint) - 1]!r}"
                )
        return url

    @field_validator("extra_body")
    @classmethod
    def _check_extra_body(cls, value: dict[str, Any]) -> dict[str, Any]:
        clashes = sorted(RESERVED_KEYS & set(value))
        if clashes:
            raise ConfigError(f"extra_body sets {clashes}, which the target sets itself; remove them from extra_body")
        try:
            json.dumps(value)
        except (TypeError, ValueError) as error:
            raise ConfigError(f"extra_body={value!r} is invalid: it must be JSON-serialisable ({error})") from None
        return value

    @model_validator(mode="after")
    def _check_backoff(self) -> OpenAISettings:
        initial, maximum = self.backoff
        if not 0 < initial <= maximum:
            raise ConfigError(f"backoff={self.backoff!r} is invalid: give (initial, maximum) seconds with 0 < initial <= maximum, such as (0.5, 30.0)")
        return self


class _RetryableError(Exception):
    """A failed attempt that may succeed when repeated."""

    def __init__(self, message: str, retry_after: float | None = None, connect_failed: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.connect_failed = connect_failed


class _FatalError(Exception):
    """A failed attempt that would fail again: a client error or an unusable response."""


@TARGETS.register("openai")
class OpenAITarget(Target):
    """A model behind an OpenAI-compatible HTTP API (``/chat/completions`` or ``/completions``).

    Args:
        base_url: The API root, such as ``"http://127.0.0.1:8000/v1"`` for a local vLLM server.
        model: The model name the server expects.
        cache: Where answers are kept between calls and runs; ``None`` sends every request.
        **settings: The other fields of :class:`OpenAISettings` (``api_key_env``, ``mode``,
            ``max_tokens``, ``temperature``, ``top_p``, ``seed``, ``stop``, ``timeout``,
            ``max_retries``, ``concurrency``, ``backoff``, ``prompt_price``,
            ``completion_price``, ``echo_max_tokens``, ``extra_body``).

    Raises:
        ConfigError: On an invalid setting, a missing or empty API key variable, or when
            httpx is not installed.
        ScorerError: From :meth:`generate` and :meth:`loglikelihood`, when every request of a
            batch failed to connect (the server is down or ``base_url`` is wrong).
    """

    name = "openai"

    def __init__(self, base_url: str, model: str, *, cache: ResponseCache | None = None, **settings: Any) -> None:
        try:
            self.settings = OpenAISettings(base_url=base_url, model=model, **settings)
        except ValidationError as error:
            raise config_error_from_validation(error, OpenAISettings) from None
        super().__init__(cache=cache)
        self._api_key = _read_api_key(self.settings.api_key_env)
        self._httpx = _import_httpx()
        headers = {"Content-Type": "application/json"}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        self._client = self._httpx.Client(
            headers=headers,
            timeout=self._httpx.Timeout(self.settings.timeout),
            limits=self._httpx.Limits(max_connections=self.settings.concurrency, max_keepalive_connections=self.settings.concurrency),
        )

    @property
    def supports_loglikelihood(self) -> bool:  # type: ignore[override]
        """True in ``mode="completions"``, whose endpoint can echo the prompt's log-probabilities."""
        return self.settings.mode == "completions"

    def identity(self) -> dict[str, Any]:
        """Return the settings that change answers; the API key is never part of it."""
        fields = ("base_url", "model", "mode", "max_tokens", "temperature", "top_p", "seed", "stop", "extra_body")
        return {name: getattr(self.settings, name) for name in fields}

    def __repr__(self) -> str:
        return f"OpenAITarget(base_url={self.settings.base_url!r}, model={self.settings.model!r}, mode={self.settings.mode!r})"

    def close(self) -> None:
        """Close the connection pool; the target cannot send requests afterwards."""
        self._client.close()

    def __enter__(self) -> OpenAITarget:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Request building and response parsing.

    def _generate(self, prompts: Sequence[str]) -> list[Response]:
        url = f"{self.settings.base_url}/{ENDPOINTS[self.settings.mode]}"
        payloads = [self._generation_payload(prompt) for prompt in prompts]
        parse = _parse_chat if self.settings.mode == "chat" else _parse_completion
        return self._send_batch(url, payloads, [parse] * len(payloads))

    def _loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[Response]:
        if self.settings.mode != "completions":
            raise ConfigError(
                f"target 'openai' computes log-likelihoods only with mode='completions' (got mode={self.settings.mode!r}), "
                "because chat endpoints do not return the prompt's log-probabilities; set mode='completions' "
                "for a server whose /completions endpoint supports echo with logprobs (vLLM does)"
            )
        url = f"{self.settings.base_url}/completions"
        payloads = []
        parsers = []
        for prompt, continuation in requests:
            payload = {
                "model": self.settings.model,
                "prompt": prompt + continuation,
                "max_tokens": self.settings.echo_max_tokens,
                "temperature": 0.0,
                "echo": True,
                "logprobs": 1,
                **self.settings.extra_body,
            }
            payloads.append(payload)
            parsers.append(_continuation_parser(len(prompt), len(prompt) + len(continuation)))
        return self._send_batch(url, payloads, parsers)

    def _generation_payload(self, prompt: str) -> dict[str, Any]:
        settings = self.settings
        payload: dict[str, Any] = {"model": settings.model}
        if settings.mode == "chat":
            payload["messages"] = [{"role": "user", "content": prompt}]
        else:
            payload["prompt"] = prompt
        payload["max_tokens"] = settings.max_tokens
        payload["temperature"] = settings.temperature
        for name in ("top_p", "seed", "stop"):
            value = getattr(settings, name)
            if value is not None:
                payload[name] = value
        payload.update(settings.extra_body)
        return payload

    # Sending, retrying and accounting.

    def _send_batch(self, url: str, payloads: list[dict[str, Any]], parsers: list[Callable[[dict[str, Any]], Response]]) -> list[Response]:
        """Send every payload from at most ``concurrency`` threads; return one Response each."""
        if not payloads:
            return []
        workers = min(self.settings.concurrency, len(payloads))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="promptfill-openai") as pool:
            outcomes = list(pool.map(lambda job: self._send(url, *job), zip(payloads, parsers)))
        responses = [response for response, _ in outcomes]

        failed = [response for response in responses if not response.ok]
        if failed and all(connect_failed for _, connect_failed in outcomes):
            raise ScorerError(
                f"could not connect to {url}: all {len(payloads)} requests failed after "
                f"{self.settings.max_retries} retries each ({failed[0].error}); check that the server is "
                "running and that base_url is right"
            )
        if failed:
            logger.warning("%d of %d requests to %s failed; first error: %s", len(failed), len(payloads), url, failed[0].error)
        return responses

    def _send(self, url: str, payload: dict[str, Any], parse: Callable[[dict[str, Any]], Response]) -> tuple[Response, bool]:
        """Send one request with retries; return its Response and whether it failed to connect."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.settings.max_retries + 1),
            wait=self._wait_seconds,
            retry=tenacity.retry_if_exception_type(_RetryableError),
            before_sleep=self._record_retry,
            reraise=True,
        )
        try:
            response = retrying(lambda: parse(self._post(url, payload)))
        except _RetryableError as error:
            attempts = self.settings.max_retries + 1
            message = self._redact(f"{error} (gave up after {attempts} attempts)")
            logger.info("request to %s failed: %s", url, message)
            return Response(error=message), error.connect_failed
        except _FatalError as error:
            message = self._redact(str(error))
            logger.info("request to %s failed: %s", url, message)
            return Response(error=message), False

        cost = (response.prompt_tokens * self.settings.prompt_price + response.completion_tokens * self.settings.completion_price) / 1e6
        with self._stats_lock:
            self.stats.cost += cost
        return response, False

    def _post(self, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Make one attempt; return the decoded JSON body or raise a retryable or fatal error."""
        httpx = self._httpx
        try:
            reply = self._client.post(url, json=payload)
        except httpx.ConnectError as error:
            raise _RetryableError(
                f"could not connect to {url} ({error}); check that the server is running and that base_url is right",
                connect_failed=True,
            ) from None
        except httpx.TimeoutException:
            raise _RetryableError(f"request to {url} timed out (timeout={self.settings.timeout} s)") from None
        except httpx.TransportError as error:
            # A connection closed without a reply, or a body cut short.
            raise _RetryableError(f"connection to {url} failed: {type(error).__name__}: {error}") from None

        status = reply.status_code
        if status >= 400:
            message = f"{url} returned HTTP {status}: {_server_message(reply)}"
            if status >= 500 or status in RETRYABLE_STATUS:
                raise _RetryableError(message, retry_after=_retry_after_seconds(reply.headers.get("Retry-After")))
            raise _FatalError(message + _status_hint(status, self.settings.api_key_env))
        try:
            body = reply.json()
        except ValueError:
            raise _RetryableError(f"{url} returned malformed JSON ({len(reply.content)} bytes: {reply.text[:80]!r})") from None
        if not isinstance(body, dict):
            raise _RetryableError(f"{url} returned JSON that is not an object: {reply.text[:80]!r}")
        return body

    def _wait_seconds(self, retry_state: tenacity.RetryCallState) -> float:
        """Return the wait before the next attempt: Retry-After when given, else jittered backoff."""
        initial, maximum = self.settings.backoff
        error = retry_state.outcome.exception() if retry_state.outcome is not None else None
        if isinstance(error, _RetryableError) and error.retry_after is not None:
            return min(error.retry_after, maximum)
        # Random jitter spreads the retries of parallel workers, so they do not hit a rate-limited
        # server again in the same instant.
        exponential = initial * 2 ** (retry_state.attempt_number - 1)
        return min(exponential + random.uniform(0, initial), maximum)

    def _record_retry(self, retry_state: tenacity.RetryCallState) -> None:
        with self._stats_lock:
            self.stats.retries += 1
        error = retry_state.outcome.exception() if retry_state.outcome is not None else None
        wait = retry_state.next_action.sleep if retry_state.next_action is not None else 0.0
        logger.info(
            "retrying in %.2f s (attempt %d of %d failed): %s",
            wait, retry_state.attempt_number, self.settings.max_retries + 1, self._redact(str(error)),
        )

    def _redact(self, text: str) -> str:
        """Replace the API key in ``text``, for servers that quote it back in error messages."""
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return text


def _read_api_key(variable: str | None) -> str | None:
    if variable is None:
        return None
    key = os.environ.get(variable, "").strip()
    if not key:
        raise ConfigError(
            f"the API key environment variable {variable!r} (api_key_env) is not set or is empty; set it "
            f"before starting Python (export {variable}=...), name another variable with api_key_env=..., "
            "or pass api_key_env=None for a server that needs no key"
        )
    return key


def _import_httpx() -> Any:
    try:
        import httpx
    except ImportError:
        raise ConfigError('the openai target needs httpx, which is not installed; run pip install "promptfill[http]"') from None
    return httpx


def _server_message(reply: Any) -> str:
    """Return the error message of an error reply: OpenAI's ``error.message``, or the body's start."""
    try:
        body = reply.json()
    except ValueError:
        return reply.text[:200] or reply.reason_phrase
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return reply.text[:200]


def _status_hint(status: int, api_key_env: str | None) -> str:
    if status in (401, 403):
        where = f"the environment variable {api_key_env!r}" if api_key_env else "no key (api_key_env=None)"
        return f"; check the API key, read from {where}"
    if status == 404:
        return "; check base_url (it must include the version path, such as /v1) and the model name"
    return ""


def _retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header: delay seconds or an HTTP date; ``None`` when absent or invalid."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)  # HTTP dates are GMT
        seconds = (moment - datetime.now(timezone.utc)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(seconds, 0.0)


def _first_choice(body: dict[str, Any]) -> dict[str, Any]:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _RetryableError(f"the server's response has no choices: {str(body)[:120]!r}")
    return choices[0]


def _usage(body: dict[str, Any]) -> dict[str, int]:
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
    return {"prompt_tokens": int(usage.get("prompt_tokens") or 0), "completion_tokens": int(usage.get("completion_tokens") or 0)}


def _parse_chat(body: dict[str, Any]) -> Response:
    message = _first_choice(body).get("message")
    text = message.get("content") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise _FatalError(f"the server's response has no text in choices[0].message.content: {str(message)[:120]!r}")
    return Response(text=text, **_usage(body))


def _parse_completion(body: dict[str, Any]) -> Response:
    text = _first_choice(body).get("text")
    if not isinstance(text, str):
        raise _FatalError(f"the server's response has no text in choices[0].text: {text!r}")
    return Response(text=text, **_usage(body))


def _continuation_parser(prompt_end: int, text_end: int) -> Callable[[dict[str, Any]], Response]:
    """Return a parser that sums the log-probabilities of the tokens in ``[prompt_end, text_end)``.

    The request echoes ``prompt + continuation``, so ``choices[0].logprobs`` lists every token
    with its character offset. A token belongs to the continuation when it ends after
    ``prompt_end``. Tokens that start at or after ``text_end`` were generated (with
    ``echo_max_tokens=1``) and are skipped.
    """

    def parse(body: dict[str, Any]) -> Response:
        choice = _first_choice(body)
        text = choice.get("text")
        # Offsets only mean positions in prompt + continuation when the server echoed that text.
        if not isinstance(text, str) or len(text) < text_end:
            raise _FatalError(
                "the server did not echo the prompt (choices[0].text is shorter than prompt + continuation); "
                "log-likelihood scoring needs a /completions endpoint that supports echo with logprobs, such as vLLM's"
            )
        logprobs = choice.get("logprobs")
        offsets = logprobs.get("text_offset") if isinstance(logprobs, dict) else None
        values = logprobs.get("token_logprobs") if isinstance(logprobs, dict) else None
        if not offsets or not isinstance(values, list) or len(values) != len(offsets):
            raise _FatalError(
                "the server returned no prompt log-probabilities (choices[0].logprobs.text_offset and "
                "token_logprobs); log-likelihood scoring needs a /completions endpoint that supports "
                "echo with logprobs, such as vLLM's"
            )
        ends = list(offsets[1:]) + [math.inf]
        total = 0.0
        count = 0
        for start, end, value in zip(offsets, ends, values):
            if start >= text_end:
                break
            if end <= prompt_end:
                continue
            # NOTE: a token that spans the prompt/continuation boundary counts as continuation, so
            # its log-probability also covers the prompt characters it contains.
            if value is None:
                raise _FatalError("the server gave no log-probability for the continuation's first token; the prompt must not be empty")
            total += float(value)
            count += 1
        if count == 0:
            raise _FatalError(
                f"the server returned no tokens for the continuation (characters {prompt_end}-{text_end} of the "
                "echoed text); check that the server echoes the prompt with logprobs"
            )
        return Response(logprob=total, num_tokens=count, **_usage(body))

    return parse
