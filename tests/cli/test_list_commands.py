"""`promptfill scorers` and `promptfill targets` list the registered names."""

from __future__ import annotations

from typer.testing import CliRunner

from promptfill.cli._app import app


def test_scorers_lists_builtins():
    result = CliRunner().invoke(app, ["scorers"])

    assert result.exit_code == 0
    assert {"choice", "embedding", "exact_match", "f1", "loglik", "metric", "numeric"} <= set(result.output.split())


def test_targets_lists_local_targets():
    result = CliRunner().invoke(app, ["targets"])

    assert result.exit_code == 0
    assert {"callable", "causal_lm", "dlm"} <= set(result.output.split())
