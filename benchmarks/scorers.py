"""Measure what scoring costs: HTTP concurrency of the OpenAI target, and calls saved by early dropping.

Section ``http_concurrency``: a loopback OpenAI-compatible server (``benchmarks/_openai_server.py``)
adds a fixed latency to every request, standing in for a model server's response time.
``--requests`` distinct prompts go through :class:`promptfill.OpenAITarget` (chat mode, no cache)
at each concurrency level. If requests overlapped perfectly, a batch would take
``requests * latency / concurrency`` seconds, so the script reports the efficiency
``ideal / measured``: 1.0 means no overhead, and lower values show client, server and thread
costs on this machine. Each level runs once untimed to open the connections, then ``--repeats``
timed times, and the row keeps the median.

Section ``early_dropping``: the two example tasks are ``examples/classification.yaml`` (scored by
answer-choice ranking) and ``examples/instruction_induction.yaml`` (scored by exact match), each
also with a graded scorer. For each, one pool of infilled candidates is scored in full and by
successive halving, against the embedded model as target. The section reports the target calls
of each and whether both pick the same winner.

The results file contains one key per section, and each run replaces only the sections it ran,
so later sections (such as the early-dropping measurement of successive halving) can be added
to ``SECTIONS`` below without rerunning this one.

Writes ``benchmarks/results/scorers.json`` and ``benchmarks/results/scorers.md``.

Usage::

    python benchmarks/scorers.py                   # every section: about 45 s on a 2-core AMD EPYC
    python benchmarks/scorers.py --quick           # 20 requests, 1 repeat, writes nothing
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from _openai_server import OpenAIServer

from promptfill import OpenAITarget

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS = REPOSITORY / "benchmarks" / "results"
CONCURRENCY_LEVELS = (1, 4, 16)
# 50 ms is an estimate of a short completion from a local model server. It is long enough that
# the client's per-request overhead shows as a loss of efficiency without dominating the time.
LATENCY_SECONDS = 0.05


# Section: http_concurrency.


def measure_http_concurrency(args: argparse.Namespace) -> dict[str, Any]:
    """Time ``args.requests`` prompts through OpenAITarget at each concurrency level."""
    prompts = [f"benchmark prompt number {index}" for index in range(args.requests)]
    rows = []
    with OpenAIServer(latency=args.latency) as server:
        for concurrency in CONCURRENCY_LEVELS:
            with OpenAITarget(server.base_url, "loopback", api_key_env=None, concurrency=concurrency, max_retries=0, timeout=30.0) as target:
                target.generate([f"warm-up {index}" for index in range(concurrency)])
                server.reset()
                seconds = []
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    responses = target.generate(prompts)
                    seconds.append(time.perf_counter() - started)
                    failed = [r.error for r in responses if not r.ok]
                    if failed:
                        raise RuntimeError(f"{len(failed)} benchmark requests failed; first: {failed[0]}")
                    # A target without a cache sends every prompt again on the next repeat.
            median = statistics.median(seconds)
            ideal = args.requests * args.latency / concurrency
            # When concurrency does not divide the request count, the last round is partly
            # idle, so even a perfect client reaches only ideal / (rounds * latency).
            rounds = math.ceil(args.requests / concurrency)
            rows.append({
                "concurrency": concurrency,
                "requests": args.requests,
                "seconds_median": round(median, 3),
                "seconds_repeats": [round(value, 3) for value in seconds],
                "ideal_seconds": round(ideal, 3),
                "efficiency": round(ideal / median, 3),
                "efficiency_bound": round(ideal / (rounds * args.latency), 3),
                "requests_per_second": round(args.requests / median, 1),
                "peak_in_flight": server.peak_in_flight,
            })
    return {
        "latency_seconds": args.latency,
        "repeats": args.repeats,
        "target": "OpenAITarget, mode chat, max_retries 0, no cache",
        "server": "benchmarks/_openai_server.py (http.server.ThreadingHTTPServer) on 127.0.0.1, in the same process",
        "timing": "median wall seconds of target.generate(prompts) over the repeats, after 1 untimed warm-up batch",
        "rows": rows,
    }


def markdown_http_concurrency(section: dict[str, Any]) -> list[str]:
    """Return the Markdown lines of the http_concurrency section."""
    lines = [
        "## HTTP concurrency (OpenAITarget)",
        "",
        f"Loopback server adding {section['latency_seconds'] * 1000:.0f} ms per request; {section['timing']}. "
        "Ideal = requests x latency / concurrency; efficiency = ideal / measured. The bound is the "
        "efficiency of a client without overhead, below 1 when concurrency does not divide the requests. "
        "The server runs in the client's process, so at high concurrency both share one interpreter "
        "and the same busy cores.",
        "",
        "| concurrency | requests | seconds (median) | ideal seconds | efficiency | bound | requests/s | peak in flight |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in section["rows"]:
        lines.append(
            f"| {row['concurrency']} | {row['requests']} | {row['seconds_median']:.2f} | {row['ideal_seconds']:.2f} "
            f"| {row['efficiency']:.2f} | {row['efficiency_bound']:.2f} | {row['requests_per_second']:.1f} | {row['peak_in_flight']} |"
        )
    return lines


# Section: early_dropping.

# The two example tasks with real data, each scored by its task file's scorer and target, and
# again by a scorer with graded values. With the embedded model as target, the task scorers give
# every candidate the same value, so only graded scores show whether halving keeps the winner.
EARLY_DROPPING_TASKS = (
    ("examples/classification.yaml", None),
    ("examples/instruction_induction.yaml", None),
    ("examples/classification.yaml", {"name": "choice", "settings": {"metric": "probability"}}),
    ("examples/instruction_induction.yaml", {"name": "loglik", "settings": {"reference_field": "output"}}),
)
EARLY_DROPPING_SEEDS = (0, 1, 2)


def measure_early_dropping(args: argparse.Namespace) -> dict[str, Any]:
    """Score one candidate pool in full and by successive halving; count target calls and compare top-1.

    For each task and seed the embedded model infills one pool of candidates. The pool is scored
    twice with fresh response caches: on every dev example, and by successive halving with the
    default HalvingConfig. The target is the embedded model itself (the task's dlm target), so
    each call is a real model call; ``stats.requests`` counts them.
    """
    from promptfill import HalvingConfig, PromptInfiller, PromptTemplate
    from promptfill.cli._task import ScorerSpec, load_task_file
    from promptfill.scoring import evaluate_candidates, resolve_scorer
    from promptfill.targets import TARGETS, MemoryCache

    infiller = PromptInfiller.from_pretrained()
    halving = HalvingConfig()
    rows = []
    for task_file, scorer_override in EARLY_DROPPING_TASKS:
        spec, base = load_task_file(REPOSITORY / task_file)
        if scorer_override is not None:
            spec = spec.model_copy(update={"scorer": ScorerSpec(**scorer_override)})
        template = PromptTemplate(spec.template_source(base), answer_separator=spec.answer_separator,
                                  answer_choices=spec.answer_choices, default_hole_length=spec.default_hole_length)
        examples, dev = spec.load_examples(base), spec.load_dev_examples(base)
        if args.dev_limit:
            dev = dev[: args.dev_limit]
        for seed in EARLY_DROPPING_SEEDS[: args.seeds]:
            # A larger pool than the task's own, so that halving has losers to drop.
            sampler = spec.sampler.model_copy(update={"num_candidates": args.num_candidates, "length_trials": 3})
            pool = infiller.fill(template, examples, sampler=sampler, seed=seed).candidates
            outcome = {}
            for mode in ("full", "halving"):
                candidates = [c.model_copy(deep=True) for c in pool]
                scorer = resolve_scorer(spec.scorer_name, **spec.scorer_settings)
                scorer.target = TARGETS.create("dlm", backend=infiller.backend, cache=MemoryCache(), **spec.target_settings)
                started = time.perf_counter()
                evaluate_candidates(scorer, candidates, dev, halving=halving if mode == "halving" else None)
                survivors = [c for c in candidates if c.score is not None and c.eliminated_in_round is None]
                best = max(survivors, key=lambda c: (c.score.value, c.model_score))
                outcome[mode] = {"calls": scorer.target.stats.requests, "seconds": round(time.perf_counter() - started, 2),
                                 "best": best.texts, "best_score": round(best.score.value, 4)}
            rows.append({
                "task": task_file, "seed": seed, "candidates": len(pool), "dev_examples": len(dev),
                "scorer": spec.scorer_name, "scorer_settings": spec.scorer_settings, **{f"{mode}_{key}": value for mode in outcome for key, value in outcome[mode].items()},
                "same_top1": outcome["full"]["best"] == outcome["halving"]["best"],
                # Equal scores can pick different texts; a tie at the top is the same choice in value.
                "same_top1_score": outcome["full"]["best_score"] == outcome["halving"]["best_score"],
                "calls_saved": round(1 - outcome["halving"]["calls"] / outcome["full"]["calls"], 3),
            })
    return {"halving": halving.model_dump(), "num_candidates": args.num_candidates, "length_trials": 3, "rows": rows}


def markdown_early_dropping(section: dict[str, Any]) -> list[str]:
    """Return the Markdown lines of the early_dropping section."""
    settings = section["halving"]
    lines = [
        "## Early dropping (successive halving)",
        "",
        f"One candidate pool per task and seed, scored on every dev example and by successive halving "
        f"(min_examples {settings['min_examples']}, eta {settings['eta']}, keep {settings['keep']}); the target is the "
        "embedded model, calls are real model calls counted by the target. Top-1 compares the winner's fills; "
        "'same score' also counts ties at the top.",
        "",
        "| task | scorer | seed | candidates | dev | calls (full) | calls (halving) | saved | same top-1 | same top-1 score | best score (full / halving) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for row in section["rows"]:
        lines.append(
            f"| {row['task']} | {row['scorer']}{_settings_note(row)} | {row['seed']} | {row['candidates']} | {row['dev_examples']} | {row['full_calls']} "
            f"| {row['halving_calls']} | {row['calls_saved']:.0%} | {'yes' if row['same_top1'] else 'no'} "
            f"| {'yes' if row['same_top1_score'] else 'no'} | {row['full_best_score']:.3f} / {row['halving_best_score']:.3f} |"
        )
    return lines


def _settings_note(row: dict[str, Any]) -> str:
    settings = row.get("scorer_settings") or {}
    shown = {key: value for key, value in settings.items() if key != "reference_field"}
    return "" if not shown else " (" + ", ".join(f"{key}={value}" for key, value in shown.items()) + ")"


SECTIONS: dict[str, tuple[Callable[[argparse.Namespace], dict[str, Any]], Callable[[dict[str, Any]], list[str]]]] = {
    "http_concurrency": (measure_http_concurrency, markdown_http_concurrency),
    "early_dropping": (measure_early_dropping, markdown_early_dropping),
}


# Machine description.


def busy_cpu_seconds() -> tuple[float, float]:
    """Return busy CPU seconds of the whole machine (from /proc/stat) and of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    own = usage.ru_utime + usage.ru_stime
    try:
        columns = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return float("nan"), own
    # user, nice, system, irq, softirq and steal, in clock ticks.
    ticks = sum(int(columns[index]) for index in (1, 2, 3, 6, 7, 8))
    return ticks / os.sysconf("SC_CLK_TCK"), own


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or platform.processor() elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_machine(started: float, busy_before: tuple[float, float], load_before: float) -> dict[str, Any]:
    """Return the hardware, software and load the run had."""
    wall_seconds = time.perf_counter() - started
    machine, own = busy_cpu_seconds()
    other = (machine - busy_before[0]) - (own - busy_before[1])
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "httpx": httpx.__version__,
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "benchmark_wall_seconds": round(wall_seconds, 1),
        # Share of all cores that other processes used meanwhile: 0 is an idle machine, 0.5 means
        # they used one of two cores throughout.
        "other_processes_cpu_share": round(max(other, 0.0) / (wall_seconds * (os.cpu_count() or 1)), 3),
        "load_average_1min": {"at_start": load_before, "at_end": os.getloadavg()[0]},
    }


def write_results(results: dict[str, Any]) -> None:
    """Write the JSON results and the Markdown table of every section they contain."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scorers.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = ["# Scoring benchmarks", ""]
    for name, (_, render) in SECTIONS.items():
        if name in results:
            machine = results[name]["machine"]
            lines += render(results[name])
            lines += [
                "",
                f"Machine: {machine['cpu']} ({machine['cpu_count']} cores), Python {machine['python']}, "
                f"httpx {machine['httpx']}, {machine['date_utc']}; other processes used "
                f"{machine['other_processes_cpu_share']:.0%} of the cores meanwhile.",
                "",
            ]
    (RESULTS / "scorers.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=sorted(SECTIONS), action="append", help="Run only this section (repeatable); default: all.")
    parser.add_argument("--requests", type=int, default=200, help="Prompts per timed batch (default 200).")
    parser.add_argument("--latency", type=float, default=LATENCY_SECONDS, help="Seconds the server adds per request (default 0.05).")
    parser.add_argument("--repeats", type=int, default=3, help="Timed batches per concurrency level; the median is kept (default 3).")
    parser.add_argument("--seeds", type=int, default=len(EARLY_DROPPING_SEEDS), help="Candidate pools per task for early_dropping (default 3).")
    parser.add_argument("--num-candidates", type=int, default=8, help="Candidates per hole-length combination in early_dropping (default 8, 3 lengths).")
    parser.add_argument("--dev-limit", type=int, default=None, help="Use only the first N dev examples in early_dropping.")
    parser.add_argument("--quick", action="store_true", help="20 requests, 1 repeat, 1 seed, 8 dev examples; print the results and write nothing.")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.repeats, args.seeds, args.dev_limit = 20, 1, 1, 8

    path = RESULTS / "scorers.json"
    results = json.loads(path.read_text()) if path.exists() and not args.quick else {}
    for name in args.section or list(SECTIONS):
        started, busy_before, load_before = time.perf_counter(), busy_cpu_seconds(), os.getloadavg()[0]
        measure, _ = SECTIONS[name]
        section = measure(args)
        section["machine"] = describe_machine(started, busy_before, load_before)
        results[name] = section
    if args.quick:
        print(json.dumps(results, indent=2))
    else:
        write_results(results)


if __name__ == "__main__":
    main()
