"""Build the embedded default model from scratch.

Usage::

    python -m promptfill.embedded.build --data ../shared/data/t0 --minutes 75

Trains the pip-installed all-MiniLM-L6-v2 encoder with a new masked-LM head by full-sequence
masking SFT (LoRA on every linear layer, LayerNorms and head trained whole) on the T0 template
files outside the held-out split, measures masked-token accuracy at 15% masking on the held-out
templates, and writes the weight delta into ``promptfill/embedded/weights/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import time
from pathlib import Path

import torch
from transformers import BertForMaskedLM

from ..training import LoraSettings, MaskingConfig, TrainConfig, train
from ._base import build_base_model
from ._delta import export_delta
from ._split import split_template_files

logger = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).parent / "weights"


def build(data_dir: Path, work_dir: Path, minutes: float, max_steps: int, examples_per_file: int, eval_examples_per_file: int, batch_size: int, seed: int, out_dir: Path = WEIGHTS_DIR) -> dict:
    """Train, export and evaluate the embedded model; return the summary written to ``build.json``."""
    train_files, held_out_files = split_template_files(data_dir)
    config = TrainConfig(
        model="embedded-base",
        train_files=train_files,
        eval_files=held_out_files,
        output_dir=work_dir,
        masking=MaskingConfig(mode="full_sequence"),
        lora=LoraSettings(r=64, alpha=128),
        max_length=128,
        max_response_length=32,
        max_examples_per_file=examples_per_file,
        max_eval_examples_per_file=eval_examples_per_file,
        per_device_batch_size=batch_size,
        learning_rate=1e-3,
        max_steps=max_steps,
        max_time_minutes=minutes,
        eval_steps=500,
        save_steps=250,
        logging_steps=25,
        seed=seed,
    )
    started = time.time()
    final_dir = train(config)
    return export(final_dir, train_files, held_out_files, out_dir, seed, rank=config.lora.r, wall_minutes=(time.time() - started) / 60)


def export(final_dir: Path, train_files: list[Path], held_out_files: list[Path], out_dir: Path, seed: int, rank: int, wall_minutes: float | None) -> dict:
    """Write the weight delta of a finished run and its ``build.json`` record into ``out_dir``."""
    tuned = BertForMaskedLM.from_pretrained(str(final_dir))
    base, _ = build_base_model(seed=seed)
    summary = export_delta(tuned, base, out_dir, rank=rank)
    record = json.loads((final_dir / "promptfill_training.json").read_text())
    build_record = {
        "train_templates": len(train_files),
        "held_out_templates": [p.name for p in held_out_files],
        "steps": record["global_step"],
        "wall_time_minutes": None if wall_minutes is None else round(wall_minutes, 1),
        "hardware": f"{platform.machine()} CPU, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "held_out_metrics_at_15_percent": record["final_metrics"],
        "delta": {
            "low_rank_tensors": len(summary["low_rank"]), "full_tensors": len(summary["full"]),
            "rank": summary["rank"], "dtype": summary["dtype"], "max_low_rank_error": summary["max_low_rank_error"],
            "bytes": (out_dir / "delta.safetensors").stat().st_size,
        },
        "config": {**record["config"], "train_files": [Path(f).name for f in record["config"]["train_files"]],
                   "eval_files": [Path(f).name for f in record["config"]["eval_files"]], "output_dir": "WORK_DIR"},
    }
    (out_dir / "build.json").write_text(json.dumps(build_record, indent=1, default=str) + "\n")
    return build_record


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the embedded promptfill model from scratch.")
    parser.add_argument("--data", type=Path, required=True, help="directory of T0 .jsonl.gz template files")
    parser.add_argument("--work-dir", type=Path, default=Path("artifacts/embedded-run"), help="checkpoints go here")
    parser.add_argument("--minutes", type=float, default=75.0, help="wall-time budget of training")
    parser.add_argument("--max-steps", type=int, default=20000, help="optimiser steps (the time budget usually ends first)")
    parser.add_argument("--examples-per-file", type=int, default=200, help="training pairs read per template file")
    parser.add_argument("--eval-examples-per-file", type=int, default=20, help="held-out pairs per held-out template")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="where the shipped delta is written")
    parser.add_argument("--export-only", action="store_true", help="skip training; export WORK_DIR/final")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.export_only:
        train_files, held_out_files = split_template_files(args.data)
        record = export(args.work_dir / "final", train_files, held_out_files, args.out, args.seed, rank=64, wall_minutes=None)
        logger.info("held-out metrics: %s", record["held_out_metrics_at_15_percent"])
        return
    record = build(args.data, args.work_dir, args.minutes, args.max_steps, args.examples_per_file, args.eval_examples_per_file, args.batch_size, args.seed, args.out)
    logger.info("held-out metrics: %s", record["held_out_metrics_at_15_percent"])


if __name__ == "__main__":
    main()
