"""Prompt templates with ``[MASK]`` holes, and promptsource template import."""

from ._holes import HoleSpec
from ._promptsource import PromptsourceTemplate, load_promptsource
from ._template import PromptTemplate, RenderedCopy

__all__ = ["HoleSpec", "PromptTemplate", "PromptsourceTemplate", "RenderedCopy", "load_promptsource"]
