import random

import pytest

from promptfill import FilledTemplate, HoleFill, PromptTemplate
from promptfill.search._masking import (
    keep_some_words,
    mask_least_confident,
    prompt_words,
    random_sentence,
    random_span,
    replace_word_runs,
)
from promptfill.search._seeds import normalize_seeds

from search_helpers import EXAMPLES, SEED


def span_masked(source, seed, span_words=(2, 6), tokenizer=None):
    words = prompt_words(source, "|||")
    run = random_span(words, random.Random(seed), span_words)
    return replace_word_runs(source, words, [run], tokenizer, slack=2)


@pytest.mark.parametrize("seed", range(25))
def test_span_keeps_variables_and_labels(seed, minilm_tokenizer):
    masked = span_masked(SEED, seed, tokenizer=minilm_tokenizer)
    template = PromptTemplate(masked)
    assert len(template.holes) == 1
    assert "\nInput: {{ input }}\nOutput: ||| {{ output }}" in masked


def test_jinja_code_never_masked(minilm_tokenizer):
    source = "Say {{ input | upper }} now {% if flag %}please be brief{% endif %} ok ||| {{ output }}"
    expected_code = ["{{ input | upper }}", "{% if flag %}", "{% endif %}", "||| {{ output }}"]
    for seed in range(30):
        masked = span_masked(source, seed, span_words=(1, 3), tokenizer=minilm_tokenizer)
        for code in expected_code:
            assert code in masked
        assert len(PromptTemplate(masked).holes) == 1


def test_answer_part_never_masked():
    words = prompt_words("Name it.\nInput: {{ input }}\nOutput: ||| The answer is {{ output }}", "|||")
    texts = ["Name it.\nInput: {{ input }}\nOutput: ||| The answer is {{ output }}"[w.start : w.end] for w in words]
    assert texts == ["Name", "it."]


def test_field_labels_not_maskable():
    source = "Classify it.\nTitle: {{ title }}\nReview:\n{{ content }}\nAnswer: ||| {{ label }}"
    texts = [source[w.start : w.end] for w in prompt_words(source, "|||")]
    assert texts == ["Classify", "it."]


def test_hole_sized_from_masked_tokens(minilm_tokenizer):
    source = "alpha beta gamma delta\nInput: {{ input }} ||| {{ output }}"
    words = prompt_words(source, "|||")
    masked = replace_word_runs(source, words, [(1, 2)], minilm_tokenizer, slack=1)
    assert masked == "alpha [MASK:1-3] delta\nInput: {{ input }} ||| {{ output }}"


def test_literal_mask_in_seed_stays_text(minilm_tokenizer):
    (seed,) = normalize_seeds("Replace [MASK] with a word.\nInput: {{ input }}\nOutput: ||| {{ output }}", EXAMPLES, top=1)
    assert seed.template.holes == ()
    assert seed.render(**EXAMPLES[0]).startswith("Replace [MASK] with a word.")
    for index in range(10):
        masked = span_masked(seed.source, index, span_words=(1, 1), tokenizer=minilm_tokenizer)
        assert len(PromptTemplate(masked).holes) == 1


def test_sentence_masks_one_whole_sentence(minilm_tokenizer):
    source = "Read the word. Then write its first letter.\nInput: {{ input }}\nOutput: ||| {{ output }}"
    words = prompt_words(source, "|||")
    seen = set()
    for seed in range(20):
        run = random_sentence(words, source, random.Random(seed))
        seen.add(replace_word_runs(source, words, [run], minilm_tokenizer, slack=2))
    assert seen == {
        "[MASK:2-6] Then write its first letter.\nInput: {{ input }}\nOutput: ||| {{ output }}",
        "Read the word. [MASK:4-8]\nInput: {{ input }}\nOutput: ||| {{ output }}",
    }


def filled(tokens, confidences, tokenizer):
    source = "[MASK:5]\nInput: {{ input }}\nOutput: ||| {{ output }}"
    text = tokenizer.convert_tokens_to_string(tokens)
    template = PromptTemplate(source)
    return FilledTemplate(
        source=template.fill_source([text]),
        fills=[HoleFill(hole=0, text=text, token_ids=tokenizer.convert_tokens_to_ids(tokens), tokens=tokens, confidences=confidences, logprobs=[0.0] * len(tokens))],
        model_score=0.0, hole_lengths=[len(tokens)], template_source=source, template_settings=template.settings,
    )


def test_least_confident_masks_unsure_word(minilm_tokenizer):
    candidate = filled(["write", "the", "first", "##ly", "letter"], [0.9, 0.9, 0.1, 0.2, 0.9], minilm_tokenizer)
    masked = mask_least_confident(candidate, minilm_tokenizer, span_tokens=1, slack=2)
    assert masked == "write the [MASK:1-4] letter\nInput: {{ input }}\nOutput: ||| {{ output }}"


def test_least_confident_at_fill_start(minilm_tokenizer):
    candidate = filled(["write", "the", "first", "letter"], [0.1, 0.2, 0.9, 0.9], minilm_tokenizer)
    masked = mask_least_confident(candidate, minilm_tokenizer, span_tokens=2, slack=0)
    assert masked == "[MASK:2] first letter\nInput: {{ input }}\nOutput: ||| {{ output }}"


def test_least_confident_without_fills_returns_none(minilm_tokenizer):
    (seed,) = normalize_seeds(SEED, EXAMPLES, top=1)
    assert mask_least_confident(seed, minilm_tokenizer, span_tokens=3, slack=2) is None


def test_keep_some_words_limits_holes(minilm_tokenizer):
    source = "one two three four five six seven eight nine ten\nInput: {{ input }} ||| {{ output }}"
    words = prompt_words(source, "|||")
    for seed in range(20):
        runs = keep_some_words(words, random.Random(seed), keep_fraction=0.3, max_holes=2)
        masked = replace_word_runs(source, words, runs, minilm_tokenizer, slack=1)
        assert 1 <= len(runs) <= 2
        assert 1 <= len(PromptTemplate(masked).holes) <= 2
        assert masked.endswith("\nInput: {{ input }} ||| {{ output }}")
