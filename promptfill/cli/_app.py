"""The ``promptfill`` command line: fill templates and train models from YAML files.

Exit codes: 0 success; 2 invalid input (task file, template, examples, settings); 3 model or
checkpoint problem; 4 every candidate failed scoring; 130 interrupted.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .._version import __version__
from ..errors import ModelError, PromptfillError, ScorerError

EXIT_OK = 0
EXIT_INVALID_INPUT = 2
EXIT_MODEL_ERROR = 3
EXIT_SCORER_FAILED = 4
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="promptfill",
    help="Optimize prompts by infilling [MASK] holes in templates with masked diffusion language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stderr = Console(stderr=True)


def _fail(error: BaseException) -> None:
    """Print one line for a known error and exit with its code."""
    code = EXIT_INVALID_INPUT
    if isinstance(error, ScorerError):
        code = EXIT_SCORER_FAILED
    elif isinstance(error, ModelError):
        code = EXIT_MODEL_ERROR
    stderr.print(f"[bold red]error:[/] {type(error).__name__}: {error}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"promptfill {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details to stderr."),
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The CLI draws its own progress bar; transformers' weight-loading bars would interleave with it.
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


@app.command()
def fill(
    task: Optional[Path] = typer.Argument(None, help="YAML task file (see docs/cli.md for the schema); optional with --resume."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Directory to write result.json and the resolved task into."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON on stdout instead of a table."),
    num_candidates: Optional[int] = typer.Option(None, "--num-candidates", "-n", help="Candidates per hole-length combination."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed; the same seed repeats the same candidates."),
    device: Optional[str] = typer.Option(None, "--device", help="cuda, mps or cpu (overrides the task file)."),
    top: Optional[int] = typer.Option(None, "--top", help="Rows in the table (overrides the task file)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    run_dir: Optional[Path] = typer.Option(None, "--run-dir", help="Directory to record the run in (see docs/runs.md); defaults to runs/<task name>-<UTC time>."),
    no_run_dir: bool = typer.Option(False, "--no-run-dir", help="Record no run directory."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the interrupted run in this directory; without TASK, the task is read from its config.json."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Send every target request, ignoring and not filling the response cache."),
    target: Optional[str] = typer.Option(None, "--target", help="Target model name (overrides the task file's target), e.g. openai."),
    target_setting: list[str] = typer.Option([], "--target-setting", "-T", help="KEY=VALUE target setting (repeatable; VALUE parsed as YAML), e.g. -T base_url=http://127.0.0.1:8000/v1."),
) -> None:
    """Infill the holes of a task's template and print the ranked candidates."""
    from .._infiller import merge_sampler, render_copies
    from ..templates import PromptTemplate
    from ._rundir import finish_run, load_fill_task, start_run

    run = None
    try:
        spec, base, task = load_fill_task(task, resume, run_dir, no_run_dir)
        spec = _override_target(spec, target, target_setting)
        overrides = {key: value for key, value in {"num_candidates": num_candidates, "seed": seed}.items() if value is not None}
        sampler = merge_sampler(spec.sampler, overrides)
        template = PromptTemplate(
            spec.template_source(base),
            answer_separator=spec.answer_separator,
            answer_choices=spec.answer_choices,
            default_hole_length=spec.default_hole_length,
        )
        examples = spec.load_examples(base)
        dev_examples = spec.load_dev_examples(base)
        render_copies(template, examples)  # fail on bad examples before the slow model load
        if not no_run_dir:
            run, spec, sampler = start_run(spec, base, sampler, examples, dev_examples, task=task, run_dir=run_dir, resume=resume, device=device)
        finished = run.read_result() if run is not None and resume is not None else None
        if finished is not None:
            # Resuming a finished run shows its result as recorded, with its original cost and time.
            result = finished
            stderr.print(f"the run in {run.path} had already finished; showing its result")
        else:
            result = _run_fill(spec, base, template, examples, dev_examples, sampler, run, device, no_cache, quiet or as_json)
    except KeyboardInterrupt:
        if run is not None:
            run.close()
        stderr.print("interrupted" if run is None else f"interrupted; continue with: promptfill fill --resume {run.path}")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except PromptfillError as error:
        partial = getattr(error, "partial_result", None)
        if partial is not None and output is not None:
            _write_output(output, partial, task)
        if run is not None:
            finish_run(run)
        _fail(error)
        return

    if run is not None:
        finish_run(run)
        stderr.print(f"recorded the run in {run.path}")
    if output is not None:
        _write_output(output, result, task)
    if as_json:
        sys.stdout.write(result.to_json() + "\n")
    else:
        _print_table(result, top or spec.top)
        if output is not None:
            stderr.print(f"wrote {output / 'result.json'}")


def _run_fill(spec, base, template, examples, dev_examples, sampler, run, device, no_cache, quiet):
    """Load the model, build the scorer and its target, and run the fill; return its result."""
    from .._infiller import PromptInfiller

    cache = None if no_cache else _open_cache(spec.cache_path(base))
    scorer = _build_scorer(spec, cache)  # unknown names and missing keys fail before the model load
    infiller = PromptInfiller.from_pretrained(
        spec.model, kind=spec.kind, device=device or spec.device, dtype=spec.dtype, trust_remote_code=spec.trust_remote_code
    )
    _bind_default_target(scorer, infiller, cache, spec)
    with _progress(disabled=quiet) as report:
        return infiller.fill(
            template, examples, scorer=scorer, dev_examples=dev_examples, sampler=sampler,
            halving=spec.halving, run=run, progress=report,
        )


@app.command()
def train(
    config: Path = typer.Argument(..., help="YAML training config (see docs/training.md)."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue from the last checkpoint in output_dir."),
) -> None:
    """Fine-tune a masked LM by full-sequence masking SFT."""
    from ..training import train as run_training
    from ._task import load_yaml_model
    from ..training import TrainConfig

    try:
        train_config, base = load_yaml_model(config, TrainConfig)
        train_config = _resolve_train_paths(train_config, base)
        final = run_training(train_config, resume=resume)
    except KeyboardInterrupt:
        stderr.print("interrupted; rerun the same command to resume from the last checkpoint")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except PromptfillError as error:
        _fail(error)
        return
    typer.echo(f"saved {final}")


def _override_target(spec, name: str | None, settings: list[str]):
    """Apply --target and --target-setting to the task, so one task file serves any endpoint."""
    import yaml

    from ..errors import ConfigError
    from ._task import TargetSpec

    if name is None and not settings:
        return spec
    merged = spec.target_settings if name is None or name == spec.target_name else {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--target-setting {item!r} is invalid; write KEY=VALUE, e.g. -T model=llama3")
        merged[key.strip()] = yaml.safe_load(value) if value else ""
    chosen = name or spec.target_name
    if chosen is None:
        raise ConfigError("--target-setting needs a target; add --target NAME (see `promptfill targets`)")
    return spec.model_copy(update={"target": TargetSpec(name=chosen, settings=merged)})


def _open_cache(path: Path | None):
    """Open the response cache file, or return None when caching is off."""
    if path is None:
        return None
    from ..targets import SqliteCache

    return SqliteCache(path)


def _build_scorer(spec, cache):
    """Create the task's scorer, and its target when the task names one (with the cache)."""
    from ..errors import ConfigError
    from ..scoring import TargetScorer, resolve_scorer
    from ..targets import resolve_target

    settings = spec.scorer_settings
    if "target" in settings or "target_settings" in settings:
        raise ConfigError("set the target model with the task file's top-level 'target:' key, not inside scorer settings")
    scorer = resolve_scorer(spec.scorer_name, **settings)
    if spec.target_name is not None:
        if not isinstance(scorer, TargetScorer):
            raise ConfigError(
                f"target {spec.target_name!r} is set, but scorer {spec.scorer_name!r} does not use a target model; "
                "remove 'target:' or choose a scorer such as exact_match, choice or loglik"
            )
        if spec.target_name == "dlm" and "model" not in spec.target_settings and "backend" not in spec.target_settings:
            return scorer  # the infiller's own model, bound with these settings once it is loaded
        scorer.target = resolve_target(spec.target_name, cache=cache, **spec.target_settings)
    return scorer


def _bind_default_target(scorer, infiller, cache, spec) -> None:
    """Give a target scorer without a target the infiller's own model, sharing the cache.

    ``target: dlm`` without a ``model`` setting also means the infiller's model, with the
    task's settings (``max_tokens``, ``first_line``...), so it is not loaded twice.
    """
    from ..scoring import TargetScorer
    from ..targets import TARGETS

    if isinstance(scorer, TargetScorer) and scorer.target is None:
        settings = spec.target_settings if spec.target_name == "dlm" else {}
        scorer.target = TARGETS.create("dlm", backend=infiller.backend, cache=cache, **settings)


@app.command()
def scorers() -> None:
    """List the registered scorer names, including plugins."""
    from ..scoring import SCORERS

    for name in SCORERS.names():
        typer.echo(name)


@app.command()
def targets() -> None:
    """List the registered target model names, including plugins."""
    from ..targets import TARGETS

    for name in TARGETS.names():
        typer.echo(name)


@app.command()
def report(
    run_dir: Path = typer.Argument(..., help="Run directory; it must contain result.json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="HTML file to write; defaults to RUN_DIR/report.html."),
) -> None:
    """Write the self-contained HTML report of a run directory."""
    from ..report import write_report

    try:
        path = write_report(run_dir, output)
    except (PromptfillError, OSError) as error:
        _fail(error)
        return
    typer.echo(f"wrote {path}")


def _resolve_train_paths(config, base: Path):
    def resolve(path: Path) -> Path:
        return path if path.is_absolute() else base / path

    return config.model_copy(update={
        "train_files": [resolve(p) for p in config.train_files],
        "eval_files": [resolve(p) for p in config.eval_files],
        "output_dir": resolve(config.output_dir),
    })


class _progress:
    """A rich progress bar fed by the infiller's ``progress(done, total)`` callback."""

    def __init__(self, disabled: bool) -> None:
        self.disabled = disabled
        self.bar: Progress | None = None
        self.task_id = None

    def __enter__(self):
        if self.disabled:
            return None
        self.bar = Progress(TextColumn("denoising"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=stderr, transient=True)
        self.bar.__enter__()
        self.task_id = self.bar.add_task("fill", total=None)
        return self.update

    def update(self, done: int, total: int) -> None:
        self.bar.update(self.task_id, completed=done, total=total)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _write_output(directory: Path, result, task: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / "result.json.tmp"
    temporary.write_text(result.to_json() + "\n", encoding="utf-8")
    temporary.replace(directory / "result.json")
    (directory / "task.yaml").write_text(Path(task).read_text(encoding="utf-8"), encoding="utf-8")


def _print_table(result, top: int) -> None:
    console = Console()
    table = Table(title=f"{len(result)} distinct candidates ({result.sampled} sampled, {result.forward_passes} forward passes, {result.seconds:.1f} s)")
    table.add_column("rank", justify="right")
    table.add_column("fill" if len(result.best.fills) == 1 else "fills")
    table.add_column("model score", justify="right")
    if result.scorer:
        table.add_column(result.scorer, justify="right")
    for candidate in result.candidates[:top]:
        fills = " | ".join(candidate.texts)
        row = [str(candidate.rank), fills, f"{candidate.model_score:.3f}"]
        if result.scorer:
            row.append(_score_cell(candidate))
        table.add_row(*row)
    console.print(table)
    if result.target is not None:
        stats = result.target["stats"]
        cost = f", cost {stats['cost']:.4f}" if stats["cost"] else ""
        console.print(
            f"target {result.target['name']}: {stats['requests']} requests, {stats['cache_hits']} from cache, "
            f"{stats['failures']} failed{cost}", highlight=False,
        )
    console.print("best template:", style="bold")
    console.print(result.best.source, markup=False, highlight=False)


def _score_cell(candidate) -> str:
    if candidate.error:
        return "failed"
    if candidate.score is None:
        return "-"
    cell = f"{candidate.score.value:.3f} ± {candidate.score.std:.3f}"
    if candidate.eliminated_in_round is not None:
        cell += f" (n={candidate.score.count}, dropped)"
    return cell


def main() -> None:
    """Run the CLI (the ``promptfill`` console script)."""
    app()
