"""Templates, a scorer and a run-directory writer shared by the report tests."""

from __future__ import annotations

import json
from pathlib import Path

from promptfill import ScorerError

# The template text contains markup and Jinja-looking braces that the report must show as text.
TEMPLATE = "<script>alert('x')</script> [MASK:2-3] {{ text }} & {% raw %}{{ literal }}{% endraw %} ||| {{ label }}"
EXAMPLES = [
    {"text": "a wonderful film", "label": "positive"},
    {"text": "dull and far too long", "label": "negative"},
    {"text": "great acting", "label": "positive"},
    {"text": "<b>bold</b> but empty", "label": "negative"},
]
FAILURE_MESSAGE = "target timed out <after 30 s>"


class PerExampleScorer:
    """Score a fill by its length, one value per example; fail on the second candidate scored."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, candidate, examples):
        self.calls += 1
        if self.calls == 2:
            raise ScorerError(FAILURE_MESSAGE)
        length = len(candidate.texts[0])
        return [length / 10 + index * 0.05 for index in range(len(examples))]


def write_run_directory(directory: Path, result, *, progress: bool = True) -> Path:
    """Write result.json, config.json, environment.json (and progress.jsonl) as a run would."""
    directory.mkdir(parents=True, exist_ok=True)
    result.to_json(directory / "result.json")
    config = {
        "template": result.template_source,
        "sampler": result.sampler,
        "scorer": {"name": result.scorer, "settings": {}},
        "target": {"name": "fake", "model": "tiny <test> model"},
        "seed": result.sampler.get("seed"),
    }
    (directory / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    environment = {
        "python": "3.11.2", "platform": "Linux-x86_64", "packages": {"promptfill": "0.1.0", "torch": "2.x"},
        "device": "cpu", "dtype": "float32", "seed": result.sampler.get("seed"),
        "command": ["promptfill", "fill", "task.yaml"], "started_at": "2025-01-01T12:00:00+00:00",
    }
    (directory / "environment.json").write_text(json.dumps(environment, indent=2), encoding="utf-8")
    if progress:
        lines = [
            {"iteration": i, "best_score": score, "best_source": result.best.source, "target_calls": calls, "candidates": 4, "seconds": 0.5 * i}
            for i, (score, calls) in enumerate([(0.2, 4), (0.35, 8), (0.35, 12), (0.5, 16)])
        ]
        text = "".join(json.dumps(line) + "\n" for line in lines) + '{"iteration": 4, "best_sc'  # torn last line
        (directory / "progress.jsonl").write_text(text, encoding="utf-8")
    return directory
