"""Assemble the report page from a run's data: header, best candidates, ranking, plots, settings.

Every piece of user text (templates, fills, errors, settings) goes through :func:`html.escape`,
so a template that contains ``<script>`` or ``{{ }}`` is shown as text, never interpreted.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape
from typing import Any

from .._results import FilledTemplate, HoleFill
from .._version import __version__
from ..templates._examples import PIPE
from ..errors import TemplateError
from ..templates._scanner import HolePiece, ScanError, scan_template
from ._load import RunData
from ._style import LEGEND_STEPS, STYLESHEET, confidence_colour
from ._svg import StripRow, histogram, step_plot, strip_plot
from ._tokens import token_pieces

# Sampler settings shown in the header, in this order. The settings section lists all of them.
_HEADER_SAMPLER_KEYS = ("steps", "remasking", "temperature", "top_k", "top_p", "threshold", "num_candidates", "length_trials", "layout")


def build_html(run: RunData, *, best: int = 3, plot_rows: int = 10) -> str:
    """Return the whole report page for ``run``: ``best`` candidates in full, ``plot_rows`` in the strip plot."""
    result = run.result
    title = f"promptfill report: {run.directory.name or run.directory}"
    body = [
        _header(run, title),
        _problems(run),
        _best_candidates(run, best),
        _ranking(run),
        _plots(run, plot_rows),
        _settings(run),
        f'<footer>Written by promptfill {escape(__version__)} on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC '
        f"from {escape(str(run.directory))}. {len(result)} candidates.</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLESHEET}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(part for part in body if part)
        + "\n</main>\n</body>\n</html>\n"
    )


# -- header ---------------------------------------------------------------------------------

def _header(run: RunData, title: str) -> str:
    result = run.result
    facts = [
        ("model", result.model),
        ("scorer", result.scorer or "none (ranked by model score)"),
        ("seed", result.sampler.get("seed", (run.config or {}).get("seed"))),
        ("few-shot examples", result.num_examples),
        ("dev examples scored", _dev_examples(result)),
        ("candidates", f"{len(result)} distinct of {result.sampled} sampled"),
        ("forward passes", result.forward_passes),
        ("wall time", f"{result.seconds:.1f} s"),
    ]
    if run.scores:
        facts.append(("target calls", sum(int(record.get("target_calls") or 0) for record in run.scores)))
    if run.environment:
        facts.append(("device", run.environment.get("device")))
        # The run recorder writes "started_at"; "start_time" is accepted from other writers.
        started = run.environment.get("started_at", run.environment.get("start_time"))
        facts.append(("started", _timestamp(started)))
    sampler = ", ".join(
        f"{key.replace('_', ' ')} {_plain(result.sampler[key])}" for key in _HEADER_SAMPLER_KEYS if result.sampler.get(key) is not None
    )
    rows = "".join(
        f"<div><dt>{escape(name)}</dt><dd>{escape(_plain(value))}</dd></div>" for name, value in facts if value is not None
    )
    if sampler:
        rows += f'<div class="wide"><dt>sampler</dt><dd>{escape(sampler)}</dd></div>'

    return (
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="subtitle">Candidates infilled into the template below, ranked best first.</p>'
        f'<div class="panel"><h3>Template</h3><pre class="template">{_template_markup(result.template_source, _separator(result))}</pre>'
        f'<dl class="facts">{rows}</dl></div></header>'
    )


def _timestamp(value: Any) -> Any:
    """Return an ISO 8601 time as "YYYY-MM-DD HH:MM:SS" plus its UTC offset; other values unchanged."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = moment.utcoffset()
    if offset is None:
        zone = ""
    elif not offset:
        zone = " UTC"
    else:
        zone = moment.strftime(" UTC%z")
    return moment.strftime("%Y-%m-%d %H:%M:%S") + zone


def _dev_examples(result) -> int | None:
    counts = [candidate.score.count for candidate in result.candidates if candidate.score is not None]
    return max(counts) if counts else None


def _separator(result) -> str | None:
    if result.candidates:
        return result.candidates[0].template_settings.get("answer_separator", PIPE)
    return PIPE


def _template_markup(source: str, separator: str | None) -> str:
    """Return the escaped template source with each hole marked."""
    try:
        pieces = scan_template(source, separator)
    except (TemplateError, ScanError):
        # The report still shows a template that no longer parses, as plain text.
        return escape(source)
    return "".join(
        f'<span class="hole">{escape(piece.source)}</span>' if isinstance(piece, HolePiece) else escape(piece.source) for piece in pieces
    )


def _problems(run: RunData) -> str:
    if not run.problems:
        return ""
    items = "".join(f"<li>{escape(problem)}</li>" for problem in run.problems)
    return f'<div class="problems"><strong>Some run files could not be read:</strong><ul>{items}</ul></div>'


# -- best candidates ------------------------------------------------------------------------

def _best_candidates(run: RunData, count: int) -> str:
    result = run.result
    shown = result.candidates[:count]
    if not shown:
        return '<section id="best"><h2>Best candidates</h2><p class="note">This run has no candidates.</p></section>'
    legend = "".join(
        f'<span><span class="swatch" style="background:{confidence_colour(step)}"></span>{step:.2f}</span>' for step in LEGEND_STEPS
    )
    cards = "".join(_candidate_card(candidate, result.scorer) for candidate in shown)
    return (
        f'<section id="best"><h2>Best candidates</h2>'
        f'<div class="legend"><span>Each infilled span is outlined. A token\'s shade is the model\'s confidence '
        f"when it committed the token (its probability under the examples' combined vote); hover a token for "
        f"the exact value.</span>{legend}</div>{cards}</section>"
    )


def _candidate_card(candidate: FilledTemplate, scorer: str | None) -> str:
    metrics = [f'<span class="rank">#{candidate.rank}</span>', f'<span class="metric">model score {candidate.model_score:.3f}</span>']
    if candidate.error is not None:
        metrics.append('<span class="badge-failed">scoring failed</span>')
    elif candidate.score is not None:
        metrics.append(
            f'<span class="metric">{escape(scorer or "score")} {candidate.score.value:.3f} ± {candidate.score.std:.3f} '
            f"on {candidate.score.count} examples</span>"
        )
    if candidate.duplicates > 1:
        metrics.append(f'<span class="metric">sampled {candidate.duplicates} times</span>')
    error = f'<p class="error">{escape(candidate.error)}</p>' if candidate.error else ""
    return (
        f'<article class="panel candidate"><div class="candidate-head">{"".join(metrics)}</div>'
        f"<pre>{_filled_markup(candidate)}</pre>{error}</article>"
    )


def _filled_markup(candidate: FilledTemplate) -> str:
    """Return the template source with every hole replaced by its shaded fill."""
    try:
        pieces = scan_template(candidate.template_source, candidate.template_settings.get("answer_separator", PIPE))
    except (TemplateError, ScanError):
        # Fall back to the filled source, unshaded.
        return escape(candidate.source)
    fills = {fill.hole: fill for fill in candidate.fills}
    parts = []
    for piece in pieces:
        if isinstance(piece, HolePiece) and piece.index in fills:
            parts.append(_fill_markup(fills[piece.index]))
        else:
            parts.append(escape(piece.source))
    return "".join(parts)


def _fill_markup(fill: HoleFill) -> str:
    pieces, exact = token_pieces(fill)
    mean = sum(fill.confidences) / len(fill.confidences) if fill.confidences else float("nan")
    summary = f"hole {fill.hole + 1}: {len(fill.tokens)} tokens, mean confidence {mean:.3f}"
    if not exact:
        summary += " (tokens shown joined; they do not line up with the decoded text)"
    spans = []
    for piece in pieces:
        if piece.token is None:
            spans.append(escape(piece.text))
            continue
        text = piece.text or "\u2423"  # a token with no visible text, such as a bare word-start marker
        tooltip = f"{piece.token!r}: confidence {piece.confidence:.4f}, log-probability {piece.logprob:.4f}"
        blank = " blank" if not piece.text else ""
        spans.append(
            f'<span class="token{blank}" style="background:{confidence_colour(piece.confidence)}" title="{escape(tooltip)}">{escape(text)}</span>'
        )
    return f'<span class="fill" title="{escape(summary)}">{"".join(spans)}</span>'


# -- ranking --------------------------------------------------------------------------------

def _ranking(run: RunData) -> str:
    result = run.result
    score_header = f"{escape(result.scorer)} mean ± std" if result.scorer else "scorer mean ± std"
    head = (
        '<tr><th class="number">rank</th><th>fills</th><th class="number">model score</th>'
        f'<th class="number">{score_header}</th><th class="number">examples scored</th><th>note</th></tr>'
    )
    rows = "".join(_ranking_row(candidate) for candidate in result.candidates)
    return f'<section id="ranking"><h2>Ranked candidates</h2><table><thead>{head}</thead><tbody>{rows}</tbody></table></section>'


def _ranking_row(candidate: FilledTemplate) -> str:
    fills = "".join(f"<li><code>{escape(text) if text else '<em>(empty)</em>'}</code></li>" for text in candidate.texts)
    notes = []
    if candidate.error is not None:
        score = '<span class="badge-failed">failed</span>'
        examples = "—"
        notes.append(f'<span class="error">{escape(candidate.error)}</span>')
    elif candidate.score is not None:
        score = f"{candidate.score.value:.3f} ± {candidate.score.std:.3f}"
        examples = str(candidate.score.count)
    else:
        score, examples = "—", "—"
    dropped = getattr(candidate, "eliminated_in_round", None)
    if dropped is not None:
        notes.append(f"dropped in halving round {dropped + 1}; scored on fewer examples")
    if candidate.duplicates > 1:
        notes.append(f"sampled {candidate.duplicates} times")
    row_class = ' class="failed"' if candidate.error is not None else ""
    return (
        f"<tr{row_class}><td class=\"number\">{candidate.rank}</td><td><ul class=\"fills-list\">{fills}</ul></td>"
        f'<td class="number">{candidate.model_score:.3f}</td><td class="number">{score}</td>'
        f'<td class="number">{examples}</td><td>{"<br>".join(notes)}</td></tr>'
    )


# -- plots ----------------------------------------------------------------------------------

def _plots(run: RunData, rows: int) -> str:
    result = run.result
    parts = ['<section id="plots"><h2>Scores</h2>']
    scored = [c for c in result.candidates if c.score is not None and c.error is None][:rows]
    if scored:
        strip_rows = [StripRow(f"#{c.rank}", c.score.per_example, c.score.value, c.score.std) for c in scored]
        parts.append(
            f'<p class="note">Per-example {escape(result.scorer or "scorer")} values of the top {len(scored)} scored '
            "candidates: one dot per dev example, the red tick at the mean and the red bar spanning ± one standard deviation.</p>"
        )
        parts.append(strip_plot(strip_rows, f"{result.scorer or 'score'} per example", "Per-example scores of the top candidates"))
    else:
        parts.append('<p class="note">No scorer values to plot: this run ranked candidates by model score only.</p>')
    if result.candidates:
        parts.append(f'<p class="note">Model scores (mean log-probability of the infilled tokens) of all {len(result)} candidates.</p>')
        # About two bins per square root of the count: enough to show a shape, few enough to fill.
        bins = max(5, min(20, round(2 * len(result) ** 0.5)))
        parts.append(histogram([c.model_score for c in result.candidates], "model score", "Histogram of candidate model scores", bins=bins))

    parts.append("<h2>Search progress</h2>")
    if run.progress:
        points = [(float(record["target_calls"]), float(record["best_score"])) for record in sorted(run.progress, key=_progress_order)]
        parts.append(f'<p class="note">Best score after each of {len(points)} search iterations, against the target calls spent so far.</p>')
        parts.append(step_plot(points, "target calls", "best score", "Best score against target calls"))
    elif run.progress is not None:
        parts.append('<p class="note">progress.jsonl has no readable iterations, so there is no search progress to plot.</p>')
    else:
        parts.append('<p class="note">No search progress recorded: this run has no progress.jsonl (only search loops write one).</p>')
    parts.append("</section>")
    return "".join(parts)


def _progress_order(record: dict[str, Any]) -> tuple[float, float]:
    return (float(record.get("iteration", 0)), float(record["target_calls"]))


# -- settings -------------------------------------------------------------------------------

def _settings(run: RunData) -> str:
    result = run.result
    sections = [("Sampler settings (from result.json)", result.sampler)]
    sections.append(("Configuration (config.json)", run.config) if run.config is not None else ("Configuration", "config.json is absent"))
    sections.append(("Environment (environment.json)", run.environment) if run.environment is not None else ("Environment", "environment.json is absent"))
    files = sorted(path.name for path in run.directory.iterdir()) if run.directory.is_dir() else []
    sections.append(("Files in the run directory", {"files": files}))
    body = "".join(f"<h3>{escape(name)}</h3>{_table(content)}" for name, content in sections)
    return f'<details id="settings"><summary>Run settings and environment</summary>{body}</details>'


def _table(content: Any) -> str:
    if not isinstance(content, dict):
        return f'<p class="note">{escape(str(content))}</p>'
    if not content:
        return '<p class="note">(empty)</p>'
    rows = "".join(
        f"<tr><td>{escape(str(key))}</td><td><code>{escape(_plain(value))}</code></td></tr>" for key, value in _flatten(content)
    )
    return f"<table><tbody>{rows}</tbody></table>"


def _flatten(content: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Return ``(dotted.key, value)`` pairs of nested mappings, in their order."""
    pairs: list[tuple[str, Any]] = []
    for key, value in content.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            pairs.extend(_flatten(value, name + "."))
        else:
            pairs.append((name, value))
    return pairs


def _plain(value: Any) -> str:
    """Return ``value`` as a short string: strings as they are, other values as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
