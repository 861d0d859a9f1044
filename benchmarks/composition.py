"""Composition benchmark: infilling alone, a search loop alone, and a search loop seeded by infilling.

Every arm gets the same budget of target calls (requests answered by the target model) on the
same dev set. The embedded model is both the infiller and the target (the ``dlm`` target). The
prompt each arm picks on the dev set is then scored once more on held-out test examples, which
no arm saw.

Arms:
    infill            fill the instruction hole, score candidates in model-score order until the
                      budget is spent, keep the best.
    search_human      RefineSearch from the human-written prompt (instruction-induction
                      annotation or promptsource template).
    search_infill     the infill arm with half the budget, then RefineSearch from its best
                      candidates with the rest.

Usage::

    nice -n 5 python benchmarks/composition.py --seeds 0 1

Writes benchmarks/results/composition.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from promptfill import (
    SCORERS,
    TARGETS,
    FilledTemplate,
    MemoryCache,
    PromptInfiller,
    PromptTemplate,
    RefineSearch,
    SamplerConfig,
    ScorerError,
    SearchBudget,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results" / "composition.json"


@dataclass
class Task:
    name: str
    few_shot: list[dict[str, Any]]
    dev: list[dict[str, Any]]
    test: list[dict[str, Any]]
    masked_template: PromptTemplate
    human_seed: str | PromptTemplate
    make_scorer: Callable[[Any], Any]
    max_target_calls: int
    target_settings: dict[str, Any]


def first_word_letter(dev_size: int, test_size: int, calls_per_arm: int) -> Task:
    """Instruction induction: write the first letter of a word; log-likelihood of the reference letter."""
    folder = DATA / "instruction-induction"
    examples = list(json.loads((folder / "execute" / "first_word_letter.json").read_text())["examples"].values())
    annotation = json.loads((folder / "annotations" / "first_word_letter.json").read_text())["annotations"][0]
    return Task(
        name="first_word_letter",
        few_shot=examples[:5],
        dev=examples[5 : 5 + dev_size],
        test=examples[5 + dev_size : 5 + dev_size + test_size],
        masked_template=PromptTemplate("[MASK:4-10]\nInput: {{ input }}\nOutput: ||| {{ output }}"),
        human_seed=f"{annotation}\nInput: {{{{ input }}}}\nOutput: ||| {{{{ output }}}}",
        # exact_match scored 0.0 for every arm in a trial run (the target writes no letters), so
        # it cannot rank prompts; the per-token log-likelihood of the reference can.
        make_scorer=lambda target: SCORERS.create("loglik", target=target),
        max_target_calls=calls_per_arm,
        target_settings={},
    )


_AMAZON = re.compile(r"^Title: (?P<title>.*)\nReview: (?P<content>.*)\nIs the review positive or negative\?\n$", re.S)


def amazon_polarity(dev_size: int, test_size: int, calls_per_arm: int) -> Task:
    """Promptsource classification: review polarity; probability of the right choice of two."""
    path = DATA / "t0" / "amazon_polarity_Is_this_review.jsonl.gz"
    rows = [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")]
    by_label: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
    for row in rows:
        match = _AMAZON.match(row["prompt"])
        label = 1 if row["completion"].startswith("Positive") else 0
        # Reviews are cut to 200 characters so that a scoring pass stays cheap on a CPU.
        by_label[label].append({"title": match["title"], "content": match["content"][:200], "label": label})
    balanced = [example for pair in zip(by_label[0], by_label[1]) for example in pair]
    template = PromptTemplate.from_promptsource(DATA / "promptsource" / "amazon_polarity", "Is_this_review")
    masked = PromptTemplate(
        "Title: {{title}}\nReview: {{content}}\n[MASK:4-10] |||\n{{answer_choices[label]}}",
        answer_choices="Negative ||| Positive",
        dialect="promptsource",
    )
    return Task(
        name="amazon_polarity",
        few_shot=balanced[:2],
        dev=balanced[2 : 2 + dev_size],
        test=balanced[2 + dev_size : 2 + dev_size + test_size],
        masked_template=masked,
        human_seed=template,
        # The softmax probability of the right choice separates prompts that accuracy, on a dev
        # set this small, ties.
        make_scorer=lambda target: SCORERS.create("choice", target=target, metric="probability"),
        max_target_calls=calls_per_arm,
        target_settings={},
    )


def fresh_scorer(task: Task, infiller: PromptInfiller) -> tuple[Any, Any]:
    """Return a scorer on a new dlm target with its own cache, so that no arm reuses another's answers."""
    target = TARGETS.create("dlm", backend=infiller.backend, cache=MemoryCache(), **task.target_settings)
    return task.make_scorer(target), target


def infill_candidates(task: Task, infiller: PromptInfiller, scorer: Any, budget: SearchBudget, cap: int, seed: int, num_candidates: int) -> list[FilledTemplate]:
    """Fill the masked template and score candidates in model-score order until ``cap`` calls are spent."""
    result = infiller.fill(task.masked_template, task.few_shot, num_candidates=num_candidates, seed=seed)
    cost = budget.cost_of_scoring(len(task.dev))
    scored = []
    for candidate in result.candidates:
        if budget.spent + cost > cap:
            break
        try:
            candidate.score = scorer.score(candidate, task.dev)
        except ScorerError as error:
            candidate.error = str(error)
            continue
        scored.append(candidate)
    return sorted(scored, key=lambda c: -c.score.value)


def run_arm(arm: str, task: Task, infiller: PromptInfiller, seed: int, settings: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    scorer, target = fresh_scorer(task, infiller)
    budget = SearchBudget(max_target_calls=task.max_target_calls)
    budget.attach(scorer)
    search = RefineSearch(
        infiller, scorer, strategy=settings["strategy"], beam=settings["beam"], num_candidates=settings["refine_candidates"], seed=seed
    )
    stop_reason = None
    if arm == "infill":
        ranked = infill_candidates(task, infiller, scorer, budget, task.max_target_calls, seed, settings["fill_candidates"])
        best = ranked[0]
    elif arm == "search_human":
        result = search.run(task.human_seed, task.few_shot, dev_examples=task.dev, budget=budget)
        best, stop_reason = result.best, result.stop_reason
    else:
        ranked = infill_candidates(task, infiller, scorer, budget, task.max_target_calls // 2, seed, settings["fill_candidates"])
        result = search.run(ranked[: settings["beam"]], task.few_shot, dev_examples=task.dev, budget=budget)
        best, stop_reason = result.best, result.stop_reason
    spent = budget.spent
    seconds = time.perf_counter() - started

    # Held-out check of the chosen prompt on a fresh target, outside the budget.
    test_scorer, _ = fresh_scorer(task, infiller)
    test = test_scorer.score(best, task.test)
    return {
        "seed": seed,
        "dev_mean": round(best.score.value, 4),
        "dev_std": round(best.score.std, 4),
        "test_mean": round(test.value, 4),
        "test_std": round(test.std, 4),
        "target_calls": spent,
        "stop_reason": stop_reason,
        "seconds": round(seconds, 1),
        "best_prompt": best.source,
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    tests = [run["test_mean"] for run in runs]
    devs = [run["dev_mean"] for run in runs]
    return {
        "dev_mean_over_seeds": round(statistics.fmean(devs), 4),
        "test_mean_over_seeds": round(statistics.fmean(tests), 4),
        "test_spread_over_seeds": round(max(tests) - min(tests), 4),
        "target_calls_mean": statistics.fmean(run["target_calls"] for run in runs),
        "seconds_mean": round(statistics.fmean(run["seconds"] for run in runs), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="Seeds; each runs every arm once.")
    parser.add_argument("--dev", type=int, default=16, help="Dev examples per task (the selection set).")
    parser.add_argument("--test", type=int, default=24, help="Held-out examples per task.")
    parser.add_argument("--candidates-per-arm", type=int, default=5, help="Budget in full dev-set scorings per arm.")
    parser.add_argument("--tasks", nargs="+", default=["first_word_letter", "amazon_polarity"])
    parser.add_argument("--threads", type=int, default=1, help="torch threads; 1 on a shared CPU.")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    # The fill samples twice as many candidates as the budget can score, so that after duplicates
    # are merged the infill arm can still spend its whole budget.
    settings = {"beam": 1, "fill_candidates": 2 * args.candidates_per_arm, "refine_candidates": 3, "strategy": "least_confident"}
    sampler = SamplerConfig(temperature=0.8, top_p=0.95, length_trials=1, seed=0)
    infiller = PromptInfiller.from_pretrained(sampler=sampler)
    # Calls per full dev-set scoring: one request per example for generation, one per choice for ranking.
    calls_per_scoring = {"first_word_letter": args.dev, "amazon_polarity": 2 * args.dev}
    loaders = {"first_word_letter": first_word_letter, "amazon_polarity": amazon_polarity}

    started = time.perf_counter()
    report: dict[str, Any] = {"tasks": {}}
    for name in args.tasks:
        task = loaders[name](args.dev, args.test, args.candidates_per_arm * calls_per_scoring[name])
        arms: dict[str, Any] = {}
        for arm in ("infill", "search_human", "search_infill"):
            runs = [run_arm(arm, task, infiller, seed, settings) for seed in args.seeds]
            arms[arm] = {"runs": runs, "summary": summarize(runs)}
            print(name, arm, arms[arm]["summary"], flush=True)
        report["tasks"][name] = {"max_target_calls": task.max_target_calls, "dev_size": len(task.dev), "test_size": len(task.test), "arms": arms}
    report["settings"] = {
        **settings,
        "sampler": sampler.model_dump(),
        "seeds": args.seeds,
        "candidates_per_arm": args.candidates_per_arm,
        "scorers": {"first_word_letter": "loglik (dlm target)", "amazon_polarity": "choice (dlm target, metric=probability)"},
        "infiller": "embedded model (PromptInfiller.from_pretrained())",
        "threads": args.threads,
    }
    report["environment"] = {"python": platform.python_version(), "torch": torch.__version__, "machine": platform.machine(), "processor": platform.processor()}
    report["seconds_total"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} in {report['seconds_total']} s")


if __name__ == "__main__":
    main()
