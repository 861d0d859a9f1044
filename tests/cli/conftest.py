"""Run every CLI test in its own temporary directory, so default run directories land there."""

import pytest


@pytest.fixture(autouse=True)
def _work_in_tmp_path(tmp_path, monkeypatch):
    # `promptfill fill` records each run under ./runs/ unless told otherwise.
    monkeypatch.chdir(tmp_path)
