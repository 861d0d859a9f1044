"""CallableTarget: user functions as targets, with errors, batching and the cache."""

from __future__ import annotations

import logging

import pytest

from promptfill import ConfigError
from promptfill.targets import TARGETS, CallableTarget, MemoryCache, resolve_target


def shout(prompt: str) -> str:
    return prompt.upper()


def test_generate_calls_function_per_prompt():
    target = CallableTarget(shout)

    responses = target.generate(["a", "b"])

    assert [r.text for r in responses] == ["A", "B"]
    assert target.stats.requests == 2


def test_batched_function_gets_list():
    batches = []

    def batch_upper(prompts):
        batches.append(list(prompts))
        return [p.upper() for p in prompts]

    target = CallableTarget(batch_upper, batched=True)

    assert [r.text for r in target.generate(["x", "y"])] == ["X", "Y"]
    assert batches == [["x", "y"]]


def test_exception_becomes_response_error(caplog):
    def fragile(prompt: str) -> str:
        if prompt == "bad":
            raise ValueError("cannot answer")
        return "ok"

    target = CallableTarget(fragile, name="fragile")
    with caplog.at_level(logging.WARNING, logger="promptfill.targets._callable"):
        good, bad = target.generate(["good", "bad"])

    assert good.text == "ok"
    assert bad.text is None
    assert bad.error == "ValueError: cannot answer"
    assert target.stats.failures == 1
    assert "function of target 'fragile' raised ValueError: cannot answer" in caplog.text


def test_non_string_output_is_error():
    (response,) = CallableTarget(lambda prompt: 42).generate(["p"])

    assert response.error == "the function returned int 42, not a str"


def test_batched_wrong_length_raises():
    target = CallableTarget(lambda prompts: ["one"], batched=True, name="short")

    with pytest.raises(ConfigError, match=r"function of target 'short' is batched, so it must return a list with one result per input \(2\)"):
        target.generate(["a", "b"])


def test_cache_answers_repeats():
    calls = []

    def record(prompt: str) -> str:
        calls.append(prompt)
        return prompt

    target = CallableTarget(record, cache=MemoryCache())
    target.generate(["a"])
    (again,) = target.generate(["a"])

    assert calls == ["a"]
    assert again.cached is True
    assert target.stats.requests == 1
    assert target.stats.cache_hits == 1


def test_loglikelihood_function_tuple_and_float():
    def score(prompt: str, continuation: str):
        return (-2.0, 4) if continuation == "long" else -0.5

    target = CallableTarget(shout, loglikelihood_function=score)
    long, short = target.loglikelihood([("p", "long"), ("p", "x")])

    assert (long.logprob, long.num_tokens) == (-2.0, 4)
    assert (short.logprob, short.num_tokens) == (-0.5, 1)


def test_loglikelihood_without_function_raises():
    with pytest.raises(ConfigError, match=r"target 'callable' cannot compute log-likelihoods"):
        CallableTarget(shout).loglikelihood([("p", "c")])


def test_not_callable_raises():
    with pytest.raises(ConfigError, match=r"function='text' is not callable"):
        CallableTarget("text")


def test_resolve_target_wraps_callable():
    target = resolve_target(shout)

    assert isinstance(target, CallableTarget)
    assert target.identity() == {"function": f"{__name__}.shout", "batched": False}
    assert {"callable", "causal_lm", "dlm"} <= set(TARGETS.names())
