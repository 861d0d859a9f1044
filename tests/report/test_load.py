from promptfill.report import load_run
from promptfill.report._load import read_jsonl


def test_torn_last_line_ignored(run_dir):
    run = load_run(run_dir)
    assert [record["iteration"] for record in run.progress] == [0, 1, 2, 3]
    assert run.problems == []


def test_bad_middle_line_reported(run_dir):
    path = run_dir / "progress.jsonl"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(1, "{broken")
    path.write_text("\n".join(lines), encoding="utf-8")
    run = load_run(run_dir)
    assert [record["iteration"] for record in run.progress] == [0, 1, 2, 3]
    assert run.problems == ["progress.jsonl: skipped 1 line(s) that are not JSON objects with numeric best_score, target_calls"]


def test_non_numeric_progress_skipped(run_dir):
    path = run_dir / "progress.jsonl"
    path.write_text('{"iteration": 0, "best_score": "high", "target_calls": 4}\n{"iteration": 1, "best_score": 0.5, "target_calls": 8}\n', encoding="utf-8")
    run = load_run(run_dir)
    assert [record["iteration"] for record in run.progress] == [1]
    assert len(run.problems) == 1


def test_complete_last_line_kept(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}', encoding="utf-8")
    assert read_jsonl(path) == ([{"a": 1}, {"a": 2}], [])


def test_invalid_line_with_newline_counted(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n{"a"\n', encoding="utf-8")
    assert read_jsonl(path) == ([{"a": 1}], [2])


def test_optional_files_absent(bare_run_dir):
    run = load_run(bare_run_dir)
    assert run.result.scorer is None
    assert run.config is None
    assert run.environment is None
    assert run.progress is None
    assert run.scores is None
    assert run.problems == []


def test_scores_records_read(run_dir):
    record = {"key": "k", "texts": ["a"], "round": 0, "examples": 4, "score": None, "error": "x", "target_calls": 5, "seconds": 0.1}
    (run_dir / "scores.jsonl").write_text(f"{__import__('json').dumps(record)}\n", encoding="utf-8")
    run = load_run(run_dir)
    assert run.scores == [record]


def test_config_not_object_reported(run_dir):
    (run_dir / "environment.json").write_text("[1, 2]", encoding="utf-8")
    run = load_run(run_dir)
    assert run.environment is None
    assert run.problems == ["environment.json holds a list, not a JSON object; its settings are not shown"]
