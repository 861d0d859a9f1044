"""Derive the small example data files in this folder from the shared public data sets.

Run from the repository root with the data sets checked out beside it::

    python examples/data/make_data.py --shared ../shared/data

Writes:

* ``amazon_polarity.jsonl``: 60 Amazon reviews (title, content, label) parsed from T0's
  ``amazon_polarity_Is_this_review`` prompts (Apache-2.0 sampling; Amazon reviews data set).
* ``antonyms.jsonl``, ``sentiment.jsonl``: the first 40 ``execute`` pairs (input, output) of
  two instruction-induction tasks (Apache-2.0, see LICENSE-instruction-induction).
* ``*_instructions.json``: the human-written instructions of those tasks, for comparisons.
* ``<name>_fewshot.jsonl``, ``<name>_dev.jsonl``, ``<name>_test.jsonl``: disjoint splits of
  three T0 classification data sets (``amazon_polarity``, ``ag_news``, ``glue_qqp``), with the
  fields their promptsource templates read and ``label`` as the index into the answer choices.
  The rows are parsed from one T0 template file each and shuffled with a fixed seed.
* ``ii_<task>_fewshot.jsonl``, ``ii_<task>_dev.jsonl``, ``ii_<task>_test.jsonl``: instruction
  induction splits. The few-shot set is the first five-pair demonstration of ``induction_input``;
  dev and test split ``execute`` (the first 30 pairs and the other 70). ``outputs`` lists every
  acceptable answer (``output`` plus any ``possible_translations`` or ``possible_outputs``).
* ``gsm8k_fewshot.jsonl``, ``gsm8k_dev.jsonl``: four training problems and the first 16 test
  problems of GSM8K (MIT).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import shutil
from pathlib import Path

HERE = Path(__file__).parent

# T0 classification files parsed into the fields promptsource templates read: the source file,
# a pattern that recovers the fields from its prompt, and the completion of each label index.
T0_CLASSIFICATION = {
    "amazon_polarity": (
        "amazon_polarity_Is_this_review",
        re.compile(r"^Title: (?P<title>.*?)\nReview: (?P<content>.*)\nIs the review positive or negative\?\n?$", re.S),
        ["Negative", "Positive"],
    ),
    "ag_news": (
        "ag_news_classify",
        re.compile(r"^(?P<text>.*?) ?\nWhat label best describes this news article\?\n?$", re.S),
        ["World politics", "Sports", "Business", "Science and technology"],
    ),
    "glue_qqp": (
        "glue_qqp_duplicate_or_not",
        re.compile(r'^(?P<question1>[^\n]*)\n(?P<question2>[^\n]*)\nPick one: These questions are "duplicates" or "not duplicates"\.\n?$'),
        ["not duplicates", "duplicates"],
    ),
}
# Split sizes: few-shot examples for the infiller, a dev set to choose candidates on, and a
# test set that no choice ever sees.
SPLIT_SIZES = {"fewshot": 8, "dev": 40, "test": 100}
INSTRUCTION_INDUCTION_TASKS = ("antonyms", "singular_to_plural", "sentiment")
INSTRUCTION_INDUCTION_DEV = 30
PAIR = re.compile(r"Input: (?P<input>.*?)\nOutput: (?P<output>.*?)(?:\n\n|$)", re.S)
REVIEW = re.compile(r"^Title: (?P<title>.*?)\nReview: (?P<content>.*)\nIs the review positive or negative\?\n?$", re.S)


def amazon(shared: Path) -> None:
    rows = []
    with gzip.open(shared / "t0" / "amazon_polarity_Is_this_review.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            match = REVIEW.match(record["prompt"])
            if match:
                label = record["completion"].removesuffix("<|endoftext|>").strip().lower()
                rows.append({"title": match["title"].strip(), "content": match["content"].strip(), "label": label})
    # Alternate labels so that any prefix of the file is balanced.
    positive = [r for r in rows if r["label"] == "positive"]
    negative = [r for r in rows if r["label"] == "negative"]
    balanced = [r for pair in zip(positive, negative) for r in pair][:60]
    _write_jsonl(HERE / "amazon_polarity.jsonl", balanced)


def instruction_induction(shared: Path, task: str) -> None:
    execute = json.loads((shared / "instruction-induction" / "execute" / f"{task}.json").read_text())
    pairs = [{"input": e["input"], "output": e["output"]} for e in list(execute["examples"].values())[:40]]
    _write_jsonl(HERE / f"{task}.jsonl", pairs)
    annotations = json.loads((shared / "instruction-induction" / "annotations" / f"{task}.json").read_text())
    (HERE / f"{task}_instructions.json").write_text(json.dumps(annotations["annotations"], indent=1) + "\n")


def t0_classification(shared: Path, name: str) -> None:
    """Write the few-shot, dev and test splits of one T0 classification data set."""
    file, pattern, labels = T0_CLASSIFICATION[name]
    rows = []
    with gzip.open(shared / "t0" / f"{file}.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            match = pattern.match(record["prompt"])
            completion = record["completion"].removesuffix("<|endoftext|>").strip()
            if match and completion in labels:
                fields = {key: value.strip() for key, value in match.groupdict().items()}
                rows.append({**fields, "label": labels.index(completion)})
    # The T0 sample keeps the data set's order, which groups labels; shuffling spreads them.
    random.Random(0).shuffle(rows)
    start = 0
    for split, size in SPLIT_SIZES.items():
        _write_jsonl(HERE / f"{name}_{split}.jsonl", rows[start : start + size])
        start += size


def instruction_induction_splits(shared: Path, task: str) -> None:
    """Write the few-shot, dev and test splits of one instruction-induction task."""
    root = shared / "instruction-induction"
    demonstrations = json.loads((root / "induction_input" / f"{task}.json").read_text())["examples"]
    first = next(iter(demonstrations.values()))["metadata"]["examples_seen"]
    fewshot = [{"input": m["input"], "output": m["output"]} for m in PAIR.finditer(first)]
    _write_jsonl(HERE / f"ii_{task}_fewshot.jsonl", fewshot)

    execute = list(json.loads((root / "execute" / f"{task}.json").read_text())["examples"].values())
    pairs = []
    for example in execute:
        extra = example.get("possible_translations") or example.get("possible_outputs") or []
        outputs = list(dict.fromkeys([example["output"], *extra]))
        pairs.append({"input": example["input"], "output": example["output"], "outputs": outputs})
    _write_jsonl(HERE / f"ii_{task}_dev.jsonl", pairs[:INSTRUCTION_INDUCTION_DEV])
    _write_jsonl(HERE / f"ii_{task}_test.jsonl", pairs[INSTRUCTION_INDUCTION_DEV:])
    annotations = json.loads((root / "annotations" / f"{task}.json").read_text())
    (HERE / f"{task}_instructions.json").write_text(json.dumps(annotations["annotations"], indent=1) + "\n")


def gsm8k(shared: Path) -> None:
    """Write four GSM8K training problems (few-shot) and the first 16 test problems (dev)."""
    for split, source, count in (("fewshot", "train", 4), ("dev", "test", 16)):
        with (shared / "gsm8k" / f"{source}.jsonl").open(encoding="utf-8") as handle:
            rows = [json.loads(line) for _, line in zip(range(count), handle)]
        _write_jsonl(HERE / f"gsm8k_{split}.jsonl", [{"question": r["question"], "answer": r["answer"]} for r in rows])


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description="Derive the example data files.")
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared" / "data")
    args = parser.parse_args()
    amazon(args.shared)
    for task in ("antonyms", "sentiment"):
        instruction_induction(args.shared, task)
    for name in T0_CLASSIFICATION:
        t0_classification(args.shared, name)
    for task in INSTRUCTION_INDUCTION_TASKS:
        instruction_induction_splits(args.shared, task)
    gsm8k(args.shared)
    shutil.copy(args.shared / "instruction-induction" / "LICENSE", HERE / "LICENSE-instruction-induction")
    shutil.copy(args.shared / "gsm8k" / "LICENSE", HERE / "LICENSE-gsm8k")


if __name__ == "__main__":
    main()
