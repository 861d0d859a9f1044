"""Time DiffusionTarget.generate on the embedded model at batch sizes 1, 8 and 32, on the CPU.

The 64 prompts are the first 64 examples of ``examples/data/ii_singular_to_plural_test.jsonl``
rendered with one instruction (see ``INSTRUCTION``), the kind of prompt a generation scorer
sends for each candidate. Each batch size gets a fresh target without a cache, answers all 64
prompts with ``max_tokens=4`` once untimed (warm-up) and then ``--repeats`` timed times, and the
row keeps the median. A wrapper around the backend's ``logits`` counts the forward passes and
the rows they received.

Other processes may share the cores, so the results record ``os.getloadavg()`` before and after
the run, next to the CPU model and the torch thread count.

Writes ``benchmarks/results/dlm_target.json`` and ``benchmarks/results/dlm_target.md``.

Usage::

    nice -n 5 python benchmarks/dlm_target.py             # 1 torch thread, 3 repeats
    python benchmarks/dlm_target.py --threads 2 --repeats 1
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import torch
import transformers

from promptfill.embedded import load_embedded_backend
from promptfill.targets import DiffusionTarget

REPOSITORY = Path(__file__).resolve().parents[1]
RESULTS = REPOSITORY / "benchmarks" / "results"
EXAMPLES = REPOSITORY / "examples" / "data" / "ii_singular_to_plural_test.jsonl"
NUM_PROMPTS = 64
MAX_TOKENS = 4
BATCH_SIZES = (1, 8, 32)
INSTRUCTION = "Write the plural form of the input word."


class CountingBackend:
    """Wrap a backend's ``logits`` to count forward passes and the rows they received."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.forward_passes = 0
        self.rows = 0
        self._logits = backend.logits
        backend.logits = self._count

    def _count(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        self.forward_passes += 1
        self.rows += int(input_ids.shape[0])
        return self._logits(input_ids, attention_mask)

    def reset(self) -> None:
        self.forward_passes = 0
        self.rows = 0


def load_prompts() -> tuple[list[str], list[str]]:
    """Return the rendered prompts and their reference answers."""
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()[:NUM_PROMPTS]
    examples = [json.loads(line) for line in lines]
    prompts = [f"{INSTRUCTION}\nInput: {example['input']}\nOutput:" for example in examples]
    return prompts, [example["output"] for example in examples]


def measure(counter: CountingBackend, prompts: list[str], batch_size: int, repeats: int) -> dict[str, Any]:
    """Time one batch size: a warm-up call, then ``repeats`` timed calls on fresh targets."""
    DiffusionTarget(counter.backend, max_tokens=MAX_TOKENS, batch_size=batch_size).generate(prompts)
    seconds = []
    for _ in range(repeats):
        target = DiffusionTarget(counter.backend, max_tokens=MAX_TOKENS, batch_size=batch_size)
        counter.reset()
        started = time.perf_counter()
        responses = target.generate(prompts)
        seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    return {
        "batch_size": batch_size,
        "seconds_median": round(median, 3),
        "seconds_all": [round(value, 3) for value in seconds],
        "prompts_per_second": round(len(prompts) / median, 2),
        "forward_passes": counter.forward_passes,
        "rows_per_forward_pass": round(counter.rows / counter.forward_passes, 2),
        "answers": [response.text for response in responses],
    }


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or platform.processor() elsewhere."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_commit() -> str:
    """Return the checked-out commit, or "unknown" outside a git checkout."""
    try:
        output = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPOSITORY, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return output.stdout.strip()


def markdown_report(config: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    machine = config["machine"]
    load = config["load_average"]
    lines = [
        "# dlm target generation",
        "",
        f"`DiffusionTarget.generate` on {config['num_prompts']} prompts, embedded model, "
        f"`max_tokens={config['max_tokens']}`, greedy decoding, median of {config['repeats']} runs. "
        f"{machine['cpu']} ({machine['cpu_count']} cores), torch {config['torch']}, "
        f"{config['torch_threads']} torch thread(s), {config['date']}.",
        "",
        f"Other processes shared the CPU: load average (1, 5, 15 min) {load['at_start']} at the start "
        f"and {load['at_end']} at the end.",
        "",
        "| batch_size | seconds | prompts/s | forward passes | rows per pass | speed-up vs 1 |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    baseline = rows[0]["seconds_median"]
    for row in rows:
        lines.append(
            f"| {row['batch_size']} | {row['seconds_median']:.2f} | {row['prompts_per_second']:.1f} | "
            f"{row['forward_passes']} | {row['rows_per_forward_pass']:.1f} | {baseline / row['seconds_median']:.2f}x |"
        )
    lines += [
        "",
        f"Answers identical at every batch size: {config['answers_identical']}. "
        f"Exact match with the reference plurals: {config['exact_match']:.3f}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1, for shared cores)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per batch size (default 3)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    load_at_start = [round(value, 2) for value in os.getloadavg()]
    prompts, references = load_prompts()
    counter = CountingBackend(load_embedded_backend(device="cpu"))

    rows = [measure(counter, prompts, batch_size, args.repeats) for batch_size in BATCH_SIZES]

    answers = rows[0]["answers"]
    config = {
        "script": "benchmarks/dlm_target.py",
        "commit": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "num_prompts": len(prompts),
        "examples": str(EXAMPLES.relative_to(REPOSITORY)),
        "instruction": INSTRUCTION,
        "max_tokens": MAX_TOKENS,
        "repeats": args.repeats,
        "model": "embedded (promptfill.embedded.load_embedded_backend)",
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu": cpu_model(),
            "cpu_count": os.cpu_count(),
            "device": "cpu",
        },
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "torch_threads": args.threads,
        # Other processes may share the cores, so the load average shows how busy they were.
        "load_average": {"at_start": load_at_start, "at_end": [round(value, 2) for value in os.getloadavg()]},
        "answers_identical": all(row["answers"] == answers for row in rows),
        "exact_match": sum(answer == reference for answer, reference in zip(answers, references)) / len(answers),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dlm_target.json").write_text(json.dumps({"config": config, "rows": rows}, indent=2) + "\n")
    (RESULTS / "dlm_target.md").write_text(markdown_report(config, rows))
    print(markdown_report(config, rows))


if __name__ == "__main__":
    main()
