"""Infill the instruction of a DSPy predictor with promptfill, offline.

The task model is DSPy's DummyLM with scripted answers: the first two programs it runs get
wrong answers and the rest get right ones, so the scores below show how the optimizer picks
and writes back an instruction, not how good the instructions are. Swap in a real
``dspy.LM`` to optimize for real.

Run: python examples/adapters/dspy_antonyms.py
"""

import dspy

from promptfill import PromptInfiller
from promptfill.adapters.dspy import PromptfillDSPy, propose_instructions

PAIRS = [("hot", "cold"), ("up", "down"), ("big", "small"), ("fast", "slow")]
trainset = [dspy.Example(word=word, antonym=antonym).with_inputs("word") for word, antonym in PAIRS]


def exact_match(example, prediction, trace=None):
    return example.antonym == prediction.antonym


infiller = PromptInfiller.from_pretrained()  # the embedded model; no network
student = dspy.Predict("word -> antonym")

print("proposed:", propose_instructions(student, trainset, 3, infiller=infiller))

# Scripted answers: 4 valset examples per program; the original and the first candidate get
# wrong answers, every later candidate gets the right ones.
answers = ["no"] * 8 + [antonym for _ in range(10) for _, antonym in PAIRS]
optimizer = PromptfillDSPy(exact_match, infiller=infiller, num_candidates=4, num_threads=1)
with dspy.context(lm=dspy.utils.DummyLM([{"antonym": answer} for answer in answers])):
    compiled = optimizer.compile(student, trainset=trainset)

result = optimizer.results["self"]
print("original:", repr(student.signature.instructions), "score", result.baseline_score)
for candidate in result.candidates:
    print(f"  {candidate.score:.2f}  {candidate.text!r}")
print("chosen:", repr(compiled.signature.instructions))
