"""PromptInfiller: from a template with holes and few-shot examples to ranked filled templates."""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from ._results import FilledTemplate, FillResult, HoleFill, rank_candidates
from .backends import MaskedLMBackend, load_backend
from .errors import ConfigError, ScorerError, TemplateVariableError
from .sampling import MaskedDiffusionSampler, SamplerConfig, build_canvas
from ._runlog import RunLog
from .scoring import Scorer, resolve_scorer
from .scoring._halving import HalvingConfig, evaluate_candidates
from .templates import PromptTemplate, RenderedCopy

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]

MAX_LENGTH_COMBINATIONS = 12  # canvases per fill; each is one full sampling run


class PromptInfiller:
    """Infill the ``[MASK]`` holes of prompt templates with a masked (diffusion) language model.

    Every few-shot example renders one copy of the template; all copies share each hole, so they
    vote together on one infill at every denoising step. Candidates are ranked by the model's own
    score, or by a scorer run against a target model.

    Args:
        backend: The loaded model; see :meth:`from_pretrained`.
        sampler: Default sampler settings for :meth:`fill`.

    Example::

        infiller = PromptInfiller.from_pretrained()  # the embedded model, offline
        result = infiller.fill("Review: {{ text }} [MASK:2-6] ||| {{ label }}", examples)
        print(result.best.render(text="A fine film."))
    """

    def __init__(self, backend: MaskedLMBackend, sampler: SamplerConfig | None = None) -> None:
        self.backend = backend
        self.sampler_config = sampler if sampler is not None else SamplerConfig(temperature=0.8, top_p=0.95)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str] | None = None,
        *,
        kind: str = "auto",
        device: str | None = None,
        dtype: str | torch.dtype | None = None,
        trust_remote_code: bool = False,
        sampler: SamplerConfig | None = None,
    ) -> PromptInfiller:
        """Load an infiller from a checkpoint, or the embedded default model when no name is given.

        Args:
            name_or_path: A local checkpoint directory or Hub name of a masked LM (BERT,
                RoBERTa, ModernBERT...) or masked diffusion LM (LLaDA, Dream, MDLM). ``None``
                loads the embedded model, which needs no network.
            kind: ``"auto"``, ``"masked_lm"``, ``"llada"``, ``"dream"`` or ``"mdlm"``.
            device: ``"cuda"``, ``"mps"`` or ``"cpu"``; defaults to the best available.
            dtype: ``"float32"``, ``"bfloat16"``, ``"float16"`` or ``"auto"``.
            trust_remote_code: Run modeling code shipped with the checkpoint (LLaDA, Dream).
            sampler: Default sampler settings.
        """
        if name_or_path is None:
            from .embedded import load_embedded_backend

            backend = load_embedded_backend(device=device, dtype=dtype)
        else:
            backend = load_backend(name_or_path, kind=kind, device=device, dtype=dtype, trust_remote_code=trust_remote_code)
        return cls(backend, sampler=sampler)

    @property
    def model(self) -> Any:
        """The underlying Hugging Face model."""
        return self.backend.model

    @property
    def tokenizer(self) -> Any:
        """The underlying Hugging Face tokenizer."""
        return self.backend.tokenizer

    def fill(
        self,
        template: str | PromptTemplate,
        examples: Sequence[Mapping[str, Any]],
        *,
        scorer: Scorer | str | Callable[..., Any] | None = None,
        dev_examples: Sequence[Mapping[str, Any]] | None = None,
        sampler: SamplerConfig | None = None,
        halving: HalvingConfig | bool | None = None,
        run: RunLog | None = None,
        progress: ProgressCallback | None = None,
        **sampler_overrides: Any,
    ) -> FillResult:
        """Infill the template's holes from few-shot examples and rank the candidates.

        Args:
            template: Jinja source with ``[MASK]`` holes, or a :class:`PromptTemplate`.
            examples: Few-shot examples, each a mapping of the template's variables (including
                the answer's). Every example renders one copy of the template.
            scorer: Validates each candidate on ``dev_examples``: a :class:`Scorer`, a
                registered scorer name, or a callable ``(candidate, examples) -> float``.
                Without one, candidates are ranked by the model's own score.
            dev_examples: Examples for the scorer; defaults to ``examples``.
            sampler: Sampler settings for this call; defaults to the infiller's.
            halving: Score candidates by successive halving over the dev set, dropping clear
                losers after a few examples: a :class:`HalvingConfig`, or ``True`` for its
                defaults. ``None`` scores every candidate on every dev example.
            run: Records finished work as it goes and hands back what an interrupted run
                already finished (a :class:`~promptfill.RunDirectory`), so a resumed fill
                repeats nothing and ends with the same result.
            progress: Called as ``progress(done, total)`` in denoising steps, for progress bars.
            **sampler_overrides: Single settings that replace the sampler's, such as
                ``num_candidates=16`` or ``temperature=0.5``.

        Returns:
            The ranked candidates, best first.

        Raises:
            TemplateError: For a malformed template or an example missing a variable.
            ConfigError: For invalid settings, or no examples.
            ContextLengthError: When holes or a single copy cannot fit the model's context.
            ScorerError: When the scorer failed on every candidate; the unscored candidates are
                attached as ``error.partial_result``.
        """
        started = time.perf_counter()
        config = merge_sampler(sampler or self.sampler_config, sampler_overrides)
        template = template if isinstance(template, PromptTemplate) else PromptTemplate(template)
        scorer = resolve_scorer(scorer)
        if halving is True:
            halving = HalvingConfig()
        elif halving is False:
            halving = None
        elif halving is not None and not isinstance(halving, HalvingConfig):
            raise ConfigError(f"halving={halving!r} is invalid; pass a HalvingConfig, True for its defaults, or None")
        copies = render_copies(template, examples)
        # A fresh seed is drawn once and recorded, so every fill can be repeated or resumed.
        base_seed = config.seed if config.seed is not None else int(torch.seed() % 2**31)
        config = config.model_copy(update={"seed": base_seed})

        # 1. Sample candidates for every combination of hole lengths.
        combinations = _length_combinations(template, config.length_trials)
        sampler_runner = MaskedDiffusionSampler(config)
        total_steps = sum(sampler_runner.planned_steps(sum(c)) for c in combinations)
        done_steps = 0
        sampled: list[FilledTemplate] = []
        forward_passes = 0
        for combination, lengths in enumerate(combinations):
            canvas = build_canvas(copies, lengths, self.backend, config.layout)
            step_offset = done_steps
            recorded = run.load_sampled(combination) if run is not None else None
            if recorded is not None:
                sampled.extend(recorded)
                done_steps += sampler_runner.planned_steps(canvas.num_slots)
                if progress is not None:
                    progress(done_steps, total_steps)
                continue
            # Each combination has its own seed, so a resumed run that skips finished
            # combinations samples the rest exactly as an uninterrupted run would.
            generator = torch.Generator(device="cpu")
            generator.manual_seed(_combination_seed(base_seed, combination))

            def on_step(step: int, total: int, offset: int = step_offset) -> None:
                if progress is not None:
                    progress(offset + step, total_steps)

            output = sampler_runner.sample(
                self.backend, canvas, num_candidates=config.num_candidates,
                generator=_device_generator(generator, self.backend.device), callback=on_step,
            )
            forward_passes += output.forward_passes
            done_steps += sampler_runner.planned_steps(canvas.num_slots)
            new = self._candidates(template, canvas, output)
            if run is not None:
                run.record_sampled(combination, lengths, new)
            sampled.extend(new)

        # 2. Merge duplicates, score, rank.
        candidates = _merge_duplicates(sampled)
        if scorer is not None:
            scorer.bind(self)
            evaluate_candidates(scorer, candidates, dev_examples if dev_examples is not None else examples, halving=halving, log=run)
        result = FillResult(
            candidates=rank_candidates(candidates),
            template_source=template.source,
            model=str(self.backend.name),
            scorer=None if scorer is None else scorer.name,
            target=_target_summary(scorer),
            sampler=config.model_dump(),
            num_examples=len(copies),
            sampled=len(sampled),
            forward_passes=forward_passes,
            seconds=round(time.perf_counter() - started, 3),
        )
        if run is not None:
            run.record_result(result)
        if scorer is not None and all(c.error is not None for c in result.candidates):
            error = ScorerError(f"scorer {scorer.name!r} failed on all {len(result)} candidates; first error: {result.candidates[0].error}")
            error.partial_result = result
            raise error
        return result

    def _candidates(self, template: PromptTemplate, canvas, output) -> list[FilledTemplate]:
        settings = template.settings
        candidates = []
        for n in range(output.tokens.shape[0]):
            fills = []
            for hole, length in enumerate(canvas.hole_lengths):
                slots = list(canvas.hole_slots(hole))
                ids = output.tokens[n, slots].tolist()
                fills.append(HoleFill(
                    hole=hole,
                    text=self.backend.decode(ids),
                    token_ids=ids,
                    tokens=self.backend.tokenizer.convert_ids_to_tokens(ids),
                    confidences=output.confidences[n, slots].tolist(),
                    logprobs=output.token_logprobs[n, slots].tolist(),
                ))
            texts = [fill.text for fill in fills]
            candidates.append(FilledTemplate(
                source=template.fill_source(texts),
                fills=fills,
                model_score=float(output.token_logprobs[n].mean()),
                hole_lengths=list(canvas.hole_lengths),
                template_source=template.source,
                template_settings=settings,
            ))
        return candidates


def merge_sampler(config: SamplerConfig, overrides: Mapping[str, Any]) -> SamplerConfig:
    """Return ``config`` with ``overrides`` applied and validated (ConfigError on a bad value)."""
    if not overrides:
        return config
    return SamplerConfig(**{**config.model_dump(), **overrides})


def render_copies(template: PromptTemplate, examples: Sequence[Mapping[str, Any]]) -> list[RenderedCopy]:
    if isinstance(examples, Mapping) or not isinstance(examples, Sequence) or len(examples) == 0:
        raise ConfigError(
            f"examples={_short(examples)} is invalid; pass a non-empty list of dicts, one per few-shot "
            "example, with a value for every template variable"
        )
    copies = []
    for index, example in enumerate(examples):
        if not isinstance(example, Mapping):
            raise ConfigError(f"example {index} is {type(example).__name__}, not a dict of template variables")
        try:
            copies.append(template.render_copy(example))
        except TemplateVariableError as error:
            raise TemplateVariableError(f"example {index}: {error}") from None
    return copies


def _length_combinations(template: PromptTemplate, trials: int) -> list[tuple[int, ...]]:
    """Return the hole-length combinations to sample, at most MAX_LENGTH_COMBINATIONS of them.

    With more combinations than that, an evenly spaced subset of the sorted product is kept, so
    the shortest and longest settings are always tried.
    """
    per_hole = [hole.candidate_lengths(trials) for hole in template.holes]
    combinations = list(itertools.product(*per_hole))
    if len(combinations) <= MAX_LENGTH_COMBINATIONS:
        return combinations
    last = len(combinations) - 1
    picks = sorted({round(i * last / (MAX_LENGTH_COMBINATIONS - 1)) for i in range(MAX_LENGTH_COMBINATIONS)})
    logger.info("trying %d of %d hole-length combinations; lower length_trials or fix hole lengths to try all", len(picks), len(combinations))
    return [combinations[i] for i in picks]


def _device_generator(source: torch.Generator, device: torch.device) -> torch.Generator:
    # One CPU generator drives the whole fill, so results repeat for a seed; a device generator
    # is seeded from it when sampling runs elsewhere.
    if torch.device(device).type == "cpu":
        return source
    generator = torch.Generator(device=device)
    generator.manual_seed(int(torch.randint(0, 2**62, (1,), generator=source)))
    return generator


def _merge_duplicates(candidates: list[FilledTemplate]) -> list[FilledTemplate]:
    """Keep one candidate per distinct fill text (the one with the best model score)."""
    by_fills: dict[tuple[str, ...], FilledTemplate] = {}
    for candidate in candidates:
        key = tuple(candidate.texts)
        kept = by_fills.get(key)
        if kept is None:
            by_fills[key] = candidate
            continue
        best = candidate if candidate.model_score > kept.model_score else kept
        best.duplicates = kept.duplicates + candidate.duplicates
        by_fills[key] = best
    return list(by_fills.values())


def _target_summary(scorer: Scorer | None) -> dict[str, Any] | None:
    target = getattr(scorer, "target", None)
    if target is None or not hasattr(target, "stats"):
        return None
    return {"name": target.name, "identity": target.identity(), "stats": target.stats.model_dump()}


def _combination_seed(base_seed: int, combination: int) -> int:
    """Return the sampling seed of one hole-length combination (distinct, stable per base seed)."""
    return (base_seed * 1_000_003 + combination) % (2**63 - 1)


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
