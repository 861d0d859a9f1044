"""Loading promptsource templates.yaml files and rendering real promptsource templates."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import jinja2
import pytest

from promptfill.errors import ConfigError, NoHoleError, TemplateError, UnknownNameError
from promptfill.templates import PromptsourceTemplate, PromptTemplate, RenderedCopy, load_promptsource

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
PROMPTSOURCE = DATA / "promptsource"
T0 = DATA / "t0"

needs_promptsource = pytest.mark.skipif(
    not PROMPTSOURCE.is_dir(), reason=f"promptsource templates not found at {PROMPTSOURCE}"
)


def _template(dataset: str, name: str) -> PromptsourceTemplate:
    matches = [t for t in load_promptsource(PROMPTSOURCE / dataset) if t.name == name]
    assert len(matches) == 1, f"{dataset} has no single template named {name!r}"
    return matches[0]


def _t0_records(file_name: str, count: int) -> list[dict[str, str]]:
    with gzip.open(T0 / f"{file_name}.jsonl.gz", "rt", encoding="utf-8") as stream:
        return [json.loads(next(stream)) for _ in range(count)]


# -- loading ---------------------------------------------------------------------------


@needs_promptsource
def test_every_promptsource_template_compiles():
    files = sorted(PROMPTSOURCE.rglob("templates.yaml"))
    assert files, f"no templates.yaml under {PROMPTSOURCE}"
    compiled = 0
    for file in files:
        templates = load_promptsource(file)
        assert templates, f"{file} has no templates"
        for template in templates:
            prompt_template = template.to_template(allow_no_holes=True)
            assert prompt_template.holes == ()
            assert prompt_template.name == template.name
            compiled += 1
    # NOTE: the stored copy has 276 files and 2050 templates; the bounds leave room for updates.
    assert len(files) >= 250
    assert compiled >= 2000


@needs_promptsource
def test_loaded_fields():
    template = _template("amazon_polarity", "Is_this_review")
    assert template.id == "1e90a24a-1182-43dd-9445-22f2e56e5761"
    assert template.answer_choices == "Negative ||| Positive"
    assert template.reference == ""
    assert template.metadata == {
        "choices_in_prompt": True,
        "languages": ["en"],
        "metrics": ["Accuracy"],
        "original_task": True,
    }
    assert template.dataset == "amazon_polarity"
    assert template.subset is None
    assert template.dataset_path == "amazon_polarity"


@needs_promptsource
def test_subset_is_loaded():
    templates = load_promptsource(PROMPTSOURCE / "glue" / "mrpc" / "templates.yaml")
    assert {(t.dataset, t.subset, t.dataset_path) for t in templates} == {("glue", "mrpc", "glue/mrpc")}


# -- rendering real templates ------------------------------------------------------------


@needs_promptsource
def test_amazon_polarity_renders_like_t0():
    template = _template("amazon_polarity", "Is_this_review").to_template()
    choices = ["Negative", "Positive"]
    assert template.answer_choices == choices
    for record in _t0_records("amazon_polarity_Is_this_review", 5):
        title_line, review_line, _question = record["prompt"].strip().split("\n")
        example = {
            "title": title_line.removeprefix("Title: "),
            "content": review_line.removeprefix("Review: "),
            "label": choices.index(record["completion"].removesuffix("<|endoftext|>")),
        }
        copy = template.render_copy(example)
        assert copy.prompt == (record["prompt"].strip(),)
        assert copy.answer == (choices[example["label"]],)


@needs_promptsource
def test_ag_news_renders_like_t0():
    template = _template("ag_news", "classify_question_first").to_template()
    choices = ["World politics", "Sports", "Business", "Science and technology"]
    for record in _t0_records("ag_news_classify_question_first", 5):
        prefix = "What label best describes this news article?\n"
        example = {
            "text": record["prompt"].strip().removeprefix(prefix),
            "label": choices.index(record["completion"].removesuffix("<|endoftext|>")),
        }
        assert template.render([], **example) == record["prompt"].strip()
        assert template.render_answer([], **example) == choices[example["label"]]


@needs_promptsource
def test_imdb_renders():
    template = _template("imdb", "Movie Expressed Sentiment 2").to_template()
    copy = template.render_copy({"text": "A slow, beautiful film. <br />Loved it.", "label": 1})
    assert copy == RenderedCopy(
        prompt=("The following movie review expresses what sentiment? A slow, beautiful film. <br />Loved it.",),
        answer=("positive",),
    )


@needs_promptsource
def test_instruction_replaced_by_hole():
    source = _template("amazon_polarity", "Is_this_review")
    jinja = source.jinja.replace("Is the review positive or negative?", "[MASK:3-10]")
    template = PromptTemplate(jinja, answer_choices=source.answer_choices, dialect="promptsource")
    assert [(hole.min_length, hole.max_length) for hole in template.holes] == [(3, 10)]
    copy = template.render_copy({"title": "Great", "content": "Loved every page.", "label": 1})
    assert copy == RenderedCopy(prompt=("Title: Great\nReview: Loved every page.\n", 0), answer=("Positive",))
    assert template.render(["Is it good?"], title="Great", content="Loved every page.") == (
        "Title: Great\nReview: Loved every page.\nIs it good?"
    )


@needs_promptsource
def test_literal_mask_in_promptsource_stays_text():
    template = _template("lama/trex", "find_relation").to_template()
    example = {
        "masked_sentence": "Paris is the capital of [MASK].",
        "obj_label": "France",
        "sub_label": "Paris",
        "template": "[X] is the capital of [Y] .",
        "obj_surface": "France",
    }
    copy = template.render_copy(example)
    assert copy.prompt == (
        "Given the following paragraph : Paris is the capital of France.. what is the relationship "
        "between France and Paris ?",
    )
    assert copy.answer == ("Paris is the capital of France .",)


@needs_promptsource
def test_zip_and_per_example_choices():
    template = _template("ai2_arc/ARC-Easy", "pick_the_most_correct_option").to_template()
    example = {
        "question": "Which is a gas?",
        "choices": {"label": ["A", "B", "C"], "text": ["rock", "steam", "ice"]},
        "answerKey": "B",
    }
    assert template.answer_choices is None
    assert template.choices_for(example) == ["A", "B", "C"]
    copy = template.render_copy(example)
    assert copy.prompt == (
        "Pick the most correct option to answer the following question.\n\nWhich is a gas?\n\n"
        "Options:\n\n- A: rock\n\n- B: steam\n\n- C: ice",
    )
    assert copy.answer == ("B",)


@needs_promptsource
def test_most_frequent_and_choice_are_deterministic():
    template = _template("squadshifts/nyt", "question_num_hint_answer").to_template()
    example = {
        "question": "Who won?",
        "context": "The home team won.",
        "answers": {"text": ["the home team", "home team", "home team"], "answer_start": [0, 4, 4]},
    }
    first = template.render_copy(example)
    assert first == template.render_copy(dict(example))
    assert first.answer == ("home team",)
    heading = first.prompt[0].split(":")[0]
    assert heading.split()[0] in ("Question", "Problem")
    assert 1 <= int(heading.split()[1]) <= 11


@needs_promptsource
def test_template_that_appends_to_lists():
    template = _template("turk", "choose-simplification").to_template()
    example = {"original": "The committee postponed the decision.", "simplifications": ["They waited.", "x" * 80]}
    copy = template.render_copy(example)
    assert "They waited." in copy.prompt[0]
    assert copy.answer in (("Text A",), ("Text B",))
    assert example["simplifications"] == ["They waited.", "x" * 80]


@pytest.mark.parametrize(
    "jinja",
    [
        "[MASK] and [MASK:3] ||| {{ a }}",
        "\\[MASK] {{ a }}",
        "{{ '[MASK]' }} {{ \"x[MASK:2]y\" | upper }}",
        "{{ '\\[MASK]' }} {{ '\\\\[MASK]' }} {{ a }}",
        "{% if a == '[MASK]' %}yes{% endif %} {# [MASK] #}{% raw %}[MASK]{% endraw %}",
    ],
)
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Jinja warns on "\\[" in a string
def test_literal_masks_render_like_plain_jinja(jinja):
    expected = jinja2.Environment(keep_trailing_newline=True).from_string(jinja).render(a="[MASK]")
    template = PromptsourceTemplate(id="1", name="n", jinja=jinja, dataset="d").to_template()
    assert template.holes == ()
    copy = template.render_copy({"a": "[MASK]"})
    parts = [part.strip() for part in expected.split("|||")]
    assert copy.prompt == ((parts[0],) if parts[0] else ())
    assert copy.answer == (None if len(parts) == 1 else ((parts[1],) if parts[1] else ()))


# -- PromptTemplate.from_promptsource ------------------------------------------------------


@needs_promptsource
def test_from_promptsource_by_name_and_id():
    by_name = PromptTemplate.from_promptsource(PROMPTSOURCE / "imdb", "Movie Expressed Sentiment 2")
    template_id = _template("imdb", "Movie Expressed Sentiment 2").id
    by_id = PromptTemplate.from_promptsource(PROMPTSOURCE / "imdb" / "templates.yaml", template_id)
    assert by_name == by_id
    assert by_name.dialect == "promptsource"
    assert by_name.holes == ()


@needs_promptsource
def test_from_promptsource_unknown_name():
    with pytest.raises(UnknownNameError) as caught:
        PromptTemplate.from_promptsource(PROMPTSOURCE / "imdb", "no such template")
    message = str(caught.value)
    assert message.startswith("unknown promptsource template 'no such template'; valid names are: ")
    assert "Movie Expressed Sentiment 2" in message


@needs_promptsource
def test_from_promptsource_needs_name_for_many():
    with pytest.raises(ConfigError, match="has 11 templates; pass name= one of: Movie Expressed Sentiment"):
        PromptTemplate.from_promptsource(PROMPTSOURCE / "imdb")


def test_to_template_without_holes_raises():
    template = PromptsourceTemplate(id="1", name="n", jinja="{{ x }} ||| {{ y }}", dataset="d")
    with pytest.raises(NoHoleError):
        template.to_template(allow_no_holes=False)


# -- files written here ----------------------------------------------------------------------

SMALL_FILE = """\
dataset: tiny
subset: one
templates:
  aaa: !Template
    answer_choices: no ||| yes
    id: aaa
    jinja: '{{ text }} Right? ||| {{ answer_choices[label] }}'
    metadata: !TemplateMetadata
      choices_in_prompt: false
      languages:
      - en
      metrics:
      - Accuracy
      original_task: true
    name: right
    reference: ''
"""


def test_load_small_file(tmp_path):
    (tmp_path / "templates.yaml").write_text(SMALL_FILE, encoding="utf-8")
    [template] = load_promptsource(tmp_path)
    assert (template.id, template.name, template.dataset_path) == ("aaa", "right", "tiny/one")
    assert template.metadata["original_task"] is True
    single = PromptTemplate.from_promptsource(tmp_path)
    assert single.render_copy({"text": "Sky is blue.", "label": 1}) == RenderedCopy(
        prompt=("Sky is blue. Right?",), answer=("yes",)
    )


def test_missing_file(tmp_path):
    with pytest.raises(TemplateError) as caught:
        load_promptsource(tmp_path / "nowhere")
    assert "promptsource file not found: " in str(caught.value)
    assert "pass a templates.yaml file or the directory that contains one" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("templates: [unclosed", "cannot read promptsource file"),
        ("dataset: x\n", "has no 'templates' mapping at the top level"),
        ("templates:\n  a: 3\n", "template 'a' in"),
        ("templates:\n  a: !Template\n    name: n\n", "is invalid"),
        ("templates:\n  a: !Template\n    id: a\n    name: n\n    jinja: x\n    colour: red\n", "is invalid"),
        ("templates: !!python/object/apply:os.system ['true']\n", "cannot read promptsource file"),
    ],
)
def test_invalid_files(tmp_path, content, problem):
    file = tmp_path / "templates.yaml"
    file.write_text(content, encoding="utf-8")
    with pytest.raises(TemplateError, match=problem):
        load_promptsource(file)
