"""Re-export the loopback OpenAI-compatible server of ``benchmarks/_openai_server.py`` for tests.

The server lives with the benchmarks so that ``benchmarks/scorers.py`` can use it without
importing test code. It is loaded here by file path, because ``benchmarks/`` is not a package
and is not on ``sys.path`` when pytest runs.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "_openai_server.py"
_NAME = "promptfill_benchmarks_openai_server"

if _NAME in sys.modules:
    _module = sys.modules[_NAME]
else:
    _spec = importlib.util.spec_from_file_location(_NAME, _PATH)
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _module  # dataclasses look the module up while the class is built
    _spec.loader.exec_module(_module)

Fault = _module.Fault
OpenAIServer = _module.OpenAIServer
RecordedRequest = _module.RecordedRequest
completion_for = _module.completion_for
token_logprob = _module.token_logprob
tokenize = _module.tokenize

__all__ = ["Fault", "OpenAIServer", "RecordedRequest", "completion_for", "token_logprob", "tokenize"]
