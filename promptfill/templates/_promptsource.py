"""Load promptsource ``templates.yaml`` files.

A promptsource file holds the templates of one data set (or data set and subset), each
tagged ``!Template`` with a ``!TemplateMetadata`` block. Its ``jinja`` field is plain Jinja
with ``|||`` between the input and the target, and ``answer_choices`` is a Jinja string
whose rendered output lists the label words separated by ``|||``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import ConfigError, TemplateError, UnknownNameError
from ._scanner import escape_literal_holes
from ._template import PromptTemplate

__all__ = ["PromptsourceTemplate", "find_promptsource_template", "load_promptsource"]

logger = logging.getLogger(__name__)

TEMPLATES_FILE = "templates.yaml"


class PromptsourceTemplate(BaseModel):
    """One promptsource template, as stored in its ``templates.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="The template's UUID.")
    name: str = Field(description="The template's name, unique within its data set.")
    jinja: str = Field(description="Plain Jinja source; '|||' separates input and target.")
    answer_choices: str | None = Field(
        default=None, description="Jinja source of the label words, separated by '|||'."
    )
    reference: str | None = Field(default="", description="Where the prompt comes from.")
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="original_task, choices_in_prompt, metrics and languages, as written.",
    )
    task_template: bool = Field(default=False, description="promptsource's task-template flag.")
    dataset: str = Field(description="Data set name, such as 'glue'.")
    subset: str | None = Field(default=None, description="Subset name, such as 'mrpc'.")

    @property
    def dataset_path(self) -> str:
        """The data set and subset joined as promptsource lays out folders: ``"glue/mrpc"``."""
        return self.dataset if self.subset is None else f"{self.dataset}/{self.subset}"

    def to_template(self, allow_no_holes: bool = True, *, seed: int = 0) -> PromptTemplate:
        """Build a :class:`PromptTemplate` in the ``"promptsource"`` dialect.

        Any ``[MASK]`` already in the Jinja source is data (some templates replace it in
        example text), so it is escaped and the template has no holes. To add holes,
        build a template from edited source::

            PromptTemplate(edited_jinja, answer_choices=ps.answer_choices, dialect="promptsource")

        Args:
            allow_no_holes: Passed to :class:`PromptTemplate`; ``False`` always raises
                :class:`~promptfill.errors.NoHoleError`, since the result has no holes.
            seed: Seed of the ``choice`` and ``random`` filters.
        """
        return PromptTemplate(
            escape_literal_holes(self.jinja),
            answer_choices=self.answer_choices,
            name=self.name,
            allow_no_holes=allow_no_holes,
            dialect="promptsource",
            seed=seed,
        )


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe YAML loader that reads promptsource's ``!Template`` tags as plain mappings."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.Node) -> dict[Any, Any]:
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


_Loader.add_constructor("!Template", _construct_mapping)
_Loader.add_constructor("!TemplateMetadata", _construct_mapping)


def load_promptsource(path: str | Path) -> list[PromptsourceTemplate]:
    """Read every template of a promptsource ``templates.yaml``, in file order.

    Args:
        path: The ``templates.yaml`` file, or the directory that contains it.

    Raises:
        TemplateError: The file is missing, is not valid YAML, or is not laid out as a
            promptsource templates file.
    """
    file = _templates_file(Path(path))
    try:
        with file.open(encoding="utf-8") as stream:
            document = yaml.load(stream, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise TemplateError(f"cannot read promptsource file {str(file)!r}: {error}") from error

    if not isinstance(document, dict) or not isinstance(document.get("templates"), dict):
        raise TemplateError(
            f"promptsource file {str(file)!r} has no 'templates' mapping at the top level; "
            "expected keys 'dataset', optional 'subset', and 'templates'"
        )
    dataset = document.get("dataset")
    subset = document.get("subset")
    templates = []
    for key, fields in document["templates"].items():
        if not isinstance(fields, dict):
            raise TemplateError(f"template {key!r} in {str(file)!r} is not a mapping of fields")
        try:
            templates.append(PromptsourceTemplate(**fields, dataset=dataset, subset=subset))
        except (TypeError, ValidationError) as error:
            raise TemplateError(f"template {key!r} in {str(file)!r} is invalid: {error}") from error
    logger.debug("loaded %d promptsource templates from %r", len(templates), str(file))
    return templates


def find_promptsource_template(path: str | Path, name: str | None) -> PromptsourceTemplate:
    """Return the template called ``name`` (or with that id) from a promptsource file.

    ``name`` may be ``None`` when the file holds exactly one template.
    """
    templates = load_promptsource(path)
    if name is None:
        if len(templates) == 1:
            return templates[0]
        names = sorted(template.name for template in templates)
        raise ConfigError(
            f"promptsource file {str(path)!r} has {len(templates)} templates; pass name= one "
            f"of: {', '.join(names)}"
        )
    for template in templates:
        if name in (template.name, template.id):
            return template
    raise UnknownNameError("promptsource template", name, [template.name for template in templates])


def _templates_file(path: Path) -> Path:
    file = path / TEMPLATES_FILE if path.is_dir() else path
    if not file.is_file():
        raise TemplateError(
            f"promptsource file not found: {str(file)!r}; pass a {TEMPLATES_FILE} file or the "
            "directory that contains one"
        )
    return file
