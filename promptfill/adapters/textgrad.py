"""TextGrad adapter: refill masked spans of a ``textgrad.Variable`` and seed TextGrad with infills.

Written against TextGrad 0.1.8. Importing TextGrad imports LiteLLM, which downloads a model
price table at import time; offline, set ``LITELLM_LOCAL_MODEL_COST_MAP=True`` first to skip
the download. TextGrad also writes a log file under ``./logs/`` on import unless
``TEXTGRAD_LOG_DIR`` names another folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ConfigError
from ._base import AdapterResult, MaskedPrompt, OptimizerAdapter, import_optional

tg = import_optional("textgrad", extra="textgrad")


__all__ = ["VariableInfiller", "engine_scorer", "infill_variable", "seed_variables"]

TextScorer = Callable[[str, Sequence[Mapping[str, Any]]], "float | Sequence[float]"]

DEFAULT_SCAFFOLD = "\nInput: {{ input }}\nOutput: ||| {{ output }}"


class VariableInfiller(OptimizerAdapter[Any]):
    """Refill masked text of a ``textgrad.Variable`` and keep the infill that scores best.

    Exactly one of ``spans`` and ``marked`` chooses what is masked; with neither, the whole
    value is one hole.

    Args:
        scorer: ``scorer(text, devset)`` returning a mean or one value per example, higher
            better; :func:`engine_scorer` builds one from a TextGrad engine and a metric.
        spans: ``[start, end)`` character ranges of ``variable.value`` to refill.
        marked: The variable's text with each span to refill written as a hole
            (``"You are a [MASK:3-8] assistant."``).
        hole: The hole used for ``spans`` or for the whole value.
        scaffold: Jinja source that renders one example after the prompt; the default reads
            the example keys ``input`` and ``output``.
        infiller: The infilling model; ``None`` loads the embedded model on first use.
        **settings: ``num_candidates``, ``seed`` and sampler settings for each fill.
    """

    def __init__(
        self,
        scorer: TextScorer,
        *,
        spans: Sequence[tuple[int, int]] | None = None,
        marked: str | None = None,
        hole: str | None = None,
        scaffold: str = DEFAULT_SCAFFOLD,
        infiller: Any = None,
        **settings: Any,
    ) -> None:
        super().__init__(infiller, **settings)
        if not callable(scorer):
            raise ConfigError(f"scorer={scorer!r} is not callable; pass a function (text, devset) -> float")
        if spans is not None and marked is not None:
            raise ConfigError("spans and marked were both given; pass one of them, or neither to mask the whole value")
        self.scorer = scorer
        self.spans = spans
        self.marked = marked
        self.hole = hole
        self.scaffold = scaffold

    def masked_prompt(self, prompt: Any) -> MaskedPrompt:
        text = prompt.value
        if self.marked is not None:
            return MaskedPrompt.marked(self.marked, original=text)
        if self.spans is not None:
            return MaskedPrompt.spans(text, self.spans, **({"hole": self.hole} if self.hole else {}))
        return MaskedPrompt.whole(text, **({"hole": self.hole} if self.hole else {}))

    def example_scaffold(self, prompt: Any) -> str:
        return self.scaffold

    def evaluate(self, prompt: Any, text: str, devset: Sequence[Any]) -> float | Sequence[float]:
        return self.scorer(text, devset)

    def write_back(self, prompt: Any, text: str) -> Any:
        prompt.set_value(text)
        return prompt


def infill_variable(variable: Any, examples: Sequence[Mapping[str, Any]], scorer: TextScorer, *, devset: Sequence[Mapping[str, Any]] | None = None, **options: Any) -> AdapterResult[Any]:
    """Refill masked text of ``variable`` and set ``variable.value`` to the best-scoring text.

    The original value is kept when no infill scores above it. ``options`` are those of
    :class:`VariableInfiller` (``spans``, ``marked``, ``infiller``, ``num_candidates`` ...).

    Returns:
        The candidates and scores; ``result.prompt`` is ``variable`` itself.
    """
    return VariableInfiller(scorer, **options).optimize(variable, examples, devset)


def seed_variables(
    variable: Any,
    examples: Sequence[Mapping[str, Any]],
    k: int = 4,
    *,
    scorer: TextScorer | None = None,
    devset: Sequence[Mapping[str, Any]] | None = None,
    **options: Any,
) -> list[Any]:
    """Create up to ``k`` new ``textgrad.Variable`` objects from the top infills of ``variable``.

    Each starts a TextGrad run of its own (``requires_grad=True``, the same role description).
    With a ``scorer`` the infills are ranked by it on ``devset``; without one, by model score.
    ``variable`` itself is not changed.
    """
    if not isinstance(k, int) or k < 1:
        raise ConfigError(f"k={k!r} is invalid; pass the number of variables to create, at least 1")
    adapter = VariableInfiller(scorer or _unused_scorer, **options)
    if scorer is None:
        texts = adapter.propose(variable, examples)
    else:
        result = adapter.optimize(_Detached(variable.value), examples, devset)
        texts = [candidate.text for candidate in result.candidates if candidate.error is None]
    return [tg.Variable(text, requires_grad=True, role_description=variable.get_role_description()) for text in texts[:k]]


def engine_scorer(engine: Any, metric: Callable[[str, Mapping[str, Any]], float], *, input_field: str = "input") -> TextScorer:
    """Build a scorer that runs ``engine`` with each candidate as the system prompt.

    For every dev example, ``textgrad.BlackboxLLM(engine, system_prompt=text)`` answers
    ``example[input_field]``, and ``metric(response_text, example)`` scores the answer.
    """
    def score(text: str, devset: Sequence[Mapping[str, Any]]) -> list[float]:
        model = tg.BlackboxLLM(engine, system_prompt=tg.Variable(text, requires_grad=False, role_description="system prompt"))
        values = []
        for example in devset:
            question = tg.Variable(str(example[input_field]), requires_grad=False, role_description="question to the model")
            values.append(float(metric(model(question).value, example)))
        return values

    return score


class _Detached:
    """A stand-in with a ``value`` that ``write_back`` may set, so the source variable stays as it is."""

    def __init__(self, value: str) -> None:
        self.value = value

    def set_value(self, value: str) -> None:
        self.value = value


def _unused_scorer(text: str, devset: Sequence[Any]) -> float:
    raise ConfigError("this VariableInfiller has no scorer; pass scorer=(text, devset) -> float to score infills")
