"""A complete adapter for a plain-Python "optimizer" whose prompt is a dict.

Run: python examples/adapters/plain_adapter.py
"""

from promptfill import MaskedPrompt, OptimizerAdapter, PromptInfiller
from promptfill.adapters import fields_scaffold

ANTONYMS = {"hot": "cold", "up": "down", "big": "small"}


def toy_model(system: str, word: str) -> str:
    """A stand-in target model: it follows a system prompt of 6 words or more and echoes otherwise."""
    return ANTONYMS.get(word, word) if len(system.split()) >= 6 else word


class DictPromptAdapter(OptimizerAdapter[dict]):
    """Infill the first sentence of prompt["system"]; score with toy_model."""

    def masked_prompt(self, prompt):
        first, _, rest = prompt["system"].partition(". ")
        return MaskedPrompt(parts=("", ". " + rest), holes=("[MASK:3-6]",), original=prompt["system"])

    def example_scaffold(self, prompt):
        return fields_scaffold({"word": "Word:"}, {"antonym": "Antonym:"})

    def evaluate(self, prompt, text, devset):
        return [float(toy_model(text, e["word"]) == e["antonym"]) for e in devset]

    def write_back(self, prompt, text):
        return {**prompt, "system": text}


examples = [{"word": word, "antonym": antonym} for word, antonym in ANTONYMS.items()]
adapter = DictPromptAdapter(PromptInfiller.from_pretrained(), num_candidates=4)
result = adapter.optimize({"system": "Be brief. Use lower case.", "temperature": 0.0}, examples)
print("baseline:", result.baseline_score, "chosen:", result.score, repr(result.prompt["system"]))
for candidate in result.candidates:
    print(f"  {candidate.score:.2f}  {candidate.text!r}")
