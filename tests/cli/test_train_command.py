import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from promptfill.cli import app

runner = CliRunner()
ACCELERATE_CPU = Path(__file__).resolve().parents[2] / "examples" / "train" / "accelerate_cpu.yaml"


def write_config(tmp_path, model_dir, pairs_file, **overrides):
    config = {
        "model": str(model_dir),
        "train_files": [pairs_file.name],
        "output_dir": "run",
        "max_length": 32,
        "per_device_batch_size": 4,
        "max_steps": 2,
        "save_steps": 2,
        "logging_steps": 1,
    }
    config.update(overrides)
    path = pairs_file.parent / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_train_command_saves_final_checkpoint(tmp_path, tiny_bert_dir, pairs_file):
    config = write_config(tmp_path, tiny_bert_dir, pairs_file)
    result = runner.invoke(app, ["train", str(config)])
    assert result.exit_code == 0, result.output
    final = pairs_file.parent / "run" / "final"
    assert f"saved {final}" in result.output
    record = json.loads((final / "promptfill_training.json").read_text())
    assert record["global_step"] == 2


def test_train_command_rejects_bad_eps_with_line(tmp_path, tiny_bert_dir, pairs_file):
    config = write_config(tmp_path, tiny_bert_dir, pairs_file, masking={"eps": 1.5})
    result = runner.invoke(app, ["train", str(config)])
    assert result.exit_code == 2
    assert "masking.eps: eps must be in the open interval (0, 1), got 1.5" in result.output


def test_train_command_rejects_unknown_mode(tmp_path, tiny_bert_dir, pairs_file):
    config = write_config(tmp_path, tiny_bert_dir, pairs_file, masking={"mode": "prompt_only"})
    result = runner.invoke(app, ["train", str(config)])
    assert result.exit_code == 2
    assert "unknown masking mode 'prompt_only'; valid names are: full_sequence, response_only, two_stage" in result.output


@pytest.mark.slow
def test_accelerate_launch_one_cpu_process(tmp_path, tiny_bert_dir, pairs_file):
    config = write_config(tmp_path, tiny_bert_dir, pairs_file)
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(ACCELERATE_CPU),
        "-m", "promptfill", "train", str(config),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert (pairs_file.parent / "run" / "final" / "config.json").is_file()
