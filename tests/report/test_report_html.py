import html
import re

import pytest

from promptfill import DataError, write_report
from promptfill.report import load_run

from report_runs import FAILURE_MESSAGE


def report_text(run_dir, **kwargs) -> str:
    return write_report(run_dir, **kwargs).read_text(encoding="utf-8")


def table_rows(page: str) -> list[str]:
    body = page.split('<section id="ranking">', 1)[1].split("</section>", 1)[0]
    return re.findall(r"<tr(?: class=\"failed\")?><td class=\"number\">.*?</tr>", body)


def test_default_output_is_report_html(run_dir):
    path = write_report(run_dir)
    assert path == run_dir / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_output_argument_sets_path(run_dir, tmp_path):
    path = write_report(run_dir, tmp_path / "elsewhere" / "page.html")
    assert path == tmp_path / "elsewhere" / "page.html"
    assert path.is_file()
    assert not (run_dir / "report.html").exists()


def test_template_markup_is_escaped(run_dir):
    page = report_text(run_dir)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "{% raw %}{{ literal }}{% endraw %}" in page
    assert '<span class="hole">[MASK:2-3]</span>' in page


def test_scorer_name_and_error_are_escaped(run_dir):
    page = report_text(run_dir)
    assert "length &lt;score&gt; mean ± std" in page
    assert html.escape(FAILURE_MESSAGE) in page
    assert FAILURE_MESSAGE not in page


def test_table_rows_follow_ranking(run_dir, scored_result):
    rows = table_rows(report_text(run_dir))
    assert len(rows) == len(scored_result)
    for row, candidate in zip(rows, scored_result):
        row_class = ' class="failed"' if candidate.error else ""
        assert row.startswith(f'<tr{row_class}><td class="number">{candidate.rank}</td>')
        assert f"<code>{html.escape(candidate.texts[0])}</code>" in row


def test_scored_rows_show_mean_std_count(run_dir, scored_result):
    rows = table_rows(report_text(run_dir))
    best = scored_result.best
    assert f"{best.score.value:.3f} ± {best.score.std:.3f}" in rows[0]
    assert f'<td class="number">{best.score.count}</td>' in rows[0]


def test_failed_candidate_marked_not_scored(run_dir, scored_result):
    failed = [c for c in scored_result if c.error is not None]
    assert len(failed) == 1
    rows = table_rows(report_text(run_dir))
    (row,) = [r for r in rows if 'class="failed"' in r]
    assert '<span class="badge-failed">failed</span>' in row
    assert "±" not in row
    assert f'<td class="number">{failed[0].rank}</td>' in row
    assert failed[0].rank == len(scored_result)


def test_no_network_references(run_dir):
    page = report_text(run_dir)
    assert "http://" not in page
    assert "https://" not in page
    assert re.findall(r"\b(?:src|href)\s*=", page) == []
    assert "<link" not in page
    assert "@import" not in page
    assert "url(" not in page


def test_best_fill_tokens_shaded(run_dir, scored_result):
    page = report_text(run_dir)
    best_fill = scored_result.best.fills[0]
    for token, confidence in zip(best_fill.tokens, best_fill.confidences):
        assert f"{html.escape(repr(token))}: confidence {confidence:.4f}" in page
    assert page.count('class="fill"') == 3


def test_plots_present_with_progress(run_dir):
    page = report_text(run_dir)
    assert page.count('<svg class="plot"') == 3
    assert "Best score against target calls" in page
    assert "Best score after each of 4 search iterations" in page


def test_missing_progress_is_explained(run_dir):
    (run_dir / "progress.jsonl").unlink()
    page = report_text(run_dir)
    assert "No search progress recorded: this run has no progress.jsonl" in page
    assert page.count('<svg class="plot"') == 2


def test_unscored_run_with_result_only(bare_run_dir, unscored_result):
    page = report_text(bare_run_dir)
    assert "none (ranked by model score)" in page
    assert "No scorer values to plot" in page
    assert "config.json is absent" in page
    assert "environment.json is absent" in page
    assert page.count('<svg class="plot"') == 1
    rows = table_rows(page)
    assert len(rows) == len(unscored_result)
    assert all("failed" not in row for row in rows)


def test_settings_in_details(run_dir):
    page = report_text(run_dir)
    details = page.split('<details id="settings">', 1)[1].split("</details>", 1)[0]
    assert "<summary>Run settings and environment</summary>" in details
    assert "<td>target.model</td><td><code>tiny &lt;test&gt; model</code></td>" in details
    assert "<td>packages.torch</td>" in details


def test_start_time_formatted(run_dir):
    page = report_text(run_dir)
    assert "<dt>started</dt><dd>2025-01-01 12:00:00 UTC</dd>" in page


def test_unreadable_config_listed(run_dir):
    (run_dir / "config.json").write_text("{not json", encoding="utf-8")
    page = report_text(run_dir)
    assert "Some run files could not be read" in page
    assert "config.json could not be read" in page


def test_missing_result_raises_data_error(tmp_path):
    with pytest.raises(DataError, match=r"is not a run directory: it has no result.json"):
        write_report(tmp_path)


def test_missing_directory_raises_data_error(tmp_path):
    with pytest.raises(DataError, match=r"does not exist or is not a directory"):
        write_report(tmp_path / "absent")


def test_invalid_result_raises_data_error(tmp_path):
    (tmp_path / "result.json").write_text('{"candidates": []}', encoding="utf-8")
    with pytest.raises(DataError, match=r"result.json' is not a valid result file \(template_source: Field required\)"):
        load_run(tmp_path)
