"""config.json and environment.json outside fill runs: training output directories."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from promptfill.cli import app
from promptfill.runs._metadata import write_run_metadata


def test_metadata_second_start_appends_resume(tmp_path):
    write_run_metadata(tmp_path / "out", {"learning_rate": 1e-4, "output_dir": tmp_path / "out"}, seed=3, command=["first"])
    write_run_metadata(tmp_path / "out", {"learning_rate": 2e-4}, seed=3, command=["second"])
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    environment = json.loads((tmp_path / "out" / "environment.json").read_text())
    assert config == {"learning_rate": 2e-4}
    assert environment["command"] == ["first"]
    assert [entry["command"] for entry in environment["resumes"]] == [["second"]]


def test_train_writes_config_and_environment(tmp_path, tiny_bert_dir, pairs_file):
    settings = {
        "model": str(tiny_bert_dir), "train_files": [pairs_file.name], "output_dir": "run", "max_length": 32,
        "per_device_batch_size": 4, "max_steps": 1, "save_steps": 1, "logging_steps": 1, "seed": 5,
    }
    config_path = pairs_file.parent / "train.yaml"
    config_path.write_text(yaml.safe_dump(settings))
    result = CliRunner().invoke(app, ["train", str(config_path)])
    assert result.exit_code == 0, result.output
    output_dir = pairs_file.parent / "run"
    config = json.loads((output_dir / "config.json").read_text())
    environment = json.loads((output_dir / "environment.json").read_text())
    assert config["max_steps"] == 1
    assert config["seed"] == 5
    assert environment["seed"] == 5
    assert environment["device"] == "cpu"
    assert environment["dtype"] == "float32"
