"""Run every CLI test in its own temporary directory, so default run directories land there."""

import pytest


@pytest.fixture(autouse=True)
def _work_in_tmp_path(tmp_path, monkeypatch):
    # `promptfill fill` records each run under ./runs/ unless told otherwise, and caches target
    # responses in the user cache, which PROMPTFILL_CACHE moves.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROMPTFILL_CACHE", str(tmp_path / "user-cache.sqlite"))
