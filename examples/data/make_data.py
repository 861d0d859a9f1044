"""Derive the small example data files in this folder from the shared public data sets.

Run from the repository root with the data sets checked out beside it::

    python examples/data/make_data.py --shared ../shared/data

Writes:

* ``amazon_polarity.jsonl``: 60 Amazon reviews (title, content, label) parsed from T0's
  ``amazon_polarity_Is_this_review`` prompts (Apache-2.0 sampling; Amazon reviews data set).
* ``antonyms.jsonl``, ``sentiment.jsonl``: the first 40 ``execute`` pairs (input, output) of
  two instruction-induction tasks (Apache-2.0, see LICENSE-instruction-induction).
* ``*_instructions.json``: the human-written instructions of those tasks, for comparisons.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
from pathlib import Path

HERE = Path(__file__).parent
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


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description="Derive the example data files.")
    parser.add_argument("--shared", type=Path, default=HERE.parents[2] / "shared" / "data")
    args = parser.parse_args()
    amazon(args.shared)
    for task in ("antonyms", "sentiment"):
        instruction_induction(args.shared, task)
    shutil.copy(args.shared / "instruction-induction" / "LICENSE", HERE / "LICENSE-instruction-induction")


if __name__ == "__main__":
    main()
