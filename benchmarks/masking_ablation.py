"""Measure what full-sequence masking buys: prompt infilling versus response accuracy.

Trains the embedded model's base (MiniLM encoder + new masked-LM head) three times from the
same initialisation with equal budgets (steps, batch, sequence length, data, seed), once per
masking mode, and evaluates each on T0 templates that none of them trained on:

* prompt_infill_accuracy: the instruction tokens of a held-out prompt (the template's own words,
  found as the token runs that the prompt shares with most other prompts of the same template,
  so the example's content is never masked) are all masked; the fraction recovered exactly.
* response_accuracy: every response token is masked; the fraction recovered exactly.

Both use the same iterative decoder: each step commits the most confident masked position.

Usage::

    python benchmarks/masking_ablation.py --data ../shared/data/t0 --steps 150

Writes ``benchmarks/results/masking_ablation.json``.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import platform
import tempfile
import time
from pathlib import Path

import torch

from promptfill.embedded._split import split_template_files
from promptfill.training import LoraSettings, MaskingConfig, PairTokenizer, TrainConfig, read_pairs, train

logger = logging.getLogger("masking_ablation")

RESULTS = Path(__file__).parent / "results" / "masking_ablation.json"
MODES = ("full_sequence", "response_only", "two_stage")


def instruction_positions(prompt_ids: list[int], others: list[list[int]], min_block: int = 2, min_votes: int = 3) -> list[int]:
    """Return indices of ``prompt_ids`` that belong to the template's own text.

    A token is template text when it lies in a shared run of at least ``min_block`` tokens with
    at least ``min_votes`` of the ``others`` (prompts of the same template with other content).
    """
    votes = [0] * len(prompt_ids)
    for other in others:
        matcher = difflib.SequenceMatcher(a=prompt_ids, b=other, autojunk=False)
        covered = set()
        for block in matcher.get_matching_blocks():
            if block.size >= min_block:
                covered.update(range(block.a, block.a + block.size))
        for index in covered:
            votes[index] += 1
    return [index for index, count in enumerate(votes) if count >= min_votes]


def build_eval_items(files: list[Path], tokenizer, per_file: int, max_length: int, pool: int = 80) -> list[dict]:
    """Tokenize held-out pairs and mark which prompt tokens are instruction tokens.

    Several pairs of one template often share a passage, so each prompt is compared with the
    four prompts of its template whose tokens differ most from it: what it still shares with
    them is the template's own text.
    """
    pair_tokenizer = PairTokenizer(tokenizer, max_length=max_length, max_response_length=32)
    items = []
    for path in files:
        encoded = [pair_tokenizer(pair) for pair in read_pairs(path, limit=pool)]
        prompts = [item.input_ids[1 : item.prompt_length - 1] for item in encoded]  # without [CLS], [SEP]
        stride = max(1, len(encoded) // per_file)
        for index in range(0, len(encoded), stride)[:per_file]:
            prompt = prompts[index]
            similarity = [
                (difflib.SequenceMatcher(a=prompt, b=other, autojunk=False).ratio(), j)
                for j, other in enumerate(prompts) if j != index
            ]
            others = [prompts[j] for _, j in sorted(similarity)[:4]]
            instruction = [1 + i for i in instruction_positions(prompt, others)]
            item = encoded[index]
            response = list(range(item.prompt_length, len(item.input_ids) - 1))
            if instruction and response:
                items.append({"input_ids": item.input_ids, "instruction": instruction, "response": response})
    return items


@torch.no_grad()
def recovered_fraction(model, items: list[dict], key: str, mask_token_id: int) -> float:
    """Mask ``item[key]`` positions, decode them one confident token per step, return accuracy."""
    correct = total = 0
    for item in items:
        clean = torch.tensor([item["input_ids"]])
        positions = item[key]
        ids = clean.clone()
        ids[0, positions] = mask_token_id
        remaining = list(positions)
        while remaining:
            logits = model(input_ids=ids).logits[0, remaining]  # [R, V]
            probs = logits.softmax(-1)
            confidence, tokens = probs.max(-1)
            best = int(confidence.argmax())
            ids[0, remaining[best]] = tokens[best]
            remaining.pop(best)
        correct += int((ids[0, positions] == clean[0, positions]).sum())
        total += len(positions)
    return correct / max(total, 1)


def run(data_dir: Path, steps: int, batch_size: int, examples_per_file: int, eval_per_file: int, seed: int) -> dict:
    train_files, held_out = split_template_files(data_dir)
    results: dict = {}
    eval_items = None
    with tempfile.TemporaryDirectory() as work:
        for mode in MODES:
            config = TrainConfig(
                model="embedded-base",
                train_files=train_files,
                output_dir=Path(work) / mode,
                masking=MaskingConfig(mode=mode),
                lora=LoraSettings(r=64, alpha=128),
                max_length=128,
                max_response_length=32,
                max_examples_per_file=examples_per_file,
                per_device_batch_size=batch_size,
                learning_rate=1e-3,
                max_steps=steps,
                save_steps=steps,
                logging_steps=25,
                seed=seed,
            )
            started = time.time()
            final = train(config, resume=False, disable_progress_bar=True)
            train_minutes = (time.time() - started) / 60
            from transformers import AutoModelForMaskedLM, AutoTokenizer

            model = AutoModelForMaskedLM.from_pretrained(str(final)).eval()
            tokenizer = AutoTokenizer.from_pretrained(str(final))
            if eval_items is None:
                eval_items = build_eval_items(held_out, tokenizer, eval_per_file, 128)
            results[mode] = {
                "prompt_infill_accuracy": recovered_fraction(model, eval_items, "instruction", tokenizer.mask_token_id),
                "response_accuracy": recovered_fraction(model, eval_items, "response", tokenizer.mask_token_id),
                "train_minutes": round(train_minutes, 2),
            }
            logger.info("%s: %s", mode, results[mode])
    results["config"] = {
        "base": "all-MiniLM-L6-v2 encoder + new masked-LM head, LoRA r=64 + LayerNorms + head",
        "steps": steps,
        "batch_size": batch_size,
        "max_length": 128,
        "train_templates": len(train_files),
        "train_examples_per_template": examples_per_file,
        "held_out_templates": len(held_out),
        "eval_sequences": len(eval_items or []),
        "eval_instruction_tokens": sum(len(i["instruction"]) for i in eval_items or []),
        "eval_response_tokens": sum(len(i["response"]) for i in eval_items or []),
        "decoder": "iterative, one most-confident token per step",
        "seed": seed,
        "hardware": f"{platform.machine()} CPU, {torch.get_num_threads()} threads",
    }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "t0")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--examples-per-file", type=int, default=40)
    parser.add_argument("--eval-per-file", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    results = run(args.data, args.steps, args.batch_size, args.examples_per_file, args.eval_per_file, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
