"""A small OpenAI-compatible HTTP server on the loopback interface, for tests and benchmarks.

It responds to ``POST /v1/chat/completions`` and ``POST /v1/completions`` deterministically, so
callers can assert exact outputs, and it can inject one fault per request: an HTTP error status
(with an optional ``Retry-After`` header), a delay, malformed JSON, a connection closed without
a reply, or a body cut short. It records every request it receives and the peak number of
requests in flight.

The module uses only the standard library and does not import promptfill. The tests load it
from ``tests/targets/openai_server.py``; ``benchmarks/scorers.py`` imports it directly.

What it responds:

* The completion of a prompt is its whitespace-separated words in reverse order, cut to
  ``max_tokens`` words and at the first ``stop`` string: ``"one two three"`` gives
  ``"three two one"``.
* A token is a word with its leading whitespace (``" two"``). The log-probability of every
  token but the first is ``-len(word) / 10``, so ``" two"`` has ``-0.3``. The first token has
  ``None``, as in the OpenAI API, because nothing precedes it.
* ``usage`` counts tokens this way: ``prompt_tokens`` in the prompt (or in the chat message),
  ``completion_tokens`` in the completion.
* ``echo: true`` with ``logprobs`` on ``/v1/completions`` returns the prompt's tokens with
  ``tokens``, ``token_logprobs`` and ``text_offset``, followed by ``max_tokens`` generated
  tokens (none for ``max_tokens: 0``).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

__all__ = ["Fault", "OpenAIServer", "RecordedRequest", "completion_for", "token_logprob", "tokenize"]

FaultKind = Literal["status", "delay", "malformed", "drop", "truncate"]
TOKEN_PATTERN = re.compile(r"\s*\S+")


@dataclass(frozen=True)
class Fault:
    """One injected fault, applied to one request.

    Args:
        kind: ``"status"`` responds with ``status`` and an OpenAI-style error body;
            ``"delay"`` sleeps ``delay`` seconds and then responds normally; ``"malformed"``
            responds 200 with JSON cut in the middle; ``"drop"`` closes the connection without a reply;
            ``"truncate"`` sends the headers and half the body, then closes the connection.
        status: The HTTP status of a ``"status"`` fault.
        retry_after: The ``Retry-After`` header value of a ``"status"`` fault (seconds or an
            HTTP date), or ``None`` for no header.
        delay: Seconds a ``"delay"`` fault waits before responding.
        message: The error message of a ``"status"`` fault.
    """

    kind: FaultKind
    status: int = 500
    retry_after: str | None = None
    delay: float = 0.0
    message: str = "injected fault"


@dataclass
class RecordedRequest:
    """A request the server received, with when its handling started and ended (perf_counter)."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    started: float
    finished: float | None = None
    fault: Fault | None = None


def tokenize(text: str) -> list[tuple[int, str]]:
    """Split ``text`` into ``(offset, token)`` pairs, each token a word with its leading whitespace."""
    return [(match.start(), match.group()) for match in TOKEN_PATTERN.finditer(text)]


def token_logprob(token: str) -> float:
    """Return the made-up log-probability of a token that follows another one."""
    return -len(token.strip()) / 10


def completion_for(prompt: str, max_tokens: int, stop: str | list[str] | None = None) -> str:
    """Return the server's completion of ``prompt``: its words reversed, cut to ``max_tokens``."""
    words = prompt.split()[::-1][:max_tokens]
    text = " ".join(words)
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    for stop_string in stops:
        if stop_string and stop_string in text:
            text = text[: text.index(stop_string)]
    return text


class OpenAIServer:
    """An OpenAI-compatible server on ``127.0.0.1`` with a free port, run in a background thread.

    Args:
        latency: Seconds added to every request before the response, to model a slow model.
        api_key: When set, requests without ``Authorization: Bearer <api_key>`` get HTTP 401.
        rule: Called with each request (after recording it) when the fault queue is empty;
            returns the fault to inject, or ``None`` to respond normally.
        supports_echo: When False, the server ignores ``echo``: the text and the
            log-probabilities cover generated tokens only, with offsets into the generated text,
            as the llama.cpp server does.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. Push faults with
    :meth:`push_faults`; each request takes the next one from the queue.
    """

    def __init__(
        self,
        latency: float = 0.0,
        api_key: str | None = None,
        rule: Callable[[RecordedRequest], Fault | None] | None = None,
        supports_echo: bool = True,
    ) -> None:
        self.latency = latency
        self.supports_echo = supports_echo
        self.api_key = api_key
        self.rule = rule
        self.requests: list[RecordedRequest] = []
        self.peak_in_flight = 0
        self._in_flight = 0
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The API root to give a client, such as ``http://127.0.0.1:45678/v1``."""
        if self._server is None:
            raise RuntimeError("the server is not running; call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def push_faults(self, *faults: Fault) -> None:
        """Queue faults; the next requests take them in order, one each."""
        with self._lock:
            self._faults.extend(faults)

    def received(self, path: str | None = None) -> list[RecordedRequest]:
        """Return the recorded requests in arrival order, only those to ``path`` when it is given."""
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    def reset(self) -> None:
        """Forget recorded requests, queued faults and the in-flight peak."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self.peak_in_flight = 0

    def start(self) -> OpenAIServer:
        """Bind a free loopback port and serve in a daemon thread."""
        handler = _make_handler(self)
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # Called by the handler threads.

    def _begin(self, request: RecordedRequest) -> Fault | None:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            fault = self._faults.popleft() if self._faults else None
        if fault is None and self.rule is not None:
            fault = self.rule(request)
        request.fault = fault
        return fault

    def _end(self, request: RecordedRequest) -> None:
        with self._lock:
            self._in_flight -= 1
            request.finished = time.perf_counter()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 refuses connections when many clients connect at once.
    request_queue_size = 128


def _make_handler(server: OpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        owner = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIServer
    # HTTP/1.1 keeps connections open between requests, as real servers do.
    protocol_version = "HTTP/1.1"
    # The headers and the body leave in separate writes. With Nagle's algorithm on, the body
    # waits for the client's delayed ACK, which added about 40 ms to every request on Linux.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the server quiet; requests are recorded on the owner instead."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        request = RecordedRequest(path=self.path, headers=dict(self.headers.items()), body=body, started=time.perf_counter())
        fault = self.owner._begin(request)
        try:
            self._respond(request, fault)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout), so the response is discarded
        finally:
            self.owner._end(request)

    def _respond(self, request: RecordedRequest, fault: Fault | None) -> None:
        if self.owner.latency:
            time.sleep(self.owner.latency)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        if fault is not None and fault.kind == "status":
            headers = {} if fault.retry_after is None else {"Retry-After": fault.retry_after}
            self._send_json(fault.status, _error_body(fault.message, fault.status), headers)
            return
        if self.owner.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.owner.api_key}":
            self._send_json(401, _error_body("Incorrect API key provided.", 401))
            return
        if request.body is None:
            self._send_json(400, _error_body("The request body is not valid JSON.", 400))
            return
        if request.path == "/v1/chat/completions":
            payload = _chat_response(request.body)
        elif request.path == "/v1/completions":
            payload = _completion_response(request.body, self.owner.supports_echo)
        else:
            self._send_json(404, _error_body(f"Unknown path {request.path}.", 404))
            return
        if fault is not None and fault.kind == "malformed":
            self._send_bytes(200, json.dumps(payload).encode()[:20])
        elif fault is not None and fault.kind == "truncate":
            data = json.dumps(payload).encode()
            self._send_bytes(200, data[: len(data) // 2], content_length=len(data))
            self.close_connection = True
        else:
            self._send_json(200, payload)

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), headers=headers)

    def _send_bytes(self, status: int, data: bytes, headers: dict[str, str] | None = None, content_length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data) if content_length is None else content_length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


def _error_body(message: str, status: int) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error" if status < 500 else "server_error", "code": status}}


def _usage(prompt: str, completion: str) -> dict[str, int]:
    prompt_tokens = len(tokenize(prompt))
    completion_tokens = len(tokenize(completion))
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens}


def _chat_response(body: dict[str, Any]) -> dict[str, Any]:
    prompt = " ".join(str(message.get("content", "")) for message in body.get("messages", []))
    text = completion_for(prompt, int(body.get("max_tokens", 16)), body.get("stop"))
    return {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "model": body.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": _usage(prompt, text),
    }


def _completion_response(body: dict[str, Any], supports_echo: bool) -> dict[str, Any]:
    prompt = str(body.get("prompt", ""))
    max_tokens = int(body.get("max_tokens", 16))
    generated = completion_for(prompt, max_tokens, body.get("stop"))
    choice: dict[str, Any] = {"index": 0, "text": generated, "finish_reason": "length", "logprobs": None}
    echo = bool(body.get("echo")) and supports_echo
    if echo:
        # A generated token continues the echoed text after one space, as a tokenizer would.
        separator = " " if generated and prompt else ""
        choice["text"] = prompt + separator + generated
    if body.get("logprobs") is not None:
        tokens = tokenize(choice["text"])
        choice["logprobs"] = {
            "tokens": [token for _, token in tokens],
            "token_logprobs": [None if echo and offset == 0 else token_logprob(token) for offset, token in tokens],
            "text_offset": [offset for offset, _ in tokens],
        }
    return {
        "id": "cmpl-loopback",
        "object": "text_completion",
        "model": body.get("model"),
        "choices": [choice],
        "usage": _usage(prompt, generated),
    }
