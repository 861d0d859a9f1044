"""The task file of ``promptfill fill``: a YAML document that describes one fill job.

Paths inside a task file are relative to the file's own directory. Example::

    model: null                 # null: the embedded model; or a checkpoint path / Hub name
    template: |
      [MASK:4-12]
      Input: {{ input }}
      Output: ||| {{ output }}
    examples_file: data/train.jsonl   # .jsonl, .jsonl.gz, or .json (a list, or {"examples": ...})
    examples_limit: 5
    sampler:
      num_candidates: 8
      temperature: 0.8
"""

from __future__ import annotations

import difflib
import gzip
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import DataError, TaskFileError
from ..sampling import SamplerConfig
from ..scoring import HalvingConfig


class ScorerSpec(BaseModel):
    """A scorer chosen by registered name, with its settings."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="A registered scorer name (see `promptfill scorers`).")
    settings: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of the scorer.")


class TargetSpec(BaseModel):
    """A target model chosen by registered name, with its settings."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="A registered target name (see `promptfill targets`).")
    settings: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments of the target, e.g. base_url and model.")


class TaskFile(BaseModel):
    """One fill job: model, template, examples, sampler settings and scorer."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="Checkpoint path or Hub name; null loads the embedded model.")
    kind: Literal["auto", "masked_lm", "llada", "dream", "mdlm"] = "auto"
    device: str | None = Field(None, description="cuda, mps or cpu; null picks the best available.")
    dtype: str | None = Field(None, description="float32, bfloat16, float16 or auto.")
    trust_remote_code: bool = Field(False, description="Run modeling code shipped with the checkpoint.")
    template: str | None = Field(None, description="Jinja source with [MASK] holes.")
    template_file: Path | None = Field(None, description="A file holding the template source.")
    answer_separator: str | None = Field("|||", description="Splits prompt from answer; null for none.")
    answer_choices: list[str] | str | None = Field(None, description="Label words, offered to the template as answer_choices.")
    default_hole_length: int | str = Field("4-12", description="Tokens of a bare [MASK]: 6 or a range like 4-12.")
    examples: list[dict[str, Any]] | None = Field(None, description="Few-shot examples inline.")
    examples_file: Path | None = Field(None, description="Few-shot examples from a JSON or JSONL file.")
    examples_limit: int | None = Field(None, ge=1, description="Use only the first N examples.")
    dev_examples: list[dict[str, Any]] | None = Field(None, description="Examples for the scorer; defaults to the few-shot examples.")
    dev_examples_file: Path | None = None
    dev_examples_limit: int | None = Field(None, ge=1)
    sampler: SamplerConfig = Field(default_factory=lambda: SamplerConfig(temperature=0.8, top_p=0.95))
    scorer: ScorerSpec | str | None = Field(None, description="A scorer name, or {name, settings}.")
    target: TargetSpec | str | None = Field(None, description="The model the scorer validates against; null: the infiller's own model.")
    halving: HalvingConfig | bool = Field(False, description="Successive halving over the dev set: true, false, or its settings.")
    cache: Path | bool = Field(True, description="Target response cache: true for the user cache, false for none, or a file path.")
    top: int = Field(10, ge=1, description="Candidates shown in the table.")

    @model_validator(mode="after")
    def _check_sources(self) -> TaskFile:
        if (self.template is None) == (self.template_file is None):
            raise ValueError("set exactly one of 'template' and 'template_file'")
        if (self.examples is None) == (self.examples_file is None):
            raise ValueError("set exactly one of 'examples' and 'examples_file'")
        if self.dev_examples is not None and self.dev_examples_file is not None:
            raise ValueError("set at most one of 'dev_examples' and 'dev_examples_file'")
        return self

    @property
    def scorer_name(self) -> str | None:
        """The scorer's registered name, or None."""
        return self.scorer.name if isinstance(self.scorer, ScorerSpec) else self.scorer

    @property
    def scorer_settings(self) -> dict[str, Any]:
        """The scorer's settings (empty when given by name only)."""
        return dict(self.scorer.settings) if isinstance(self.scorer, ScorerSpec) else {}

    @property
    def target_name(self) -> str | None:
        """The target's registered name, or None for the infiller's own model."""
        return self.target.name if isinstance(self.target, TargetSpec) else self.target

    @property
    def target_settings(self) -> dict[str, Any]:
        """The target's settings (empty when given by name only)."""
        return dict(self.target.settings) if isinstance(self.target, TargetSpec) else {}

    def cache_path(self, base: Path) -> Path | None:
        """Return the response cache file: the task's path, the user cache, or None when disabled."""
        if self.cache is False:
            return None
        if self.cache is True:
            return default_cache_path()
        return _resolve(base, self.cache)

    def template_source(self, base: Path) -> str:
        """Return the template text, reading ``template_file`` relative to ``base``."""
        if self.template is not None:
            return self.template
        path = _resolve(base, self.template_file)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as error:
            raise TaskFileError(f"cannot read template_file {str(path)!r}: {error.strerror}") from None

    def load_examples(self, base: Path) -> list[dict[str, Any]]:
        """Return the few-shot examples, inline or from ``examples_file``, limited."""
        examples = self.examples if self.examples is not None else load_examples_file(_resolve(base, self.examples_file))
        return examples[: self.examples_limit] if self.examples_limit else examples

    def load_dev_examples(self, base: Path) -> list[dict[str, Any]] | None:
        """Return the dev examples for the scorer, or None to reuse the few-shot examples."""
        if self.dev_examples is None and self.dev_examples_file is None:
            return None
        examples = self.dev_examples if self.dev_examples is not None else load_examples_file(_resolve(base, self.dev_examples_file))
        return examples[: self.dev_examples_limit] if self.dev_examples_limit else examples


def default_cache_path() -> Path:
    """Return the user response cache: ``$PROMPTFILL_CACHE`` or ``~/.cache/promptfill/responses.sqlite``.

    ``$XDG_CACHE_HOME`` replaces ``~/.cache`` when set.
    """
    explicit = os.environ.get("PROMPTFILL_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "promptfill" / "responses.sqlite"


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else base / path


def load_examples_file(path: Path) -> list[dict[str, Any]]:
    """Read examples from ``.jsonl``/``.jsonl.gz`` (one object per line) or ``.json``.

    A ``.json`` file may hold a list of objects, or an object whose ``examples`` entry is a
    list or a dict of objects (the instruction-induction layout).
    """
    if not path.is_file():
        raise DataError(f"examples file {str(path)!r} does not exist; paths are relative to the task file")
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        if path.name.endswith((".jsonl", ".jsonl.gz")):
            records = []
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as error:
                        raise DataError(f"{path}:{number}: invalid JSON ({error.msg})") from None
        else:
            try:
                data = json.load(handle)
            except json.JSONDecodeError as error:
                raise DataError(f"{path}:{error.lineno}: invalid JSON ({error.msg})") from None
            records = data.get("examples", data) if isinstance(data, dict) else data
            if isinstance(records, dict):
                records = list(records.values())
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DataError(f"{path}: expected a list of JSON objects (one per example)")
    if not records:
        raise DataError(f"{path}: contains no examples")
    return records


def load_task_file(path: str | Path) -> tuple[TaskFile, Path]:
    """Read and validate a task file; return it with the directory its paths are relative to.

    Raises:
        TaskFileError: The file is missing, is not YAML, or does not match the schema. The
            message gives the file, the line, the field and the rule.
    """
    return load_yaml_model(path, TaskFile)


def _read_yaml_mapping(path: Path) -> tuple[yaml.Node, dict]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise TaskFileError(f"cannot read {str(path)!r}: {error.strerror or error}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise TaskFileError(f"{where}: invalid YAML: {getattr(error, 'problem', None) or error}") from None
    if not isinstance(data, dict):
        raise TaskFileError(f"{path}: expected a YAML mapping of settings, got {type(data).__name__}")
    return node, data


def _validation_error(path: Path, node: yaml.Node, error: ValidationError, model_class: type[BaseModel]) -> TaskFileError:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "(top level)"
    line = _line_of(node, first["loc"])
    where = f"{path}:{line}" if line else str(path)
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        return TaskFileError(f"{where}: {location!r} is not a valid key; {_valid_keys_hint(model_class, first['loc'])}")
    shown = first.get("input")
    value = f" (got {shown!r})" if first["type"] != "missing" and shown is not None and not isinstance(shown, dict) else ""
    return TaskFileError(f"{where}: {location}: {message}{value}")


def _valid_keys_hint(model_class: type[BaseModel], location: tuple) -> str:
    """Suggest the closest valid key for a misspelt one, and list all valid keys at that level."""
    owner: type[BaseModel] = model_class
    for part in location[:-1]:
        annotation = owner.model_fields[part].annotation if part in owner.model_fields else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        owner = annotation
    valid = sorted(owner.model_fields)
    close = difflib.get_close_matches(str(location[-1]), valid, n=1)
    suggestion = f"did you mean {close[0]!r}? " if close else ""
    return f"{suggestion}valid keys are: {', '.join(valid)}"


def _line_of(node: yaml.Node | None, location: tuple) -> int | None:
    """Return the 1-based line of the YAML node at ``location``, or of its nearest parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            match = next((value for key, value in node.value if key.value == part), None)
            if match is None:
                break
            line = next(key.start_mark.line + 1 for key, value in node.value if key.value == part)
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_yaml_model(path: str | Path, model_class: type[BaseModel]) -> tuple[BaseModel, Path]:
    """Read a YAML file into ``model_class``, with the same error reporting as task files."""
    path = Path(path)
    node, data = _read_yaml_mapping(path)
    try:
        return model_class.model_validate(data), path.parent
    except ValidationError as error:
        raise _validation_error(path, node, error, model_class) from None
