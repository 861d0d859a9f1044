"""Compare infilled prompts with human-written prompts on held-out test splits.

For each data set, the instruction of a prompt is masked entirely and infilled by the embedded
model from a few-shot split. The candidates are ranked on a dev split by the scorer, and the
best one is then scored on a test split that no choice has seen. The human-written prompts
(promptsource templates for the classification data sets, the instruction-induction
annotations for the induction tasks) are scored on the same test split. The target model is the
embedded model itself.

Classification is scored by the ``choice`` scorer (accuracy of ranking the reference label word
first); instruction induction by ``exact_match`` against every acceptable output (execution
accuracy). The data splits are the files ``examples/data/make_data.py`` writes.

Run from the repository root::

    nice -n 5 python benchmarks/infilled_vs_manual.py

Writes ``benchmarks/results/infilled_vs_manual.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from promptfill import FilledTemplate, PromptInfiller, PromptTemplate, load_promptsource
from promptfill.embedded._split import split_template_files
from promptfill.scoring import ChoiceScorer, ExactMatchScorer, Scorer
from promptfill.targets import TARGETS, MemoryCache

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "data"
SHARED = ROOT.parent / "shared" / "data"

# Each classification data set: the promptsource folder, the template with its instruction
# masked (one hole after the input, where most promptsource templates ask their question), and
# the label words that template uses.
CLASSIFICATION = {
    "amazon_polarity": {
        "promptsource": "amazon_polarity",
        "template": "Title: {{ title }}\nReview: {{ content }}\n[MASK:3-8] ||| {{ answer_choices[label] }}",
        "answer_choices": "Negative ||| Positive",
    },
    "ag_news": {
        "promptsource": "ag_news",
        "template": "{{ text }}\n[MASK:3-8] ||| {{ answer_choices[label] }}",
        "answer_choices": "World politics ||| Sports ||| Business ||| Science and technology",
    },
    "glue_qqp": {
        "promptsource": "glue/qqp",
        "template": "{{ question1 }}\n{{ question2 }}\n[MASK:3-8] ||| {{ answer_choices[label] }}",
        "answer_choices": "no ||| yes",
    },
}
INDUCTION_TASKS = ("antonyms", "singular_to_plural", "sentiment")
INDUCTION_TEMPLATE = "[MASK:4-10]\nInput: {{ input }}\nOutput: ||| {{ output }}"
INDUCTION_MANUAL = "{instruction}\nInput: {{{{ input }}}}\nOutput: ||| {{{{ output }}}}"
# Answers of the induction tasks are one or two words; 4 response tokens cover them (WordPiece
# splits rare words) and keep generation at 4 forward passes per answer.
INDUCTION_MAX_TOKENS = 4


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def as_candidate(template: PromptTemplate) -> FilledTemplate:
    """Wrap a template without holes as a candidate, so scorers can score it like an infilled one."""
    settings = {**template.settings, "allow_no_holes": True}
    return FilledTemplate(
        source=template.source, fills=[], model_score=0.0, hole_lengths=[],
        template_source=template.source, template_settings=settings,
    )


def t0_file_name(dataset_path: str, template_name: str) -> str:
    """Return the T0 file name of a promptsource template: ``glue/qqp`` + ``duplicate or not`` -> ``glue_qqp_duplicate_or_not``."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", template_name).strip("_")
    return f"{dataset_path.replace('/', '_')}_{name}.jsonl.gz"


def trained_template_files() -> set[str]:
    """Return the T0 template files the embedded model was trained on."""
    train, _ = split_template_files(SHARED / "t0")
    return {path.name for path in train}


def score_summary(scorer: Scorer, candidate: FilledTemplate, examples: list[dict[str, Any]]) -> dict[str, Any]:
    score = scorer.score(candidate, examples)
    return {"mean": score.value, "std": score.std, "n": score.count}


def run_infilling(infiller: PromptInfiller, template: PromptTemplate, scorer: Scorer, fewshot, dev, test, args, seed: int) -> dict[str, Any]:
    """Infill the masked instruction, choose the best candidate on dev, and score it on test."""
    start = time.perf_counter()
    result = infiller.fill(
        template, fewshot, scorer=scorer, dev_examples=dev, halving=True,
        num_candidates=args.num_candidates, length_trials=args.length_trials, seed=seed,
        temperature=0.8, top_p=0.95,
    )
    best = result.best
    test_score = score_summary(scorer, best, test)
    return {
        "seed": seed,
        "best_fill": best.texts,
        "dev": {"mean": best.score.value, "std": best.score.std, "n": best.score.count},
        "test": test_score,
        "distinct_candidates": len(result),
        "seconds": round(time.perf_counter() - start, 1),
    }


def run_manual(prompts: list[dict[str, Any]], scorer: Scorer, dev, test) -> list[dict[str, Any]]:
    """Score each human-written prompt on dev (for choosing one) and on test."""
    rows = []
    for prompt in prompts:
        candidate = as_candidate(prompt.pop("template"))
        rows.append({**prompt, "dev": score_summary(scorer, candidate, dev), "test": score_summary(scorer, candidate, test)})
    return rows


def summarize(infilled: list[dict[str, Any]], manual: list[dict[str, Any]]) -> dict[str, Any]:
    """Reduce the runs to the numbers the table shows."""
    infilled_tests = [run["test"]["mean"] for run in infilled]
    manual_tests = [row["test"]["mean"] for row in manual]
    chosen = max(manual, key=lambda row: row["dev"]["mean"])  # the first of equal dev scores wins
    return {
        "infilled_test_mean": statistics.fmean(infilled_tests),
        "infilled_test_std_over_seeds": statistics.pstdev(infilled_tests),
        "manual_best_on_dev_test": chosen["test"]["mean"],
        "manual_best_on_dev_name": chosen["name"],
        "manual_test_mean": statistics.fmean(manual_tests),
        "manual_test_min": min(manual_tests),
        "manual_test_max": max(manual_tests),
    }


def classification(infiller: PromptInfiller, target, name: str, spec: dict[str, Any], args, trained: set[str]) -> dict[str, Any]:
    start = time.perf_counter()
    fewshot, dev, test = (read_jsonl(DATA / f"{name}_{split}.jsonl") for split in ("fewshot", "dev", "test"))
    dev, test = dev[: args.dev_limit], test[: args.test_limit]
    scorer = ChoiceScorer(target)
    template = PromptTemplate(spec["template"], answer_choices=spec["answer_choices"])
    infilled = [run_infilling(infiller, template, scorer, fewshot, dev, test, args, seed) for seed in args.seeds]

    prompts = []
    for source in load_promptsource(SHARED / "promptsource" / spec["promptsource"]):
        if not source.answer_choices:
            continue  # a generation template (such as writing a review), not a classifier
        prompts.append({
            "name": source.name,
            "seen_in_training": t0_file_name(source.dataset_path, source.name) in trained,
            "template": source.to_template(),
        })
    manual = run_manual(prompts, scorer, dev, test)
    summary = summarize(infilled, manual)
    # Always answering the test split's most frequent label: the floor a useful prompt must beat.
    labels = [example["label"] for example in test]
    summary["majority_label_test"] = max(labels.count(label) for label in set(labels)) / len(labels)
    return {
        "kind": "classification", "scorer": "choice", "fewshot": len(fewshot), "dev": len(dev), "test": len(test),
        "masked_template": spec["template"], "answer_choices": spec["answer_choices"],
        "infilled": infilled, "manual": manual, "summary": summary,
        "seconds": round(time.perf_counter() - start, 1),
    }


def induction(infiller: PromptInfiller, target, task: str, args) -> dict[str, Any]:
    start = time.perf_counter()
    fewshot, dev, test = (read_jsonl(DATA / f"ii_{task}_{split}.jsonl") for split in ("fewshot", "dev", "test"))
    dev, test = dev[: args.dev_limit], test[: args.test_limit]
    scorer = ExactMatchScorer(target, reference_field="outputs")
    infilled = [run_infilling(infiller, PromptTemplate(INDUCTION_TEMPLATE), scorer, fewshot, dev, test, args, seed) for seed in args.seeds]

    instructions = json.loads((DATA / f"{task}_instructions.json").read_text())[: args.max_annotations]
    prompts = [
        {
            "name": instruction,
            "seen_in_training": False,  # the embedded model was trained on T0 only
            # {% raw %} keeps braces in an annotation literal; escaping keeps a literal [MASK] text.
            "template": PromptTemplate(
                INDUCTION_MANUAL.format(instruction="{% raw %}" + instruction.replace("[MASK]", "\\[MASK]") + "{% endraw %}"),
                allow_no_holes=True,
            ),
        }
        for instruction in instructions
    ]
    manual = run_manual(prompts, scorer, dev, test)
    return {
        "kind": "instruction_induction", "scorer": "exact_match", "fewshot": len(fewshot), "dev": len(dev), "test": len(test),
        "masked_template": INDUCTION_TEMPLATE, "infilled": infilled, "manual": manual,
        "summary": summarize(infilled, manual), "seconds": round(time.perf_counter() - start, 1),
    }


def write_markdown(report: dict[str, Any], path: Path) -> None:
    lines = [
        "# Infilled vs human-written prompts (embedded model as infiller and target)",
        "",
        f"Test accuracy; infilled: the best of the candidates on the dev split, mean over seeds {report['settings']['seeds']} "
        "(± the spread over seeds); manual: the human-written prompt with the best dev score, and the mean and range of all of them.",
        "",
        "| data set | scorer | test n | infilled (best on dev) | manual (best on dev) | manual mean [min, max] | majority label | manual prompts seen in training |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, entry in report["datasets"].items():
        summary = entry["summary"]
        seen = sum(row["seen_in_training"] for row in entry["manual"])
        majority = f"{summary['majority_label_test']:.3f}" if "majority_label_test" in summary else "-"
        lines.append(
            f"| {name} | {entry['scorer']} | {entry['test']} | {summary['infilled_test_mean']:.3f} ± {summary['infilled_test_std_over_seeds']:.3f} "
            f"| {summary['manual_best_on_dev_test']:.3f} | {summary['manual_test_mean']:.3f} [{summary['manual_test_min']:.3f}, {summary['manual_test_max']:.3f}] "
            f"| {majority} | {seen} of {len(entry['manual'])} |"
        )
    lines += ["", "Best infilled instruction per data set and seed:", ""]
    for name, entry in report["datasets"].items():
        for run in entry["infilled"]:
            lines.append(f"- {name}, seed {run['seed']}: {' | '.join(run['best_fill'])!r} (dev {run['dev']['mean']:.3f}, test {run['test']['mean']:.3f})")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="Sampler seeds of the infilling runs.")
    parser.add_argument("--num-candidates", type=int, default=4, help="Candidates per hole length.")
    parser.add_argument("--length-trials", type=int, default=2, help="Hole lengths tried per hole.")
    parser.add_argument("--dev-limit", type=int, default=24, help="Dev examples used for choosing (at most).")
    parser.add_argument("--test-limit", type=int, default=60, help="Test examples scored (at most).")
    parser.add_argument("--max-annotations", type=int, default=5, help="Human-written instructions scored per induction task.")
    parser.add_argument("--datasets", nargs="+", default=[*CLASSIFICATION, *INDUCTION_TASKS], help="Data sets and tasks to run.")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads.")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="Folder for the JSON and Markdown results.")
    parser.add_argument("--note", default="", help="A note stored with the results, such as the machine's load.")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    infiller = PromptInfiller.from_pretrained()
    cache = MemoryCache()
    classification_target = TARGETS.create("dlm", backend=infiller.backend, cache=cache)
    induction_target = TARGETS.create("dlm", backend=infiller.backend, cache=cache, max_tokens=INDUCTION_MAX_TOKENS)
    trained = trained_template_files()

    datasets = {}
    for name in args.datasets:
        if name in CLASSIFICATION:
            datasets[name] = classification(infiller, classification_target, name, CLASSIFICATION[name], args, trained)
        elif name in INDUCTION_TASKS:
            datasets[name] = induction(infiller, induction_target, name, args)
        else:
            parser.error(f"unknown data set {name!r}; choose from {[*CLASSIFICATION, *INDUCTION_TASKS]}")
        print(f"{name}: {json.dumps(datasets[name]['summary'])} ({datasets[name]['seconds']} s)", flush=True)
        # Write after every data set, so an interrupted run keeps what it finished.
        write_report(args, classification_target, datasets, time.perf_counter() - start)
    print(f"total {time.perf_counter() - start:.1f} s; wrote {args.out / 'infilled_vs_manual.json'}")


def write_report(args, target, datasets: dict[str, Any], seconds: float) -> None:
    report = {
        "settings": {
            "infiller": "embedded", "target": target.identity() | {"max_tokens (induction)": INDUCTION_MAX_TOKENS},
            "seeds": args.seeds, "num_candidates": args.num_candidates, "length_trials": args.length_trials,
            "temperature": 0.8, "top_p": 0.95, "halving": "HalvingConfig defaults",
            "dev_limit": args.dev_limit, "test_limit": args.test_limit, "max_annotations": args.max_annotations,
            "threads": args.threads, "machine": platform.machine(), "python": platform.python_version(),
            "torch": torch.__version__, "note": args.note,
        },
        "datasets": datasets,
        "seconds": round(seconds, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "infilled_vs_manual.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    write_markdown(report, args.out / "infilled_vs_manual.md")


if __name__ == "__main__":
    main()
