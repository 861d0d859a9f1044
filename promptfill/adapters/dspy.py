"""DSPy adapter: infill the instructions of a DSPy program's predictors.

Three entry points, for three ways of working with DSPy (written against DSPy 3.4):

- :class:`PromptfillDSPy`, a ``dspy.Teleprompter``: for each predictor, infill candidate
  instructions from the trainset, score each candidate program with ``dspy.Evaluate`` on the
  valset, and keep the best.
- :class:`PromptfillProposer`, a GEPA ``instruction_proposer``: GEPA calls it to mutate an
  instruction; it masks part of the instruction and re-infills it.
- :func:`propose_instructions`: a list of instruction strings, to seed any other optimizer
  (COPRO and MIPROv2 have no public proposal hook; see docs/adapters.md).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ._base import AdapterResult, MaskedPrompt, OptimizerAdapter, fields_scaffold, import_optional

dspy = import_optional("dspy", extra="dspy")
teleprompt = import_optional("dspy.teleprompt", extra="dspy")

logger = logging.getLogger(__name__)

__all__ = ["PromptfillDSPy", "PromptfillProposer", "propose_instructions"]

DEFAULT_HOLE = "[MASK:6-20]"
# Few-shot examples per fill: each one is a rendered copy on the canvas, so cost grows with it.
DEFAULT_MAX_EXAMPLES = 8


@dataclass(frozen=True)
class PredictorSlot:
    """One predictor of a program, named as ``program.named_predictors()`` names it."""

    program: Any
    name: str

    @property
    def predictor(self) -> Any:
        """The predictor object inside ``program``."""
        return dict(self.program.named_predictors())[self.name]


class _InstructionAdapter(OptimizerAdapter[PredictorSlot]):
    """Infill one predictor's instruction; score with ``dspy.Evaluate`` and a DSPy metric."""

    def __init__(self, metric: Callable[..., Any] | None, *, hole: str, max_examples: int, num_threads: int | None, **settings: Any) -> None:
        super().__init__(**settings)
        self.metric = metric
        self.hole = hole
        self.max_examples = max_examples
        self.num_threads = num_threads

    def masked_prompt(self, prompt: PredictorSlot) -> MaskedPrompt:
        return MaskedPrompt.whole(prompt.predictor.signature.instructions, hole=self.hole)

    def example_scaffold(self, prompt: PredictorSlot) -> str:
        signature = prompt.predictor.signature
        inputs, outputs = _labels(signature.input_fields), _labels(signature.output_fields)
        return fields_scaffold(inputs, outputs)

    def infill_examples(self, prompt: PredictorSlot, examples: Sequence[Any]) -> list[dict[str, Any]]:
        return [{name: _text(example[name]) for name in prompt.predictor.signature.fields} for example in examples[: self.max_examples]]

    def evaluate(self, prompt: PredictorSlot, text: str, devset: Sequence[Any]) -> list[float]:
        if self.metric is None:
            raise ConfigError("metric=None cannot score candidates; pass a DSPy metric (example, prediction, trace=None) -> float")
        program = self.write_back(prompt, text).program
        evaluation = dspy.Evaluate(devset=list(devset), metric=self.metric, num_threads=self.num_threads, display_progress=False)
        # NOTE: dspy.Evaluate scores an example whose program call raised as failure_score (0.0)
        # and logs it; it raises only past max_errors.
        return [_metric_value(score) for _, _, score in evaluation(program).results]

    def write_back(self, prompt: PredictorSlot, text: str) -> PredictorSlot:
        program = prompt.program.deepcopy()
        predictor = dict(program.named_predictors())[prompt.name]
        predictor.signature = predictor.signature.with_instructions(text)
        return PredictorSlot(program, prompt.name)

    def usable_fields(self, prompt: PredictorSlot, examples: Sequence[Any]) -> bool:
        """Return whether every example has all of the predictor's fields (false for inner stages)."""
        names = set(prompt.predictor.signature.fields)
        return all(names <= set(example.keys()) for example in examples[: self.max_examples])


class PromptfillDSPy(teleprompt.Teleprompter):
    """Optimize each predictor's instruction by infilling it and validating with ``dspy.Evaluate``.

    For every predictor, the instruction becomes one hole (``"[MASK:6-20]"``) followed by the
    signature's fields, rendered from each trainset example. The infiller samples candidate
    instructions, and each candidate program is scored on the valset with ``metric``. The
    best instruction replaces the original only when it scores higher. Predictors are
    optimized in order, each with the earlier ones' chosen instructions already in place.

    Predictors whose fields are not all present in the trainset examples (inner stages of a
    multi-stage program, or ``ChainOfThought``'s ``reasoning``) are skipped with a warning.

    Args:
        metric: A DSPy metric ``(example, prediction, trace=None)`` returning a number or a
            bool; higher is better.
        infiller: The infilling model; ``None`` loads the embedded model on first use.
        num_candidates: Candidate instructions sampled per hole length; ``None`` keeps the
            infiller's sampler setting.
        hole: The hole that replaces the instruction, with its length range in tokens.
        max_examples: Trainset examples the infiller conditions on.
        num_threads: Threads ``dspy.Evaluate`` uses; ``None`` takes DSPy's setting.
        seed: Sampling seed; ``None`` draws a fresh one.
        **sampler_overrides: Further sampler settings, such as ``temperature=0.7``.

    After :meth:`compile`, :attr:`results` maps each optimized predictor's name to its
    :class:`~promptfill.adapters.AdapterResult` (all candidates and scores), and the returned
    program carries the same candidates as plain data in ``promptfill_candidates``.
    """

    def __init__(
        self,
        metric: Callable[..., Any],
        *,
        infiller: Any = None,
        num_candidates: int | None = None,
        hole: str = DEFAULT_HOLE,
        max_examples: int = DEFAULT_MAX_EXAMPLES,
        num_threads: int | None = None,
        seed: int | None = 0,
        **sampler_overrides: Any,
    ) -> None:
        super().__init__()
        if not callable(metric):
            raise ConfigError(f"metric={metric!r} is not callable; pass a DSPy metric (example, prediction, trace=None) -> float")
        self.metric = metric
        self.adapter = _InstructionAdapter(
            metric, hole=hole, max_examples=max_examples, num_threads=num_threads,
            infiller=infiller, num_candidates=num_candidates, seed=seed, **sampler_overrides,
        )
        self.results: dict[str, AdapterResult[PredictorSlot]] = {}

    def compile(self, student: Any, *, trainset: Sequence[Any], valset: Sequence[Any] | None = None) -> Any:
        """Return a copy of ``student`` with the best infilled instruction in each predictor.

        Args:
            student: The DSPy program to optimize; it is not modified.
            trainset: ``dspy.Example`` objects the infiller conditions on.
            valset: Examples that candidates are scored on; defaults to ``trainset``.
        """
        if not trainset:
            raise ConfigError("trainset is empty; pass dspy.Example objects with every field of the predictors' signatures")
        program = student.deepcopy()
        self.results = {}
        for name, _ in student.named_predictors():
            slot = PredictorSlot(program, name)
            if not self.adapter.usable_fields(slot, trainset):
                logger.warning(
                    "skipping predictor %r: trainset examples lack some of its fields %s; its instruction is unchanged",
                    name, sorted(slot.predictor.signature.fields),
                )
                continue
            result = self.adapter.optimize(slot, trainset, valset if valset is not None else trainset)
            logger.info("predictor %r: score %.4f -> %.4f with %r", name, result.baseline_score, result.score, result.text)
            self.results[name] = result
            program = result.prompt.program
        program.promptfill_candidates = {
            name: [(candidate.text, candidate.score) for candidate in result.candidates] for name, result in self.results.items()
        }
        return program


class PromptfillProposer:
    """A GEPA ``instruction_proposer`` that mutates an instruction by masking and re-infilling it.

    GEPA (``dspy.GEPA(metric, instruction_proposer=PromptfillProposer(student, trainset))``)
    calls it with the current instructions and the components to update. For each component,
    a random run of words covering ``mask_fraction`` of the instruction becomes a hole (the
    whole instruction when it has fewer than 4 words). The hole is infilled from ``trainset``
    examples. The infill with the best model score that differs from the current instruction
    is returned, and GEPA scores it itself. The reflective dataset (the current
    program's outputs and feedback) is not used: the infiller conditions on gold examples.

    Args:
        student: The program GEPA optimizes; its predictors supply the signatures.
        trainset: ``dspy.Example`` objects with every field of the predictors' signatures.
        infiller: The infilling model; ``None`` loads the embedded model on first use.
        mask_fraction: Share of the instruction's words to mask, in (0, 1].
        seed: Seed of the span choice and the sampler.
        **settings: ``num_candidates``, ``hole``, ``max_examples`` and sampler settings.
    """

    def __init__(self, student: Any, trainset: Sequence[Any], *, infiller: Any = None, mask_fraction: float = 0.5, seed: int = 0, **settings: Any) -> None:
        if not 0.0 < mask_fraction <= 1.0:
            raise ConfigError(f"mask_fraction={mask_fraction!r} is invalid; pass a share of words in (0, 1]")
        self.student = student
        self.trainset = list(trainset)
        self.mask_fraction = mask_fraction
        self.random = random.Random(seed)
        self.adapter = _InstructionAdapter(
            None, hole=settings.pop("hole", "[MASK:3-12]"), max_examples=settings.pop("max_examples", DEFAULT_MAX_EXAMPLES),
            num_threads=None, infiller=infiller, seed=seed, **settings,
        )

    # NOTE: tested by calling it the way GEPA's DspyAdapter does (keyword arguments); a full
    # dspy.GEPA run with this proposer is not part of the tests.
    def __call__(self, candidate: dict[str, str], reflective_dataset: Mapping[str, Sequence[Mapping[str, Any]]], components_to_update: list[str]) -> dict[str, str]:
        """Return a new instruction for each name in ``components_to_update``."""
        proposals = {}
        for name in components_to_update:
            slot = self.adapter.write_back(PredictorSlot(self.student, name), candidate[name])
            masked = _mask_words(candidate[name], self.mask_fraction, self.random, self.adapter.hole)
            source = masked.template_source(self.adapter.example_scaffold(slot))
            result = self.adapter.infiller.fill(source, self.adapter.infill_examples(slot, self.trainset), **self.adapter.fill_settings)
            texts = [masked.apply(filled.texts) for filled in result]
            proposals[name] = next((text for text in texts if text != candidate[name]), texts[0])
        return proposals


def propose_instructions(
    predictor: Any,
    trainset: Sequence[Any],
    n: int = 8,
    *,
    infiller: Any = None,
    hole: str = DEFAULT_HOLE,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int | None = 0,
    **sampler_overrides: Any,
) -> list[str]:
    """Infill up to ``n`` distinct instructions for ``predictor`` from ``trainset``, best model score first.

    Use them to seed another optimizer, for example by setting the first as the predictor's
    instruction before COPRO or MIPROv2 runs (both start from the current instruction).

    Args:
        predictor: A ``dspy.Predict`` (or any object with a ``signature``).
        trainset: ``dspy.Example`` objects with every field of the signature.
        n: Candidates sampled per hole length; duplicates are merged, so fewer may return.
    """
    holder = dspy.Module()
    holder.predictor = predictor
    adapter = _InstructionAdapter(None, hole=hole, max_examples=max_examples, num_threads=None, infiller=infiller, num_candidates=n, seed=seed, **sampler_overrides)
    slot = PredictorSlot(holder, "predictor")
    if not adapter.usable_fields(slot, trainset):
        raise ConfigError(
            f"trainset examples lack some of the predictor's fields {sorted(predictor.signature.fields)}; "
            "pass examples with every input and output field of its signature"
        )
    return adapter.propose(slot, trainset)[:n]


def _labels(fields: Mapping[str, Any]) -> dict[str, str]:
    # DSPy stores each field's display prefix ("Question:") in json_schema_extra.
    return {name: (info.json_schema_extra or {}).get("prefix", f"{name}:") for name, info in fields.items()}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _metric_value(score: Any) -> float:
    # A GEPA-style metric returns a dspy.Prediction with a `score` field.
    value = getattr(score, "score", score)
    if isinstance(value, (bool, int, float)):
        return float(value)
    raise ConfigError(f"the DSPy metric returned {score!r}; it must return a number, a bool, or an object with a numeric .score")


def _mask_words(text: str, fraction: float, generator: random.Random, hole: str) -> MaskedPrompt:
    words = text.split(" ")
    if len(words) < 4:
        return MaskedPrompt.whole(text, hole=hole)
    count = max(1, round(fraction * len(words)))
    start = generator.randrange(0, len(words) - count + 1)
    before = " ".join(words[:start]) + (" " if start else "")
    after = (" " if start + count < len(words) else "") + " ".join(words[start + count:])
    return MaskedPrompt(parts=(before, after), holes=(hole,), original=text)
