"""Compare the training step of our trainer with a plain transformers masked-LM step.

Both variants train the same model (the embedded model's base: MiniLM encoder, 6 layers, hidden
384, vocabulary 30,522, all weights trainable) with AdamW on the same pre-collated batches of
real T0 pairs (batch 16, up to 128 tokens, masked by our full-sequence collator):

* ``plain``: ``BertForMaskedLM(input_ids, attention_mask, labels).loss``, the stock masked-LM
  loss, which runs the output head on every position;
* ``promptfill``: ``MaskedDiffusionTrainer.compute_loss``, which runs the head on masked
  positions only and applies the 1/t weight.

Each variant runs in its own subprocess so that peak resident memory (``ru_maxrss``) is its own.
Writes ``benchmarks/results/training.json``.

Usage::

    python benchmarks/training.py --steps 20
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).parent / "results" / "training.json"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "t0"


def make_batches(path: Path, steps: int, batch_size: int) -> None:
    from promptfill.embedded._base import build_base_model
    from promptfill.embedded._split import split_template_files
    from promptfill.training import MaskedDiffusionCollator, PairTokenizer, read_pairs

    _, tokenizer = build_base_model()
    train_files, _ = split_template_files(DATA)
    pair_tokenizer = PairTokenizer(tokenizer, 128, 32)
    items = [pair_tokenizer(pair) for file in train_files[: steps * batch_size // 4 + 1] for pair in read_pairs(file, limit=4)]
    collator = MaskedDiffusionCollator(
        tokenizer.mask_token_id, tokenizer.pad_token_id,
        special_token_ids=[tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id],
        generator=torch.Generator().manual_seed(0),
    )
    batches = [collator(items[i * batch_size : (i + 1) * batch_size]) for i in range(steps)]
    torch.save(batches, path)


def run_variant(variant: str, batches_path: Path, warmup: int) -> dict:
    from promptfill.embedded._base import build_base_model
    from promptfill.training import MaskedDiffusionTrainer

    torch.manual_seed(0)
    model, _ = build_base_model()
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batches = torch.load(batches_path)
    compute_loss = MaskedDiffusionTrainer.compute_loss
    tokens = 0
    started = None
    for step, batch in enumerate(batches):
        if step == warmup:
            started = time.perf_counter()
        if variant == "plain":
            loss = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]).loss
        else:
            loss = compute_loss(None, model, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= warmup:
            tokens += int(batch["attention_mask"].sum())
    elapsed = time.perf_counter() - started
    return {
        "tokens_per_second": round(tokens / elapsed, 1),
        "seconds_per_step": round(elapsed / (len(batches) - warmup), 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "timed_steps": len(batches) - warmup,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Compare training-step speed and memory.")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--variant", choices=["plain", "promptfill"], help=argparse.SUPPRESS)
    parser.add_argument("--batches", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.batches, args.warmup)))
        return
    with tempfile.TemporaryDirectory() as work:
        batches = Path(work) / "batches.pt"
        make_batches(batches, args.steps, args.batch_size)
        results = {}
        for variant in ("plain", "promptfill"):
            output = subprocess.run(
                [sys.executable, __file__, "--variant", variant, "--batches", str(batches), "--warmup", str(args.warmup)],
                check=True, capture_output=True, text=True,
            ).stdout
            results[variant] = json.loads(output.strip().splitlines()[-1])
    results["speedup"] = round(results["promptfill"]["tokens_per_second"] / results["plain"]["tokens_per_second"], 2)
    results["config"] = {
        "model": "all-MiniLM-L6-v2 encoder + masked-LM head (22.7M parameters, all trainable)",
        "batch_size": args.batch_size,
        "max_length": 128,
        "steps": args.steps,
        "warmup_steps_excluded": args.warmup,
        "optimizer": "AdamW lr=1e-4",
        "hardware": f"{platform.machine()} CPU, {torch.get_num_threads()} threads, torch {torch.__version__}",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
