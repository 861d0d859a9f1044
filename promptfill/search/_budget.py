"""SearchBudget: how many target calls, iterations and stale iterations a search may spend."""

from __future__ import annotations


from pydantic import ConfigDict, Field, PrivateAttr

from ..errors import ConfigError
from ..sampling._config import ValidatedConfig
from ..scoring import Scorer, TargetScorer


class SearchBudget(ValidatedConfig):
    """Limits on a prompt search, with the running count of target calls spent against them.

    One budget can be shared by a whole job: attach it to the scorer before
    :meth:`PromptInfiller.fill`, and pass it to each search loop, so that the fill and every
    loop draw target calls from one total.

    What a target call is depends on the scorer. For a
    :class:`~promptfill.scoring.TargetScorer`, it is one request answered by the target model
    (``target.stats.requests``, so cache hits are free). For any other scorer it is one call of
    ``scorer.score`` on one candidate; evaluations made outside a search loop are not seen, so
    add them with :meth:`charge`.

    ``max_iterations`` and ``patience`` limit each search run on its own; only target calls are
    shared.

    Example::

        budget = SearchBudget(max_target_calls=200, patience=2)
        budget.attach(scorer)            # count the fill's calls too
        result = infiller.fill(template, examples, scorer=scorer, dev_examples=dev)
        refined = RefineSearch(infiller, scorer).run(result, examples, dev_examples=dev, budget=budget)
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    max_target_calls: int | None = Field(
        None,
        ge=1,
        description=(
            "Most target calls the job may spend (target requests for a TargetScorer, scorer "
            "evaluations otherwise). A loop never starts a scoring it might not be able to pay "
            "for in full, so it stops at or below this number. None sets no limit."
        ),
    )
    max_iterations: int | None = Field(
        None, ge=1, description="Most iterations of one search run, not counting the scoring of its seeds. None sets no limit."
    )
    patience: int | None = Field(
        None,
        ge=1,
        description="Stop a search run after this many iterations in a row without a better best score. None never stops for that.",
    )

    _scorer: Scorer | None = PrivateAttr(None)
    _baseline: int = PrivateAttr(0)
    _evaluations: int = PrivateAttr(0)
    _charged: int = PrivateAttr(0)

    @property
    def scorer(self) -> Scorer | None:
        """The scorer whose calls this budget counts; ``None`` before :meth:`attach`."""
        return self._scorer

    @property
    def counts_target_requests(self) -> bool:
        """Whether calls are target requests (a TargetScorer) rather than scorer evaluations."""
        return isinstance(self._scorer, TargetScorer)

    def attach(self, scorer: Scorer) -> None:
        """Start counting the calls of ``scorer`` from now on; attaching it again changes nothing.

        Raises:
            ConfigError: The budget already counts another scorer's calls.
        """
        if self._scorer is scorer:
            return
        if self._scorer is not None:
            raise ConfigError(
                f"this SearchBudget already counts the calls of scorer {self._scorer.name!r}; "
                f"use one scorer per budget, or a new SearchBudget for scorer {scorer.name!r}"
            )
        self._scorer = scorer
        self._baseline = self._target_requests()

    @property
    def spent(self) -> int:
        """Target calls spent since :meth:`attach`, including those added by :meth:`charge`."""
        if self._scorer is None:
            return self._charged
        measured = self._target_requests() - self._baseline if self.counts_target_requests else self._evaluations
        return measured + self._charged

    @property
    def remaining(self) -> int | None:
        """Target calls left, or ``None`` without a limit."""
        if self.max_target_calls is None:
            return None
        return max(0, self.max_target_calls - self.spent)

    def cost_of_scoring(self, num_examples: int) -> int:
        """Return the most calls one scoring of a candidate on ``num_examples`` dev examples can cost."""
        return num_examples if self.counts_target_requests else 1

    def can_afford(self, calls: int) -> bool:
        """Check whether ``calls`` more target calls fit in the budget."""
        return self.max_target_calls is None or self.spent + calls <= self.max_target_calls

    def record_evaluation(self) -> None:
        """Count one scorer evaluation (ignored for a TargetScorer, whose target counts itself)."""
        self._evaluations += 1

    def charge(self, calls: int) -> None:
        """Add ``calls`` spent outside the loops, such as a fill scored by a non-target scorer."""
        if isinstance(calls, bool) or not isinstance(calls, int) or calls < 0:
            raise ConfigError(f"calls={calls!r} is invalid; pass the number of target calls spent, an int >= 0")
        self._charged += calls

    def _target_requests(self) -> int:
        # A TargetScorer without a target yet binds a fresh one later, whose count starts at 0.
        target = getattr(self._scorer, "target", None)
        return 0 if target is None else target.stats.requests
