"""RunDirectory: the on-disk run log of a fill, its crash-safe files and resume checks."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest

from promptfill import CandidateScore, ConfigError, FunctionScorer, PromptInfiller, RunDirectory, RunDirectoryError, SamplerConfig
from promptfill.runs._files import JsonlFile, write_json_atomic

TEMPLATE = "Review: {{ text }} [MASK:2-4] ||| {{ label }}"
EXAMPLES = [{"text": f"film number {i}", "label": "positive" if i % 2 else "negative"} for i in range(6)]
CONFIG = {"template": TEMPLATE, "model": None, "sampler": {"temperature": 0.8, "num_candidates": 4}, "device": "cpu"}
SEED = 11


def score_by_length(candidate, examples):
    return [len(candidate.texts[0]) / 10 + index / 100 for index in range(len(examples))]


def read_lines(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n"), f"{path.name} ends in a torn line"
    return [json.loads(line) for line in text.splitlines()]


def score_record(key: str, examples: int, value: float | None, error: str | None = None) -> dict:
    score = None if value is None else CandidateScore.from_values([value] * examples).model_dump()
    return {"key": key, "texts": ["x"], "round": 0, "examples": examples, "score": score, "error": error, "target_calls": examples, "seconds": 0.1}


@pytest.fixture(scope="module")
def infiller(tiny_bert_dir):
    return PromptInfiller.from_pretrained(str(tiny_bert_dir), device="cpu", sampler=SamplerConfig(temperature=1.5, num_candidates=4, length_trials=3))


# -- create ---------------------------------------------------------------------------------------


def test_create_writes_config_with_seed(tmp_path):
    run = RunDirectory.create(tmp_path / "run", {**CONFIG, "examples_file": tmp_path / "train.jsonl"}, seed=SEED)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["seed"] == SEED
    assert config["examples_file"] == str(tmp_path / "train.jsonl")
    assert config["sampler"] == {"temperature": 0.8, "num_candidates": 4}
    assert run.config == config
    assert run.cache_path == tmp_path / "run" / "cache.sqlite"


def test_environment_json_contents(tmp_path):
    RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED, command=["promptfill", "fill", "task.yaml"], device="cpu", dtype="float32")
    environment = json.loads((tmp_path / "run" / "environment.json").read_text())
    assert environment["python"] == platform.python_version()
    assert set(environment["packages"]) == {"promptfill", "torch", "transformers", "numpy", "pydantic"}
    assert environment["packages"]["pydantic"] is not None
    assert environment["device"] == "cpu"
    assert environment["dtype"] == "float32"
    assert environment["seed"] == SEED
    assert environment["command"] == ["promptfill", "fill", "task.yaml"]
    assert environment["started_at"].endswith("+00:00")


def test_create_rejects_non_run_directory(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RunDirectoryError, match=r"is not empty \(notes.txt\) and contains no run \(no config.json\); pass a new or empty directory"):
        RunDirectory.create(tmp_path, CONFIG, seed=SEED)
    with pytest.raises(RunDirectoryError, match="is a file; pass a new or empty directory"):
        RunDirectory.create(tmp_path / "notes.txt", CONFIG, seed=SEED)


def test_create_rejects_existing_run_unless_overwrite(tmp_path):
    first = RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED)
    first.record_score(score_record("abc", 2, 0.5))
    first.close()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(RunDirectoryError, match=r"already contains a run; resume it with RunDirectory.open \(promptfill fill --resume\), pass overwrite=True"):
        RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED)
    second = RunDirectory.create(tmp_path / "run", {**CONFIG, "template": "[MASK] {{ text }}"}, seed=3, overwrite=True)
    assert not (tmp_path / "run" / "scores.jsonl").exists()
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"
    assert second.config["seed"] == 3


def test_create_rejects_conflicting_seed_and_secrets(tmp_path):
    with pytest.raises(ConfigError, match=r"config\['seed'\]=4 differs from seed=11"):
        RunDirectory.create(tmp_path / "a", {**CONFIG, "seed": 4}, seed=SEED)
    with pytest.raises(ConfigError, match=r"config.target.settings.api_key contains a secret, which a run directory must not store"):
        RunDirectory.create(tmp_path / "b", {**CONFIG, "target": {"name": "openai", "settings": {"api_key": "sk-123"}}}, seed=SEED)
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b").exists()


# -- open and compatibility -----------------------------------------------------------------------


def test_open_requires_a_run(tmp_path):
    with pytest.raises(RunDirectoryError, match="does not exist; pass a directory that RunDirectory.create wrote"):
        RunDirectory.open(tmp_path / "missing")
    with pytest.raises(RunDirectoryError, match="contains no run: it has no config.json"):
        RunDirectory.open(tmp_path)


def test_open_names_every_differing_key(tmp_path):
    RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED).close()
    changed = {**CONFIG, "template": "[MASK] {{ text }}", "sampler": {"temperature": 0.5, "num_candidates": 4}, "scorer": "exact_match"}
    with pytest.raises(ConfigError) as caught:
        RunDirectory.open(tmp_path / "run", changed, seed=SEED)
    message = str(caught.value)
    assert "3 setting(s) differ from the recorded config.json" in message
    assert "sampler.temperature: 0.8 -> 0.5" in message
    assert 'scorer: not set in the run -> "exact_match"' in message
    assert 'template: "Review: {{ text }} [MASK:2-4] ||| {{ label }}" -> "[MASK] {{ text }}"' in message


def test_open_rejects_other_seed_and_ignores_device(tmp_path):
    RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED).close()
    with pytest.raises(ConfigError, match="seed=12 differs from the seed of the run in .* \\(11\\); resume with the run's seed"):
        RunDirectory.open(tmp_path / "run", CONFIG, seed=12)
    with RunDirectory.open(tmp_path / "run", {**CONFIG, "device": "cuda"}, seed=SEED, command=["resume"]) as run:
        assert run.seed == SEED
        assert [entry["command"] for entry in run.environment["resumes"]] == [["resume"]]


def test_open_run_is_locked_until_closed(tmp_path):
    run = RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED)
    with pytest.raises(RunDirectoryError, match="is in use by another process or RunDirectory object"):
        RunDirectory.open(tmp_path / "run")
    run.close()
    RunDirectory.open(tmp_path / "run").close()


# -- crash-safe files -----------------------------------------------------------------------------


def test_torn_last_line_ignored_then_truncated(tmp_path):
    RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED).close()
    scores = tmp_path / "run" / "scores.jsonl"
    complete = json.dumps(score_record("aaa", 4, 0.25)) + "\n"
    scores.write_text(complete + json.dumps(score_record("bbb", 4, 0.75))[:40])

    run = RunDirectory.open(tmp_path / "run")
    assert run.load_score("aaa", 4).value == 0.25
    assert run.load_score("bbb", 4) is None
    run.record_score(score_record("bbb", 4, 0.75))

    assert [record["key"] for record in read_lines(scores)] == ["aaa", "bbb"]
    assert scores.read_text().startswith(complete)


def test_jsonl_reader_skips_a_corrupt_middle_line(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text('{"a": 1}\nnot json\n[1, 2]\n{"a": 2}\n')
    assert JsonlFile(path).read() == [{"a": 1}, {"a": 2}]


def test_atomic_writes_leave_no_temporary_files(tmp_path, infiller):
    path = tmp_path / "value.json"
    write_json_atomic(path, {"version": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"version": object()})
    assert json.loads(path.read_text()) == {"version": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["value.json"]

    run = RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED)
    infiller.fill(TEMPLATE, EXAMPLES[:2], seed=SEED, run=run, length_trials=1, num_candidates=2)
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [".lock", "config.json", "environment.json", "result.json", "sampled.jsonl"]


def test_fill_with_other_seed_is_logged(tmp_path, infiller, caplog):
    with RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED) as run:
        infiller.fill(TEMPLATE, EXAMPLES[:2], seed=SEED + 1, run=run, length_trials=1, num_candidates=2)
    assert "the fill used seed 12 but the run in" in caplog.text
    assert "records seed 11" in caplog.text


def test_open_removes_stale_temporary_files(tmp_path):
    RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED).close()
    stale = tmp_path / "run" / ".result.json.x1y2.tmp"
    stale.write_text('{"candid')
    RunDirectory.open(tmp_path / "run").close()
    assert not stale.exists()


# -- duplicates and resume ------------------------------------------------------------------------


def test_score_records_are_not_duplicated(tmp_path):
    with RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED) as run:
        run.record_score(score_record("aaa", 4, None, error="HTTP 500"))
        run.record_score(score_record("aaa", 4, None, error="HTTP 500"))
        assert run.load_score("aaa", 4) is None  # a failure is retried on resume
        run.record_score(score_record("aaa", 4, 0.5))
        run.record_score(score_record("aaa", 4, 0.5))
        assert run.load_score("aaa", 4).value == 0.5
    records = read_lines(tmp_path / "run" / "scores.jsonl")
    assert [(record["error"], record["score"] is None) for record in records] == [("HTTP 500", True), (None, False)]


def test_resume_after_torn_writes(tmp_path, infiller):
    scorer = FunctionScorer(score_by_length, name="length")
    with RunDirectory.create(tmp_path / "run", CONFIG, seed=SEED) as run:
        first = infiller.fill(TEMPLATE, EXAMPLES[:3], scorer=scorer, dev_examples=EXAMPLES, seed=SEED, run=run)
    sampled_path, scores_path = tmp_path / "run" / "sampled.jsonl", tmp_path / "run" / "scores.jsonl"
    sampled_lines = sampled_path.read_text().splitlines(keepends=True)
    score_lines = scores_path.read_text().splitlines(keepends=True)
    assert [json.loads(line)["combination"] for line in sampled_lines] == [0, 1, 2]
    assert len(score_lines) == len(first)

    # As if killed mid-way: the last combination torn in half, the later scores never written.
    sampled_path.write_text("".join(sampled_lines[:2]) + sampled_lines[2][: len(sampled_lines[2]) // 2])
    scores_path.write_text("".join(score_lines[:2]) + score_lines[2][:30])
    (tmp_path / "run" / "result.json").unlink()

    with RunDirectory.open(tmp_path / "run", CONFIG, seed=SEED) as run:
        resumed = infiller.fill(TEMPLATE, EXAMPLES[:3], scorer=scorer, dev_examples=EXAMPLES, seed=SEED, run=run)
        assert run.read_result().candidates == resumed.candidates

    assert [(c.texts, c.score, c.rank) for c in resumed] == [(c.texts, c.score, c.rank) for c in first]
    assert [record["combination"] for record in read_lines(sampled_path)] == [0, 1, 2]
    keys = [(record["key"], record["examples"]) for record in read_lines(scores_path)]
    assert len(keys) == len(set(keys)) == len(first)

    # A third pass over a finished run appends nothing.
    sizes = (sampled_path.stat().st_size, scores_path.stat().st_size)
    with RunDirectory.open(tmp_path / "run", CONFIG, seed=SEED) as run:
        again = infiller.fill(TEMPLATE, EXAMPLES[:3], scorer=scorer, dev_examples=EXAMPLES, seed=SEED, run=run)
    assert (sampled_path.stat().st_size, scores_path.stat().st_size) == sizes
    assert [c.texts for c in again] == [c.texts for c in first]
