"""`promptfill fill` killed by SIGKILL at random moments and resumed ends as an uninterrupted run.

Each kill waits until the run has recorded a randomly chosen number of lines (sampled
combinations plus scorings), then a random extra delay, so kills land mid-run however fast or
loaded the machine is. The delays come from a seeded generator, so a failure repeats.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from promptfill.cli import app

SEED = 7
MAX_WAIT_SECONDS = 120.0  # per process; bounds the test on a stalled machine
DEV = [{"text": f"film number {i} was {'good' if i % 2 else 'bad'}", "label": "positive" if i % 2 else "negative"} for i in range(16)]


def write_task(directory: Path, model_dir: Path) -> Path:
    task = {
        "model": str(model_dir),
        "device": "cpu",
        "template": "Review: {{ text }} [MASK:1-4] ||| {{ label }}",
        "examples": DEV[:2],
        "dev_examples": DEV,
        "sampler": {"num_candidates": 3, "temperature": 1.5, "length_trials": 4},
        "scorer": "loglik",
        "halving": {"min_examples": 4, "eta": 2, "keep": 2},
    }
    path = directory / "task.yaml"
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    return path


def environment() -> dict[str, str]:
    env = dict(os.environ)
    # One thread per process keeps kernels identical across processes and the load predictable.
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    return env


def fill_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "promptfill", "fill", *args, "--json"]


def run_to_end(command: list[str]) -> dict:
    finished = subprocess.run(command, capture_output=True, text=True, env=environment(), timeout=MAX_WAIT_SECONDS)
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout)


def run_in_process(args: list[str]) -> dict:
    """Run the CLI in this process (saving a Python start-up) with the subprocesses' one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = CliRunner().invoke(app, ["fill", *args, "--json"])
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def recorded_lines(run_dir: Path) -> int:
    total = 0
    for name in ("sampled.jsonl", "scores.jsonl"):
        path = run_dir / name
        if path.exists():
            total += path.read_bytes().count(b"\n")
    return total


def kill_mid_run(command: list[str], run_dir: Path, rng: random.Random, lines_before: int, max_new_lines: int) -> bool:
    """Start ``command``, SIGKILL it after a random number of new records; return whether it was killed."""
    target = lines_before + rng.randint(1, max_new_lines)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment())
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while process.poll() is None and recorded_lines(run_dir) < target and time.monotonic() < deadline:
        time.sleep(0.002)
    # A few records take milliseconds on a fast machine, so the extra delay stays shorter than one.
    time.sleep(rng.uniform(0.0, 0.005))
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return True


def assert_json_files_whole(run_dir: Path) -> None:
    """Every JSON file parses; every JSONL line but a torn last one parses."""
    for path in run_dir.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
    for path in run_dir.glob("*.jsonl"):
        text = path.read_text(encoding="utf-8")
        complete = text[: text.rfind("\n") + 1]
        for line in complete.splitlines():
            json.loads(line)


def assert_no_duplicates(run_dir: Path) -> None:
    sampled = [json.loads(line)["combination"] for line in (run_dir / "sampled.jsonl").read_text().splitlines()]
    scores = [(record["key"], record["examples"]) for record in map(json.loads, (run_dir / "scores.jsonl").read_text().splitlines())]
    assert sorted(sampled) == sorted(set(sampled))
    assert len(scores) == len(set(scores))


def ranking(result: dict) -> list[tuple]:
    return [([fill["text"] for fill in c["fills"]], c["score"], c["rank"], c["eliminated_in_round"]) for c in result["candidates"]]


def kill_and_resume(tmp_path: Path, model_dir: Path, kills: int, rng_seed: int) -> None:
    task = write_task(tmp_path, model_dir)
    baseline = run_in_process([str(task), "--run-dir", str(tmp_path / "baseline"), "--seed", str(SEED)])
    total_lines = recorded_lines(tmp_path / "baseline")

    run_dir = tmp_path / "run"
    rng = random.Random(rng_seed)
    killed = cut_short = 0
    for attempt in range(kills):
        command = fill_command(str(task), "--run-dir", str(run_dir), "--seed", str(SEED)) if attempt == 0 else fill_command("--resume", str(run_dir))
        before = recorded_lines(run_dir)
        # Aim at least four records before the end, so the kill lands before result.json.
        remaining = max(1, total_lines - before - 4)
        if kill_mid_run(command, run_dir, rng, before, min(remaining, max(1, total_lines // kills))):
            killed += 1
            cut_short += not (run_dir / "result.json").exists()
        assert_json_files_whole(run_dir)
    assert killed >= 1, "no kill landed before the run finished"
    # A kill can land after result.json, while the report is written; one must have cut a run short.
    assert cut_short >= 1, "every kill landed after the result was written"

    resumed = run_to_end(fill_command("--resume", str(run_dir)))
    assert ranking(resumed) == ranking(baseline)
    assert ranking(json.loads((run_dir / "result.json").read_text())) == ranking(baseline)
    assert_json_files_whole(run_dir)
    for name in ("sampled.jsonl", "scores.jsonl"):
        assert (run_dir / name).read_text().endswith("\n")
    assert_no_duplicates(run_dir)
    assert len(json.loads((run_dir / "environment.json").read_text())["resumes"]) == kills
    assert not list(run_dir.glob(".*.tmp"))


def test_three_sigkills_then_resume_match(tmp_path, tiny_bert_dir):
    kill_and_resume(tmp_path, tiny_bert_dir, kills=3, rng_seed=0)


@pytest.mark.slow
def test_six_sigkills_then_resume_match(tmp_path, tiny_bert_dir):
    kill_and_resume(tmp_path, tiny_bert_dir, kills=6, rng_seed=1)
