"""`promptfill fill` records a run directory, and `--resume` continues an interrupted one."""

import json

import yaml
from typer.testing import CliRunner

from promptfill.cli import app

runner = CliRunner()

EXAMPLES = [
    {"text": "a wonderful film", "label": "positive"},
    {"text": "dull and far too long", "label": "negative"},
]
DEV = [{"text": f"film {i}", "label": "positive" if i % 2 else "negative"} for i in range(4)]


def write_task(tmp_path, model_dir, **overrides):
    task = {
        "model": str(model_dir),
        "device": "cpu",
        "template": "Review: {{ text }} [MASK:2-3] ||| {{ label }}",
        "examples": EXAMPLES,
        "dev_examples": DEV,
        "sampler": {"num_candidates": 2, "temperature": 1.0, "length_trials": 2},
        "scorer": {"name": "loglik"},
    }
    task.update(overrides)
    path = tmp_path / "sentiment.yaml"
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    return path


def fill(*args):
    return runner.invoke(app, ["fill", *args, "--json"])


def ranking(result_json):
    return [(c["texts"] if "texts" in c else [f["text"] for f in c["fills"]], c["score"], c["rank"]) for c in result_json["candidates"]]


def test_default_run_directory_is_complete(tmp_path, tiny_bert_dir):
    result = fill(str(write_task(tmp_path, tiny_bert_dir)), "--seed", "5")
    assert result.exit_code == 0, result.output
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    run = runs[0]
    assert run.name.startswith("sentiment-")
    names = {path.name for path in run.iterdir()}
    assert {"config.json", "environment.json", "task.yaml", "sampled.jsonl", "scores.jsonl", "result.json", "report.html"} <= names
    config = json.loads((run / "config.json").read_text())
    assert config["seed"] == 5
    assert config["scorer"] == {"name": "loglik", "settings": {}}
    # The user cache (tests point PROMPTFILL_CACHE into tmp_path), so reruns reuse answers.
    assert config["cache"] == str((tmp_path / "user-cache.sqlite").resolve())
    assert json.loads((run / "result.json").read_text()) == json.loads(result.stdout)
    assert json.loads((run / "environment.json").read_text())["seed"] == 5


def test_no_run_dir_records_nothing(tmp_path, tiny_bert_dir):
    result = fill(str(write_task(tmp_path, tiny_bert_dir, cache=False)), "--no-run-dir")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "runs").exists()


def test_resume_without_task_matches_the_first_run(tmp_path, tiny_bert_dir):
    run = tmp_path / "run"
    first = fill(str(write_task(tmp_path, tiny_bert_dir)), "--run-dir", str(run))
    assert first.exit_code == 0, first.output
    seed = json.loads((run / "config.json").read_text())["seed"]
    assert isinstance(seed, int)

    # As if killed after the first combination and the first scoring.
    for name in ("sampled.jsonl", "scores.jsonl"):
        lines = (run / name).read_text().splitlines(keepends=True)
        (run / name).write_text(lines[0] + lines[1][:25])
    (run / "result.json").unlink()
    (tmp_path / "user-cache.sqlite").unlink()

    resumed = fill("--resume", str(run))
    assert resumed.exit_code == 0, resumed.output
    assert ranking(json.loads(resumed.stdout)) == ranking(json.loads(first.stdout))
    combinations = [json.loads(line)["combination"] for line in (run / "sampled.jsonl").read_text().splitlines()]
    assert combinations == [0, 1]
    resumes = json.loads((run / "environment.json").read_text())["resumes"]
    assert len(resumes) == 1


def test_resume_with_other_settings_fails(tmp_path, tiny_bert_dir):
    task = str(write_task(tmp_path, tiny_bert_dir))
    run = tmp_path / "run"
    assert fill(task, "--run-dir", str(run), "--seed", "3").exit_code == 0
    other_seed = fill(task, "--resume", str(run), "--seed", "4")
    assert other_seed.exit_code == 2
    assert "ConfigError: seed=4 differs from the seed of the run in" in other_seed.output
    other_count = fill(task, "--resume", str(run), "--seed", "3", "-n", "3")
    assert other_count.exit_code == 2
    assert "sampler.num_candidates: 2 -> 3" in other_count.output


def test_run_dir_argument_errors(tmp_path, tiny_bert_dir):
    task = str(write_task(tmp_path, tiny_bert_dir))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    cases = [
        ((task, "--run-dir", str(tmp_path / "busy")), "RunDirectoryError: 'busy' is not empty (notes.txt) and contains no run".replace("'busy'", repr(str(tmp_path / "busy")))),
        ((task, "--resume", str(tmp_path / "run"), "--run-dir", str(tmp_path / "other")), "--resume DIR continues the run in DIR; drop --run-dir and --no-run-dir"),
        (("--run-dir", str(tmp_path / "other")), "pass a TASK file, or --resume DIR to continue the run in DIR"),
        (("--resume", str(tmp_path / "missing")), "RunDirectoryError: run directory"),
    ]
    for args, message in cases:
        result = fill(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


def test_secret_in_target_settings_is_not_recorded(tmp_path, tiny_bert_dir):
    task = write_task(tmp_path, tiny_bert_dir, target={"name": "openai", "settings": {"model": "m", "api_key": "sk-secret"}})
    result = fill(str(task), "--run-dir", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert "config.target.settings.api_key contains a secret" in result.output
    assert not (tmp_path / "run").exists()


def test_resume_finished_run_shows_result(tmp_path, tiny_bert_dir):
    run = tmp_path / "run"
    first = fill(str(write_task(tmp_path, tiny_bert_dir)), "--run-dir", str(run), "--seed", "2")
    assert first.exit_code == 0, first.output
    again = fill("--resume", str(run))
    assert again.exit_code == 0, again.output
    assert "had already finished; showing its result" in again.output
    recorded = json.loads(first.stdout)
    assert json.loads(again.stdout) == recorded
    assert recorded["forward_passes"] > 0
    assert json.loads((run / "result.json").read_text())["forward_passes"] == recorded["forward_passes"]
