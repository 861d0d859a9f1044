"""RowwiseDecoder: a batch of rows decodes to what the sampler gives for each row alone."""

from __future__ import annotations

import pytest
import torch

from promptfill import load_backend
from promptfill.embedded import load_embedded_backend
from promptfill.sampling import MaskedDiffusionSampler, SamplerConfig, build_canvas
from promptfill.targets._rowwise import RowwiseDecoder, make_generators, row_seed, stack_rows
from promptfill.templates import RenderedCopy

# Different lengths, so that every batch below contains right padding.
PROMPTS = [
    "Write the plural of the word.\nInput: life\nOutput:",
    "Q?",
    "Translate the following sentence into French, carefully and politely: the cat sat on the mat.",
    "Input: world",
    "Is this review positive? A fine film with a great cast and a weak ending.",
]
NUM_SLOTS = 4
GREEDY_SETTINGS = [
    {},
    {"steps": 2},
    {"remasking": "margin"},
    {"remasking": "entropy"},
]


@pytest.fixture(scope="module")
def tiny_backend(tiny_bert_dir):
    return load_backend(str(tiny_bert_dir), device="cpu")


@pytest.fixture(scope="module")
def embedded_backend():
    return load_embedded_backend(device="cpu")


def single_canvas(backend, prompt):
    return build_canvas([RenderedCopy(prompt=(prompt,), answer=(0,))], [NUM_SLOTS], backend, layout="batch")


def sampler_tokens(backend, config, prompt):
    """The sampler's answer tokens ``[S]`` for the prompt alone, on an unpadded canvas."""
    return MaskedDiffusionSampler(config).sample(backend, single_canvas(backend, prompt), num_candidates=1).tokens[0]


def decode_together(backend, config, prompts):
    batch = stack_rows([single_canvas(backend, prompt) for prompt in prompts], backend.pad_token_id)
    generators = make_generators(config.seed, prompts, backend.device)
    return RowwiseDecoder(config).decode(backend, batch, generators)


@pytest.mark.parametrize("settings", GREEDY_SETTINGS, ids=lambda settings: repr(settings))
def test_greedy_rows_match_sampler_tiny(tiny_backend, settings):
    config = SamplerConfig(**settings)

    tokens, forward_passes = decode_together(tiny_backend, config, PROMPTS)

    expected = torch.stack([sampler_tokens(tiny_backend, config, prompt) for prompt in PROMPTS])
    assert torch.equal(tokens, expected)
    assert forward_passes == settings.get("steps", NUM_SLOTS)


@pytest.mark.parametrize("settings", [{}, {"threshold": 0.1}], ids=lambda settings: repr(settings))
def test_greedy_rows_match_sampler_embedded(embedded_backend, settings):
    config = SamplerConfig(**settings)

    tokens, _ = decode_together(embedded_backend, config, PROMPTS)

    expected = torch.stack([sampler_tokens(embedded_backend, config, prompt) for prompt in PROMPTS])
    assert torch.equal(tokens, expected)


class RecordingBackend:
    """A backend wrapper that records how many rows each forward pass received."""

    def __init__(self, backend):
        self.backend = backend
        self.rows_per_pass = []

    def __getattr__(self, name):
        return getattr(self.backend, name)

    def logits(self, input_ids, attention_mask):
        self.rows_per_pass.append(input_ids.shape[0])
        return self.backend.logits(input_ids, attention_mask)


def test_finished_rows_leave_the_batch_embedded(embedded_backend):
    config = SamplerConfig(threshold=0.1)
    recording = RecordingBackend(embedded_backend)
    steps_alone = [
        MaskedDiffusionSampler(config).sample(embedded_backend, single_canvas(embedded_backend, prompt)).steps
        for prompt in PROMPTS
    ]

    _, forward_passes = decode_together(recording, config, PROMPTS)

    # The threshold lets some prompts finish before the 4th step, so later passes run fewer rows.
    assert min(steps_alone) < NUM_SLOTS
    assert forward_passes == max(steps_alone)
    assert recording.rows_per_pass == [sum(steps > step for steps in steps_alone) for step in range(forward_passes)]


def test_stack_rows_pads_right(tiny_backend):
    canvases = [single_canvas(tiny_backend, prompt) for prompt in ("Q?", "A longer question here?")]
    short_length = canvases[0].input_ids.shape[1]

    batch = stack_rows(canvases, tiny_backend.pad_token_id)

    assert batch.input_ids.shape == (2, canvases[1].input_ids.shape[1])
    assert torch.equal(batch.input_ids[0, :short_length], canvases[0].input_ids[0])
    assert batch.attention_mask[0].sum() == short_length
    assert (batch.input_ids[0, short_length:] == tiny_backend.pad_token_id).all()
    assert (batch.input_ids[0].gather(0, batch.positions[0]) == tiny_backend.mask_token_id).all()


def test_row_seed_depends_on_seed_and_prompt():
    assert row_seed(0, "a") == row_seed(0, "a")
    assert row_seed(0, "a") != row_seed(1, "a")
    assert row_seed(0, "a") != row_seed(0, "b")
    assert 0 <= row_seed(0, "a") < 2**63
    assert row_seed(None, "a") is None
