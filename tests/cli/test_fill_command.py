import json

import pytest
import yaml
from typer.testing import CliRunner

from promptfill.cli import app

runner = CliRunner()

EXAMPLES = [
    {"text": "a wonderful film", "label": "positive"},
    {"text": "dull and far too long", "label": "negative"},
]


def write_task(tmp_path, model_dir, **overrides):
    task = {
        "model": str(model_dir),
        "device": "cpu",
        "template": "Review: {{ text }} [MASK:2-3] ||| {{ label }}",
        "examples": EXAMPLES,
        "sampler": {"num_candidates": 2, "temperature": 1.0, "length_trials": 2},
    }
    task.update(overrides)
    path = tmp_path / "task.yaml"
    path.write_text(yaml.safe_dump(task, sort_keys=False))
    return path


def test_fill_prints_ranked_table(tmp_path, tiny_bert_dir):
    result = runner.invoke(app, ["fill", str(write_task(tmp_path, tiny_bert_dir)), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "rank" in result.output
    assert "best template:" in result.output


def test_fill_json_output_is_parseable(tmp_path, tiny_bert_dir):
    result = runner.invoke(app, ["fill", str(write_task(tmp_path, tiny_bert_dir)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["candidates"][0]["rank"] == 1
    assert data["num_examples"] == 2


def test_fill_writes_output_directory(tmp_path, tiny_bert_dir):
    out = tmp_path / "out"
    result = runner.invoke(app, ["fill", str(write_task(tmp_path, tiny_bert_dir)), "--quiet", "--output", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "result.json").read_text())
    assert saved["candidates"]
    assert (out / "task.yaml").read_text().startswith("model:")


def test_examples_file_relative_to_task(tmp_path, tiny_bert_dir):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ex.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EXAMPLES))
    task = write_task(tmp_path, tiny_bert_dir, examples=None, examples_file="data/ex.jsonl")
    text = task.read_text().replace("examples: null\n", "")
    task.write_text(text)
    result = runner.invoke(app, ["fill", str(task), "--quiet", "--json"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"template": "Review: {{ text }} ||| {{ label }}"}, 2, "NoHoleError: template"),
        ({"template": "{{ text [MASK] }}"}, 2, "HoleSyntaxError"),
        ({"template": "Review: {{ text }} [MASK:0]"}, 2, "HoleSyntaxError"),
        ({"examples": [{"text": "x"}]}, 2, "TemplateVariableError: example 0:"),
        ({"sampler": {"remasking": "best_first"}}, 2, "valid names are: entropy, low_confidence, margin, random"),
        ({"sampler": {"num_candidates": 0}}, 2, "sampler: SamplerConfig: num_candidates=0 is invalid: Input should be greater than or equal to 1"),
        ({"colour": "blue"}, 2, "'colour' is not a valid key; valid keys are: answer_choices, answer_separator,"),
        ({"exampels": []}, 2, "'exampels' is not a valid key; did you mean 'examples'? valid keys are:"),
        ({"scorer": "no_such_scorer"}, 2, "unknown scorer 'no_such_scorer'"),
    ],
)
def test_bad_input_prints_one_line_and_exits(tmp_path, tiny_bert_dir, overrides, code, message):
    result = runner.invoke(app, ["fill", str(write_task(tmp_path, tiny_bert_dir, **overrides)), "--quiet"])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ")


def test_task_file_error_names_the_line(tmp_path, tiny_bert_dir):
    task = write_task(tmp_path, tiny_bert_dir, sampler={"num_candidates": 2, "steps": -1})
    result = runner.invoke(app, ["fill", str(task), "--quiet"])
    assert result.exit_code == 2
    # The line of the sampler block; the message names the field inside it.
    line = next(i for i, text in enumerate(task.read_text().splitlines(), start=1) if text.startswith("sampler:"))
    assert f"task.yaml:{line}: sampler: SamplerConfig: steps=-1 is invalid" in result.output


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "task.yaml"
    path.write_text("template: ok\nexamples: [1, 2\n")
    result = runner.invoke(app, ["fill", str(path)])
    assert result.exit_code == 2
    assert "task.yaml:3: invalid YAML" in result.output


def test_missing_task_file(tmp_path):
    result = runner.invoke(app, ["fill", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_bad_model_path_exits_with_model_code(tmp_path):
    empty = tmp_path / "empty-model"
    empty.mkdir()
    result = runner.invoke(app, ["fill", str(write_task(tmp_path, empty)), "--quiet"])
    assert result.exit_code == 3, result.output
    assert "CheckpointError" in result.output


def test_version_flag():
    from promptfill import __version__

    result = runner.invoke(app, ["--version"])
    assert result.output.strip() == f"promptfill {__version__}"


def test_bad_option_override_rejected(tmp_path, tiny_bert_dir):
    result = runner.invoke(app, ["fill", str(write_task(tmp_path, tiny_bert_dir)), "--quiet", "-n", "0"])
    assert result.exit_code == 2
    assert "num_candidates=0 is invalid" in result.output


def test_option_override_applies(tmp_path, tiny_bert_dir):
    result = runner.invoke(app, ["fill", str(write_task(tmp_path, tiny_bert_dir)), "--json", "-n", "3"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sampler"]["num_candidates"] == 3
