"""Exceptions raised by promptfill.

Every error a user can cause derives from :class:`PromptfillError`, so one ``except`` clause
catches them all. Each message names the bad value and says what to do instead.

::

    PromptfillError
    ├── TemplateError (ValueError)
    │   ├── TemplateSyntaxError        Jinja source that does not parse
    │   ├── HoleSyntaxError            a malformed or misplaced [MASK] hole
    │   ├── NoHoleError                a template with nothing to fill
    │   └── TemplateVariableError      an undefined variable, or an example missing one
    ├── ConfigError (ValueError)       an option outside its allowed values
    │   └── UnknownNameError           a registry name that does not exist (lists the valid ones)
    ├── ModelError
    │   ├── MaskTokenNotFoundError     a checkpoint with no mask token
    │   ├── UnsupportedModelError      a causal LM (or other kind) given as the infiller
    │   ├── CheckpointError            a path that is not a loadable checkpoint
    │   └── ContextLengthError         holes or copies that cannot fit the model's context
    ├── DataError (ValueError)         a dataset or example file with missing or empty fields
    ├── TaskFileError (ValueError)     an unreadable or invalid task or config file
    ├── RunDirectoryError (ValueError) a path that cannot hold a run, or a run in use or in the way
    └── ScorerError                    a scorer or target model call that failed
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "ConfigError",
    "ContextLengthError",
    "DataError",
    "HoleSyntaxError",
    "MaskTokenNotFoundError",
    "ModelError",
    "NoHoleError",
    "PromptfillError",
    "RunDirectoryError",
    "ScorerError",
    "TaskFileError",
    "TemplateError",
    "TemplateSyntaxError",
    "TemplateVariableError",
    "UnknownNameError",
    "UnsupportedModelError",
]


class PromptfillError(Exception):
    """Base class of every error raised by promptfill."""


class TemplateError(PromptfillError, ValueError):
    """A prompt template that cannot be parsed or rendered."""


class TemplateSyntaxError(TemplateError):
    """Jinja source that does not parse; the message gives the line."""


class HoleSyntaxError(TemplateError):
    """A ``[MASK]`` hole with a malformed length, or placed inside a Jinja expression or tag."""


class NoHoleError(TemplateError):
    """A template with no ``[MASK]`` hole, so there is nothing to infill."""


class TemplateVariableError(TemplateError):
    """A template variable that is undefined, or an example that lacks a variable."""


class ConfigError(PromptfillError, ValueError):
    """An option value outside its allowed range or set."""


class UnknownNameError(ConfigError):
    """A name looked up in a registry (remasking rule, scorer, masking mode) that does not exist.

    Args:
        kind: What was looked up, for example ``"remasking strategy"``.
        name: The name received.
        valid: The names that do exist.
    """

    def __init__(self, kind: str, name: object, valid: list[str] | tuple[str, ...]) -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid names are: {', '.join(self.valid)}")


class ModelError(PromptfillError):
    """A model checkpoint that cannot serve the role it was given."""


class MaskTokenNotFoundError(ModelError):
    """A tokenizer and model config with no mask token to build a canvas from."""


class UnsupportedModelError(ModelError):
    """A model of the wrong kind, such as a causal LM given as the infiller."""


class CheckpointError(ModelError):
    """A path or name that is not a loadable promptfill or Hugging Face checkpoint."""


class ContextLengthError(ModelError):
    """Holes or rendered examples that cannot fit the model's maximum sequence length."""


class DataError(PromptfillError, ValueError):
    """A dataset or examples file with missing fields, empty values or bad JSON."""


class TaskFileError(PromptfillError, ValueError):
    """A task or training config file that cannot be read or does not validate."""


class RunDirectoryError(PromptfillError, ValueError):
    """A run directory that cannot be created or resumed.

    Raised for a non-empty directory that contains no run, an existing run that creating would
    overwrite, and a run that another process is writing.
    """


class ScorerError(PromptfillError):
    """A scorer or target model call that failed; its candidate gets no score."""
