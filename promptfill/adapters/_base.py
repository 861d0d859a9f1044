"""The shared part of every optimizer adapter: mask a prompt, infill it, score, write back.

An adapter lets another prompt optimizer (DSPy, TextGrad, a user's own loop) use promptfill's
infilling as its proposal step. Each adapter answers three questions about the other
library's prompt object, and :class:`OptimizerAdapter` does the rest:

1. ``masked_prompt(prompt)``: which text of the prompt is masked, as a :class:`MaskedPrompt`.
2. ``evaluate(prompt, text, devset)``: how the other library scores the prompt with ``text``.
3. ``write_back(prompt, text)``: how ``text`` is put back into the prompt object.
"""

from __future__ import annotations

import importlib
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import ConfigError
from ..scoring import CandidateScore, Scorer

if TYPE_CHECKING:
    from .._infiller import PromptInfiller
    from .._results import FilledTemplate, FillResult

logger = logging.getLogger(__name__)

PromptT = TypeVar("PromptT")

# A hole as written in promptfill templates; its length spec is validated by PromptTemplate.
_HOLE = re.compile(r"(?<!\\)\[MASK(?::[^\]]*)?\]")


def import_optional(module: str, extra: str) -> ModuleType:
    """Import an optional dependency, or raise ImportError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"this promptfill adapter needs the {module!r} package, which failed to import "
            f"({error}); install it with: pip install \"promptfill[{extra}]\""
        ) from error


def escape_text(text: str) -> str:
    """Return Jinja source that renders ``text`` verbatim, with no holes and no Jinja in it.

    The text goes inside ``{% raw %}`` blocks. Only ``{%`` can end a raw block early, so each
    ``{%`` is written as a Jinja string expression between two raw blocks.
    """
    if not text:
        return ""
    pieces = text.split("{%")
    return "{{ '{%' }}".join(f"{{% raw %}}{piece}{{% endraw %}}" if piece else "" for piece in pieces)


def fields_scaffold(inputs: Mapping[str, str], outputs: Mapping[str, str]) -> str:
    """Build the Jinja source that renders one example's fields after the prompt.

    Args:
        inputs: Field name -> label shown before its value (``{"question": "Question:"}``).
        outputs: The same for the fields of the answer. The first output field starts the
            answer part (after ``|||``), so it is what scorers read as the reference. With
            no output fields the template has no answer part.

    Returns:
        Source such as ``"\\nQuestion: {{ question }}\\nAnswer: ||| {{ answer }}"``.
    """
    for name in (*inputs, *outputs):
        if not name.isidentifier():
            raise ConfigError(f"field name {name!r} is not a Python identifier, so a template cannot read it; rename the field")
    lines = [f"\n{escape_text(label)} {{{{ {name} }}}}" for name, label in inputs.items()]
    for position, (name, label) in enumerate(outputs.items()):
        separator = " |||" if position == 0 else ""
        lines.append(f"\n{escape_text(label)}{separator} {{{{ {name} }}}}")
    return "".join(lines)


@dataclass(frozen=True)
class MaskedPrompt:
    """A prompt text split into literal parts and holes: ``parts[0] hole[0] parts[1] ...``.

    Attributes:
        parts: The literal text around the holes; always one more than ``holes``.
        holes: Each hole as template syntax (``"[MASK:6-20]"``), in order.
        original: The prompt text before masking, used as the baseline candidate.
    """

    parts: tuple[str, ...]
    holes: tuple[str, ...]
    original: str

    def __post_init__(self) -> None:
        if len(self.parts) != len(self.holes) + 1:
            raise ConfigError(f"MaskedPrompt has {len(self.parts)} parts for {len(self.holes)} holes; it needs one part more than holes")
        if not self.holes:
            raise ConfigError("MaskedPrompt has no hole, so there is nothing to infill; mask the whole text or at least one span")

    @classmethod
    def whole(cls, text: str, hole: str = "[MASK:6-20]") -> MaskedPrompt:
        """Mask all of ``text`` with one hole; ``text`` stays the baseline."""
        return cls(parts=("", ""), holes=(_check_hole(hole),), original=text)

    @classmethod
    def spans(cls, text: str, spans: Sequence[tuple[int, int]], hole: str = "[MASK:3-12]") -> MaskedPrompt:
        """Mask the character ranges ``spans`` (``[start, end)`` pairs) of ``text``."""
        ordered = sorted(spans)
        position = 0
        parts = []
        for start, end in ordered:
            if not (0 <= start < end <= len(text)) or start < position:
                raise ConfigError(
                    f"span {(start, end)!r} is invalid for a text of {len(text)} characters; spans "
                    "are [start, end) character offsets with start < end, inside the text, not overlapping"
                )
            parts.append(text[position:start])
            position = end
        parts.append(text[position:])
        if not ordered:
            raise ConfigError("spans=[] masks nothing; give at least one (start, end) character range")
        return cls(parts=tuple(parts), holes=(_check_hole(hole),) * len(ordered), original=text)

    @classmethod
    def marked(cls, marked_text: str, original: str | None = None) -> MaskedPrompt:
        """Split a text in which the spans to refill are written as holes (``[MASK:3-8]``).

        Everything but the holes is literal; ``\\[MASK]`` writes a literal ``[MASK]``.
        ``original`` is the baseline text; it defaults to the marked text with holes removed.
        """
        holes = tuple(match.group(0) for match in _HOLE.finditer(marked_text))
        parts = tuple(part.replace("\\[MASK", "[MASK") for part in _HOLE.split(marked_text))
        if not holes:
            raise ConfigError(f"marked text {marked_text[:60]!r} has no [MASK] hole; write [MASK] or [MASK:3-8] where text should be refilled")
        return cls(parts=parts, holes=holes, original="".join(parts) if original is None else original)

    def template_source(self, scaffold: str = "") -> str:
        """Return the template: escaped literal parts, the holes, then ``scaffold`` (Jinja)."""
        pieces = [escape_text(self.parts[0])]
        for hole, part in zip(self.holes, self.parts[1:]):
            pieces.append(hole)
            pieces.append(escape_text(part))
        return "".join(pieces) + scaffold

    def apply(self, fills: Sequence[str]) -> str:
        """Return the prompt text with each hole replaced by its fill."""
        if len(fills) != len(self.holes):
            raise ConfigError(f"got {len(fills)} fills for {len(self.holes)} holes; pass one fill per hole")
        pieces = [self.parts[0]]
        for fill, part in zip(fills, self.parts[1:]):
            pieces.append(fill)
            pieces.append(part)
        return "".join(pieces)


@dataclass(frozen=True)
class AdapterCandidate:
    """One proposed prompt text and how the other library's metric scored it."""

    text: str
    score: float | None
    model_score: float | None
    error: str | None = None


@dataclass(frozen=True)
class AdapterResult(Generic[PromptT]):
    """The outcome of :meth:`OptimizerAdapter.optimize`.

    Attributes:
        prompt: The prompt object with the chosen text written back.
        text: The chosen text: the best candidate, or the original when none beat it.
        score: The chosen text's score on the dev set.
        baseline_score: The original text's score on the same dev set.
        candidates: Every infilled candidate, best first.
        fill_result: The infiller's full result, with per-token detail.
    """

    prompt: PromptT
    text: str
    score: float
    baseline_score: float
    candidates: list[AdapterCandidate]
    fill_result: FillResult

    @property
    def improved(self) -> bool:
        """Whether an infilled candidate beat the original text."""
        return self.score > self.baseline_score


class OptimizerAdapter(ABC, Generic[PromptT]):
    """Base class of adapters that propose prompt texts for another optimizer by infilling.

    Subclasses implement :meth:`masked_prompt`, :meth:`evaluate` and :meth:`write_back`, and
    may override :meth:`example_scaffold` and :meth:`infill_examples`.

    Args:
        infiller: The infilling model; ``None`` loads the embedded model on first use.
        num_candidates: Candidates sampled per hole-length setting; ``None`` keeps the
            infiller's sampler setting.
        seed: Sampling seed, so that a run repeats; ``None`` draws a fresh one.
        **sampler_overrides: Further sampler settings for each fill, such as ``temperature=0.7``.
    """

    def __init__(
        self,
        infiller: PromptInfiller | None = None,
        *,
        num_candidates: int | None = None,
        seed: int | None = 0,
        **sampler_overrides: Any,
    ) -> None:
        if num_candidates is not None and (not isinstance(num_candidates, int) or num_candidates < 1):
            raise ConfigError(f"num_candidates={num_candidates!r} is invalid; pass a positive integer, or None for the infiller's setting")
        self._infiller = infiller
        self.fill_settings: dict[str, Any] = {"seed": seed, **sampler_overrides}
        if num_candidates is not None:
            self.fill_settings["num_candidates"] = num_candidates

    @property
    def infiller(self) -> PromptInfiller:
        """The infilling model, loaded (the embedded one) on first use when none was given."""
        if self._infiller is None:
            from .._infiller import PromptInfiller

            self._infiller = PromptInfiller.from_pretrained()
        return self._infiller

    # -- what a subclass provides -------------------------------------------------------

    @abstractmethod
    def masked_prompt(self, prompt: PromptT) -> MaskedPrompt:
        """Return the prompt's text with the parts to infill as holes."""

    @abstractmethod
    def evaluate(self, prompt: PromptT, text: str, devset: Sequence[Any]) -> float | Sequence[float]:
        """Score ``prompt`` with its masked text replaced by ``text``: a mean, or one value per example.

        Higher must be better. A failed model call raises; it never returns a made-up score.
        """

    @abstractmethod
    def write_back(self, prompt: PromptT, text: str) -> PromptT:
        """Return ``prompt`` with ``text`` in place of its masked text (a copy or the same object)."""

    def example_scaffold(self, prompt: PromptT) -> str:
        """Return the Jinja source rendering one example after the prompt; see :func:`fields_scaffold`."""
        return ""

    def infill_examples(self, prompt: PromptT, examples: Sequence[Any]) -> list[dict[str, Any]]:
        """Convert the other library's examples to dicts of template variables."""
        return [dict(example) for example in examples]

    # -- the shared loop ----------------------------------------------------------------

    def template_source(self, prompt: PromptT) -> str:
        """Return the promptfill template for ``prompt``: masked text, then the example scaffold."""
        return self.masked_prompt(prompt).template_source(self.example_scaffold(prompt))

    def propose(self, prompt: PromptT, examples: Sequence[Any], *, num_candidates: int | None = None) -> list[str]:
        """Infill the prompt's holes from ``examples`` and return distinct texts, by model score."""
        masked = self.masked_prompt(prompt)
        result = self._fill(prompt, masked, examples, scorer=None, num_candidates=num_candidates)
        return _distinct(masked.apply(candidate.texts) for candidate in result)

    def optimize(self, prompt: PromptT, examples: Sequence[Any], devset: Sequence[Any] | None = None) -> AdapterResult[PromptT]:
        """Infill candidates, score each and the original with :meth:`evaluate`, and write back the best.

        The original text is kept when no candidate scores above it.

        Args:
            prompt: The other library's prompt object.
            examples: Few-shot examples the infiller conditions on.
            devset: Examples :meth:`evaluate` scores on; defaults to ``examples``.
        """
        devset = examples if devset is None else devset
        masked = self.masked_prompt(prompt)

        # 1. Score the original text, then infill and score the candidates with the same metric.
        baseline = _mean(self.evaluate(prompt, masked.original, devset))
        scorer = _AdapterScorer(self, prompt, masked, devset)
        result = self._fill(prompt, masked, examples, scorer=scorer)
        candidates = [_candidate(masked, filled) for filled in result]

        # 2. Keep the best candidate only when it beats the original.
        best = candidates[0]
        if best.score is not None and best.score > baseline:
            chosen_text, chosen_score = best.text, best.score
        else:
            logger.info("no infilled candidate beat the original text (score %.4f); keeping it", baseline)
            chosen_text, chosen_score = masked.original, baseline
        return AdapterResult(
            prompt=self.write_back(prompt, chosen_text),
            text=chosen_text,
            score=chosen_score,
            baseline_score=baseline,
            candidates=candidates,
            fill_result=result,
        )

    def _fill(self, prompt: PromptT, masked: MaskedPrompt, examples: Sequence[Any], *, scorer: Scorer | None, num_candidates: int | None = None) -> FillResult:
        settings = dict(self.fill_settings)
        if num_candidates is not None:
            settings["num_candidates"] = num_candidates
        source = masked.template_source(self.example_scaffold(prompt))
        return self.infiller.fill(source, self.infill_examples(prompt, examples), scorer=scorer, **settings)


class _AdapterScorer(Scorer):
    """Score a candidate with the adapter's :meth:`~OptimizerAdapter.evaluate` on its own dev set."""

    def __init__(self, adapter: OptimizerAdapter[Any], prompt: Any, masked: MaskedPrompt, devset: Sequence[Any]) -> None:
        self.adapter = adapter
        self.prompt = prompt
        self.masked = masked
        self.devset = devset
        self.name = type(adapter).__name__

    def score(self, candidate: FilledTemplate, examples: Sequence[Any]) -> CandidateScore:
        # The infiller passes its dict examples; the adapter scores on the other library's devset.
        values = self.adapter.evaluate(self.prompt, self.masked.apply(candidate.texts), self.devset)
        if isinstance(values, (int, float)):
            return CandidateScore.from_values([float(values)])
        return CandidateScore.from_values([float(value) for value in values])


def _check_hole(hole: str) -> str:
    if not isinstance(hole, str) or _HOLE.fullmatch(hole) is None:
        raise ConfigError(f"hole={hole!r} is invalid; write a hole as [MASK], [MASK:8] or [MASK:3-12]")
    return hole


def _mean(values: float | Sequence[float]) -> float:
    if isinstance(values, (int, float)):
        return float(values)
    return CandidateScore.from_values([float(value) for value in values]).value


def _candidate(masked: MaskedPrompt, filled: FilledTemplate) -> AdapterCandidate:
    return AdapterCandidate(
        text=masked.apply(filled.texts),
        score=None if filled.score is None else filled.score.value,
        model_score=filled.model_score,
        error=filled.error,
    )


def _distinct(texts: Any) -> list[str]:
    return list(dict.fromkeys(texts))
