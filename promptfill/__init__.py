"""promptfill: prompt optimization by infilling [MASK] holes with masked diffusion LMs.

Quick start::

    from promptfill import PromptInfiller

    infiller = PromptInfiller.from_pretrained()  # the embedded model, offline
    result = infiller.fill("[MASK:4-10]\\nInput: {{ input }}\\nOutput: ||| {{ output }}", examples)
    print(result.best.render(input="hello"))
"""

from ._infiller import PromptInfiller
from ._results import FilledTemplate, FillResult, HoleFill
from ._version import __version__
from .adapters import AdapterResult, MaskedPrompt, OptimizerAdapter
from .backends import MaskedLMBackend, load_backend
from .errors import (
    CheckpointError,
    ConfigError,
    ContextLengthError,
    DataError,
    HoleSyntaxError,
    MaskTokenNotFoundError,
    ModelError,
    NoHoleError,
    PromptfillError,
    RunDirectoryError,
    ScorerError,
    TaskFileError,
    TemplateError,
    TemplateSyntaxError,
    TemplateVariableError,
    UnknownNameError,
    UnsupportedModelError,
)
from .report import write_report
from .runs import RunDirectory
from .sampling import REMASKING, MaskedDiffusionSampler, RemaskingStrategy, SamplerConfig
from .search import RefineConfig, RefineSearch, ResampleConfig, ResampleSearch, SearchBudget, SearchIteration, SearchResult
from .scoring import (
    SCORERS,
    CandidateScore,
    ChoiceScorer,
    EmbeddingScorer,
    ExactMatchScorer,
    F1Scorer,
    FunctionScorer,
    GenerationScorer,
    HalvingConfig,
    LoglikScorer,
    MetricScorer,
    NumericScorer,
    Scorer,
    TargetScorer,
)
from .targets import (
    TARGETS,
    CallableTarget,
    CausalLMTarget,
    DiffusionTarget,
    MemoryCache,
    OpenAITarget,
    Response,
    ResponseCache,
    SqliteCache,
    Target,
    TargetStats,
)
from .templates import HoleSpec, PromptTemplate, PromptsourceTemplate, load_promptsource

__all__ = [
    "AdapterResult",
    "CallableTarget",
    "CandidateScore",
    "CausalLMTarget",
    "CheckpointError",
    "ChoiceScorer",
    "ConfigError",
    "ContextLengthError",
    "DataError",
    "DiffusionTarget",
    "EmbeddingScorer",
    "ExactMatchScorer",
    "F1Scorer",
    "FillResult",
    "FilledTemplate",
    "FunctionScorer",
    "GenerationScorer",
    "HalvingConfig",
    "HoleFill",
    "HoleSpec",
    "HoleSyntaxError",
    "LoglikScorer",
    "MaskTokenNotFoundError",
    "MaskedDiffusionSampler",
    "MaskedLMBackend",
    "MaskedPrompt",
    "MemoryCache",
    "MetricScorer",
    "ModelError",
    "NoHoleError",
    "NumericScorer",
    "OpenAITarget",
    "OptimizerAdapter",
    "PromptInfiller",
    "PromptTemplate",
    "PromptfillError",
    "PromptsourceTemplate",
    "REMASKING",
    "RefineConfig",
    "RefineSearch",
    "RemaskingStrategy",
    "ResampleConfig",
    "ResampleSearch",
    "Response",
    "ResponseCache",
    "RunDirectory",
    "RunDirectoryError",
    "SCORERS",
    "SamplerConfig",
    "Scorer",
    "ScorerError",
    "SearchBudget",
    "SearchIteration",
    "SearchResult",
    "SqliteCache",
    "TARGETS",
    "Target",
    "TargetScorer",
    "TargetStats",
    "TaskFileError",
    "TemplateError",
    "TemplateSyntaxError",
    "TemplateVariableError",
    "UnknownNameError",
    "UnsupportedModelError",
    "__version__",
    "load_backend",
    "load_promptsource",
    "write_report",
]
