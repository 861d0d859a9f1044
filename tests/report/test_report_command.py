from typer.testing import CliRunner

from promptfill.cli import app

runner = CliRunner()


def test_report_writes_default_file(run_dir):
    outcome = runner.invoke(app, ["report", str(run_dir)])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.stdout.strip() == f"wrote {run_dir / 'report.html'}"
    assert (run_dir / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_output_option(run_dir, tmp_path):
    target = tmp_path / "out" / "page.html"
    outcome = runner.invoke(app, ["report", str(run_dir), "--output", str(target)])
    assert outcome.exit_code == 0, outcome.output
    assert target.is_file()
    assert not (run_dir / "report.html").exists()


def test_report_rejects_non_run_directory(tmp_path):
    outcome = runner.invoke(app, ["report", str(tmp_path)])
    assert outcome.exit_code == 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: DataError: {str(tmp_path)!r} is not a run directory: it has no result.json")
