"""OpenAITarget against a real loopback HTTP server that injects faults."""

from __future__ import annotations

import email.utils
import json
import logging
import socket
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
from openai_server import Fault, OpenAIServer, RecordedRequest

from promptfill import ConfigError, OpenAITarget, ScorerError
from promptfill.targets import TARGETS, SqliteCache
from promptfill.targets._http import _retry_after_seconds

KEY_ENV = "PROMPTFILL_TEST_OPENAI_KEY"
SECRET = "sk-test-3f9c1e7a-do-not-leak"
MODEL = "loopback-model"
# Small numbers keep the file fast: attempts time out after 0.3 s and back off 0.01-0.05 s.
FAST = {"timeout": 0.3, "backoff": (0.01, 0.05), "max_retries": 2}


@pytest.fixture
def server():
    with OpenAIServer() as running:
        yield running


@pytest.fixture
def make_target(server, monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    targets = []

    def make(**settings):
        merged = {"api_key_env": KEY_ENV, **FAST, **settings}
        target = OpenAITarget(merged.pop("base_url", server.base_url), MODEL, **merged)
        targets.append(target)
        return target

    yield make
    for target in targets:
        target.close()


# Happy paths.


def test_chat_returns_server_completions(server, make_target):
    target = make_target()

    responses = target.generate(["one two three", "alpha beta"])

    assert [r.text for r in responses] == ["three two one", "beta alpha"]
    assert [r.error for r in responses] == [None, None]
    assert [r.prompt_tokens for r in responses] == [3, 2]
    assert [r.completion_tokens for r in responses] == [3, 2]
    assert target.stats.prompt_tokens == 5
    assert target.stats.requests == 2
    assert target.stats.retries == 0


def test_chat_request_format(server, make_target):
    make_target().generate(["one two three"])

    [request] = server.received()
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert request.body == {
        "model": MODEL,
        "messages": [{"role": "user", "content": "one two three"}],
        "max_tokens": 64,
        "temperature": 0.0,
    }


def test_completions_mode_posts_prompt(server, make_target):
    target = make_target(mode="completions", max_tokens=2)

    [response] = target.generate(["one two three"])

    assert response.text == "three two"
    [request] = server.received()
    assert request.path == "/v1/completions"
    assert request.body["prompt"] == "one two three"
    assert request.body["max_tokens"] == 2


def test_sampling_settings_sent(server, make_target):
    target = make_target(top_p=0.9, seed=7, stop=["one"], temperature=0.5, extra_body={"top_k": 20})

    [response] = target.generate(["one two three"])

    assert response.text == "three two "
    body = server.received()[0].body
    assert body["top_p"] == 0.9
    assert body["seed"] == 7
    assert body["stop"] == ["one"]
    assert body["temperature"] == 0.5
    assert body["top_k"] == 20


def test_cost_from_usage_and_prices(make_target):
    target = make_target(prompt_price=2.0, completion_price=10.0)

    target.generate(["one two three", "alpha beta"])

    # 5 prompt tokens at 2.0 and 5 completion tokens at 10.0, per million tokens.
    assert target.stats.cost == pytest.approx((5 * 2.0 + 5 * 10.0) / 1e6)


def test_registered_as_openai(server, monkeypatch):
    target = TARGETS.create("openai", base_url=server.base_url, model=MODEL, api_key_env=None)

    assert isinstance(target, OpenAITarget)
    assert target.generate(["a b"])[0].text == "b a"
    assert "Authorization" not in server.received()[0].headers
    target.close()


def test_identity_lists_answer_settings(make_target, server):
    target = make_target(seed=3)

    assert target.identity() == {
        "base_url": server.base_url,
        "model": MODEL,
        "mode": "chat",
        "max_tokens": 64,
        "temperature": 0.0,
        "top_p": None,
        "seed": 3,
        "stop": None,
        "extra_body": {},
    }


# Retries.


def test_server_errors_retried_until_success(server, make_target):
    target = make_target()
    server.push_faults(Fault("status", 500), Fault("status", 503))

    [response] = target.generate(["one two"])

    assert response.text == "two one"
    assert len(server.received()) == 3
    assert target.stats.retries == 2
    assert target.stats.failures == 0


def test_retries_exhausted_record_error(server, make_target):
    target = make_target(max_retries=2)
    server.push_faults(*[Fault("status", 500, message="model crashed")] * 3)

    [response] = target.generate(["one two"])

    assert response.text is None
    assert response.error == f"{server.base_url}/chat/completions returned HTTP 500: model crashed (gave up after 3 attempts)"
    assert len(server.received()) == 3
    assert target.stats.retries == 2
    assert target.stats.failures == 1


def test_failure_leaves_other_prompts_unaffected(server, make_target):
    def fail_bad_prompts(request: RecordedRequest) -> Fault | None:
        return Fault("status", 500) if "bad" in request.body["messages"][0]["content"] else None

    server.rule = fail_bad_prompts
    target = make_target(max_retries=1)

    responses = target.generate(["good one", "bad two", "good three"])

    assert [r.text for r in responses] == ["one good", None, "three good"]
    assert "HTTP 500" in responses[1].error
    assert target.stats.failures == 1


def test_retry_after_seconds_honoured(server, make_target):
    target = make_target(backoff=(0.01, 2.0))
    server.push_faults(Fault("status", 429, retry_after="1"))

    [response] = target.generate(["one two"])

    assert response.ok
    first, second = server.received()
    assert second.started - first.finished >= 0.95
    assert second.started - first.finished < 1.5
    assert target.stats.retries == 1


def test_retry_after_capped_by_backoff_maximum(server, make_target):
    target = make_target(backoff=(0.01, 0.05))
    server.push_faults(Fault("status", 429, retry_after="30"))

    [response] = target.generate(["one two"])

    assert response.ok
    first, second = server.received()
    assert second.started - first.finished < 0.5


def test_retry_after_parses_seconds_and_dates():
    in_five_seconds = datetime.now(timezone.utc) + timedelta(seconds=5)

    assert _retry_after_seconds("2") == 2.0
    assert _retry_after_seconds("0.5") == 0.5
    assert _retry_after_seconds(email.utils.format_datetime(in_five_seconds, usegmt=True)) == pytest.approx(5, abs=1.5)
    assert _retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert _retry_after_seconds("soon") is None
    assert _retry_after_seconds(None) is None


def test_timeout_retried_then_error(server, make_target):
    target = make_target(max_retries=1, timeout=0.3)
    server.rule = lambda request: Fault("delay", delay=1.0)

    started = time.perf_counter()
    [response] = target.generate(["one two"])
    elapsed = time.perf_counter() - started

    assert response.error == f"request to {server.base_url}/chat/completions timed out (timeout=0.3 s) (gave up after 2 attempts)"
    assert len(server.received()) == 2
    assert target.stats.retries == 1
    assert elapsed < 1.5


@pytest.mark.parametrize("kind", ["malformed", "drop", "truncate"])
def test_broken_reply_retried(server, make_target, kind):
    target = make_target()
    server.push_faults(Fault(kind))

    [response] = target.generate(["one two"])

    assert response.text == "two one"
    assert len(server.received()) == 2
    assert target.stats.retries == 1


def test_malformed_json_error_message(server, make_target):
    target = make_target(max_retries=0)
    server.push_faults(Fault("malformed"))

    [response] = target.generate(["one two"])

    assert response.error.startswith(f"{server.base_url}/chat/completions returned malformed JSON (20 bytes: ")


def test_dropped_connection_error_message(server, make_target):
    target = make_target(max_retries=0)
    server.push_faults(Fault("drop"))

    [response] = target.generate(["one two"])

    assert response.error.startswith(f"connection to {server.base_url}/chat/completions failed: RemoteProtocolError")


def test_401_not_retried(server, make_target):
    server.api_key = "another-key"
    target = make_target()

    [response] = target.generate(["one two"])

    assert response.error == (
        f"{server.base_url}/chat/completions returned HTTP 401: Incorrect API key provided.; "
        f"check the API key, read from the environment variable {KEY_ENV!r}"
    )
    assert len(server.received()) == 1
    assert target.stats.retries == 0


@pytest.mark.parametrize("status", [400, 403, 404])
def test_client_errors_not_retried(server, make_target, status):
    target = make_target()
    server.push_faults(Fault("status", status, message="bad request"))

    [response] = target.generate(["one two"])

    assert f"returned HTTP {status}: bad request" in response.error
    assert len(server.received()) == 1


def test_concurrency_never_exceeds_limit(server, make_target):
    server.latency = 0.1
    target = make_target(concurrency=3)

    responses = target.generate([f"prompt {i}" for i in range(12)])

    assert all(r.ok for r in responses)
    assert len(server.received()) == 12
    assert server.peak_in_flight == 3


# Cache.


def test_rerun_sends_only_failed_requests(server, make_target, tmp_path):
    prompts = ["one a", "two b", "flaky c", "four d"]
    server.rule = lambda request: Fault("status", 500) if "flaky" in str(request.body) else None
    first = make_target(max_retries=0, cache=SqliteCache(tmp_path / "cache.sqlite"))

    first_responses = first.generate(prompts)

    assert [r.ok for r in first_responses] == [True, True, False, True]
    assert len(server.received()) == 4
    first.cache.close()

    server.rule = None
    second = make_target(max_retries=0, cache=SqliteCache(tmp_path / "cache.sqlite"))

    second_responses = second.generate(prompts)

    assert [r.text for r in second_responses] == ["a one", "b two", "c flaky", "d four"]
    assert [r.cached for r in second_responses] == [True, True, False, True]
    assert len(server.received()) == 5
    assert server.received()[-1].body["messages"][0]["content"] == "flaky c"
    second.cache.close()


# Log-likelihood.


def test_loglikelihood_sums_continuation_tokens(server, make_target):
    target = make_target(mode="completions")

    [response] = target.loglikelihood([("Question: one two", " three four")])

    # " three" and " four" score -len(word) / 10 on the loopback server.
    assert response.logprob == pytest.approx(-0.5 + -0.4)
    assert response.num_tokens == 2
    body = server.received()[0].body
    assert body["prompt"] == "Question: one two three four"
    assert body["echo"] is True
    assert body["logprobs"] == 1
    assert body["max_tokens"] == 0


def test_loglikelihood_skips_generated_token(server, make_target):
    target = make_target(mode="completions", echo_max_tokens=1)

    [response] = target.loglikelihood([("Question: one two", " three four")])

    assert response.logprob == pytest.approx(-0.9)
    assert response.num_tokens == 2
    assert server.received()[0].body["max_tokens"] == 1


def test_loglikelihood_counts_boundary_token(make_target):
    target = make_target(mode="completions")

    # The token " two" spans the boundary ("one tw" | "o three"), so it counts with " three".
    [response] = target.loglikelihood([("one tw", "o three")])

    assert response.logprob == pytest.approx(-0.3 + -0.5)
    assert response.num_tokens == 2


def test_loglikelihood_in_chat_mode_raises(make_target):
    target = make_target(mode="chat")

    assert target.supports_loglikelihood is False
    with pytest.raises(ConfigError, match=r"only with mode='completions' \(got mode='chat'\)"):
        target.loglikelihood([("a", " b")])


def test_loglikelihood_empty_prompt_fails(make_target):
    target = make_target(mode="completions")

    [response] = target.loglikelihood([("", "one two")])

    assert response.error == "the server gave no log-probability for the continuation's first token; the prompt must not be empty"


def test_loglikelihood_without_echo_fails(make_target, server):
    server.supports_echo = False
    target = make_target(mode="completions", echo_max_tokens=1)

    [response] = target.loglikelihood([("one two", " three")])

    assert response.error.startswith("the server did not echo the prompt (choices[0].text is shorter than prompt + continuation)")
    assert target.stats.retries == 0


# Configuration and connection errors.


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"concurrency": 0}, "OpenAISettings: concurrency=0 is invalid: Input should be greater than or equal to 1"),
        ({"mode": "stream"}, "OpenAISettings: mode='stream' is invalid: Input should be 'chat' or 'completions'"),
        ({"backoff": (1.0, 0.5)}, "backoff=(1.0, 0.5) is invalid: give (initial, maximum) seconds with 0 < initial <= maximum"),
        ({"base_url": "localhost:8000/v1"}, "base_url='localhost:8000/v1' is invalid: it must start with http:// or https://"),
        ({"base_url": "http://127.0.0.1:8000/v1/chat/completions"}, "give the API root without /chat/completions, such as 'http://127.0.0.1:8000/v1'"),
        ({"extra_body": {"model": "other"}}, "extra_body sets ['model'], which the target sets itself"),
        ({"extra_body": {"ids": {1, 2}}}, "extra_body={'ids': {1, 2}} is invalid: it must be JSON-serialisable"),
        ({"max_token": 8}, "'max_token' is not a setting; valid settings are: "),
    ],
)
def test_invalid_settings_raise(make_target, settings, message):
    with pytest.raises(ConfigError) as caught:
        make_target(**settings)

    assert message in str(caught.value)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_missing_api_key_raises(server, monkeypatch, value):
    if value is None:
        monkeypatch.delenv(KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(KEY_ENV, value)

    with pytest.raises(ConfigError) as caught:
        OpenAITarget(server.base_url, MODEL, api_key_env=KEY_ENV)

    assert str(caught.value) == (
        f"the API key environment variable {KEY_ENV!r} (api_key_env) is not set or is empty; set it before "
        f"starting Python (export {KEY_ENV}=...), name another variable with api_key_env=..., or pass "
        "api_key_env=None for a server that needs no key"
    )


def test_missing_httpx_raises(server, monkeypatch):
    monkeypatch.setitem(sys.modules, "httpx", None)

    with pytest.raises(ConfigError, match=r'pip install "promptfill\[http\]"'):
        OpenAITarget(server.base_url, MODEL, api_key_env=None)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_server_raises_clear_error(make_target):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    target = make_target(base_url=url, max_retries=1)

    with pytest.raises(ScorerError) as caught:
        target.generate(["one", "two"])

    message = str(caught.value)
    assert message.startswith(f"could not connect to {url}/chat/completions: all 2 requests failed after 1 retries each")
    assert message.endswith("check that the server is running and that base_url is right")
    assert target.stats.retries == 2


# Secrets.


def test_api_key_never_leaks(server, make_target, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    cache = SqliteCache(tmp_path / "cache.sqlite")
    target = make_target(max_retries=1, cache=cache)
    # A server that quotes the key back, as some hosted APIs do in their 401 message.
    server.push_faults(Fault("status", 500), Fault("status", 401, message=f"Incorrect API key provided: {SECRET}"))

    responses = target.generate(["one two", "three four"])
    unreachable = make_target(base_url=f"http://127.0.0.1:{closed_port()}/v1", max_retries=0)
    with pytest.raises(ScorerError) as caught:
        unreachable.generate(["one"])
    cache.close()

    errors = [r.error for r in responses if r.error]
    assert len(errors) == 1
    assert "Incorrect API key provided: ***" in errors[0]
    assert SECRET not in errors[0]
    assert SECRET not in caplog.text
    assert SECRET not in repr(target)
    assert SECRET not in json.dumps(target.identity())
    assert SECRET not in str(caught.value)
    for path in tmp_path.iterdir():
        assert SECRET.encode() not in path.read_bytes(), path.name
