"""Target models that candidate prompts are validated against, and the response cache."""

from ._base import TARGETS, Response, Target, TargetStats, resolve_target
from ._cache import MemoryCache, ResponseCache, SqliteCache
from ._callable import CallableTarget
from ._causal_lm import CausalLMTarget
from ._dlm import DiffusionTarget
from ._http import OpenAISettings, OpenAITarget

__all__ = ["CallableTarget", "CausalLMTarget", "DiffusionTarget", "MemoryCache", "OpenAISettings", "OpenAITarget", "Response", "ResponseCache", "SqliteCache", "TARGETS", "Target", "TargetStats", "resolve_target"]
