"""Measure what scoring costs: HTTP concurrency of the OpenAI-compatible target.

Section ``http_concurrency``: a loopback OpenAI-compatible server (``benchmarks/_openai_server.py``)
adds a fixed latency to every request, standing in for a model server's response time.
``--requests`` distinct prompts go through :class:`promptfill.OpenAITarget` (chat mode, no cache)
at each concurrency level. If requests overlapped perfectly, a batch would take
``requests * latency / concurrency`` seconds, so the script reports the efficiency
``ideal / measured``: 1.0 means no overhead, and lower values show client, server and thread
costs on this machine. Each level runs once untimed to open the connections, then ``--repeats``
timed times, and the row keeps the median.

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


# Early dropping (successive halving) goes here: add a measure_... function that returns its
# section as a dict, a markdown_... function, and an entry in SECTIONS under its own key.
SECTIONS: dict[str, tuple[Callable[[argparse.Namespace], dict[str, Any]], Callable[[dict[str, Any]], list[str]]]] = {
    "http_concurrency": (measure_http_concurrency, markdown_http_concurrency),
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
    parser.add_argument("--quick", action="store_true", help="20 requests, 1 repeat, print the results and write nothing.")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.repeats = 20, 1

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
