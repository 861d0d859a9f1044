"""Refill a span of a TextGrad system prompt with promptfill, then seed TextGrad runs.

The engine is a deterministic local stand-in for an LLM: it returns the antonym of the
input when its system prompt contains the word "answer", and echoes the input otherwise.
So the scores below show how the infill is chosen, not how good it is.

Run: python examples/adapters/textgrad_refill.py
"""

import os
import tempfile

# Offline: LiteLLM (imported by TextGrad) would download a price table, and TextGrad writes logs to ./logs/.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("TEXTGRAD_LOG_DIR", tempfile.mkdtemp())

import textgrad as tg  # noqa: E402

from promptfill import PromptInfiller  # noqa: E402
from promptfill.adapters.textgrad import engine_scorer, infill_variable, seed_variables  # noqa: E402

ANTONYMS = {"hot": "cold", "up": "down", "big": "small", "fast": "slow"}
examples = [{"input": word, "output": antonym} for word, antonym in ANTONYMS.items()]


class KeywordEngine(tg.EngineLM):
    model_string = "local-keyword"

    def generate(self, prompt, system_prompt=None, **kwargs):
        return ANTONYMS.get(prompt, prompt) if "answer" in (system_prompt or "").split() else prompt

    def __call__(self, prompt, **kwargs):
        return self.generate(prompt, **kwargs)


infiller = PromptInfiller.from_pretrained()
scorer = engine_scorer(KeywordEngine(), lambda response, example: float(response == example["output"]))

system_prompt = tg.Variable("Write the opposite of the word.", requires_grad=True, role_description="system prompt")
result = infill_variable(system_prompt, examples, scorer, marked="Write the [MASK:1-3] of the word.", infiller=infiller, num_candidates=4)
print("original score:", result.baseline_score)
for candidate in result.candidates:
    print(f"  {candidate.score:.2f}  {candidate.text!r}")
print("variable.value:", repr(system_prompt.value))

seeds = seed_variables(system_prompt, examples, 3, spans=[(0, 5)], hole="[MASK:1-2]", infiller=infiller, num_candidates=4)
print("seeds:", [seed.value for seed in seeds])
