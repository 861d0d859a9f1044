import gzip
import json
import logging

import pytest

from promptfill.errors import DataError
from promptfill.training import PairTokenizer, read_pairs
from promptfill.training._data import expand_data_paths, tokenize_files


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reads_t0_pairs_and_strips_end_marker(tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [json.dumps({"prompt": "Q?", "completion": "yes<|endoftext|>"})])
    (pair,) = read_pairs(path)
    assert pair.prompt == "Q?"
    assert pair.completion == "yes"


def test_reads_gzip_files(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(json.dumps({"prompt": "P", "completion": "C"}) + "\n")
    assert [p.completion for p in read_pairs(path)] == ["C"]


def test_reads_chat_messages(tmp_path):
    record = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}
    (pair,) = read_pairs(write_lines(tmp_path / "c.jsonl", [json.dumps(record)]))
    assert pair.prompt == "Be brief.\n2+2?"
    assert pair.completion == "4"
    assert pair.messages[-1] == {"role": "assistant", "content": "4"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"prompt": "x"}', "a.jsonl:2: record is missing 'completion'"),
        ('{"prompt": "  ", "completion": "y"}', "a.jsonl:2: 'prompt' must be a non-empty string, got '  '"),
        ("{not json", "a.jsonl:2: invalid JSON"),
        ("[1, 2]", "a.jsonl:2: expected a JSON object, got list"),
        ('{"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "x"}]}', "the last message must have role 'assistant', got 'user'"),
    ],
)
def test_bad_records_name_the_line(tmp_path, line, message):
    path = write_lines(tmp_path / "a.jsonl", [json.dumps({"prompt": "ok", "completion": "ok"}), line])
    with pytest.raises(DataError) as info:
        list(read_pairs(path))
    assert message in str(info.value)


def test_missing_path_is_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        expand_data_paths([tmp_path / "nope.jsonl"])


def test_directory_expands_to_sorted_files(tmp_path):
    for name in ("b.jsonl", "a.jsonl.gz", "notes.txt"):
        (tmp_path / name).write_text("")
    assert [p.name for p in expand_data_paths([tmp_path])] == ["a.jsonl.gz", "b.jsonl"]


def test_pair_layout_and_prompt_length(minilm_tokenizer, tmp_path):
    path = write_lines(tmp_path / "a.jsonl", [json.dumps({"prompt": "is it good", "completion": "yes"})])
    tokenizer = PairTokenizer(minilm_tokenizer, max_length=64, max_response_length=8)
    (item,) = tokenize_files([path], tokenizer, None)
    assert minilm_tokenizer.convert_ids_to_tokens(item.input_ids) == ["[CLS]", "is", "it", "good", "[SEP]", "yes", "[SEP]"]
    assert item.prompt_length == 5


def test_long_prompt_loses_its_middle_with_counted_warning(minilm_tokenizer, tmp_path, caplog):
    prompt = "start here " + " ".join(["filler"] * 100) + " end there"
    path = write_lines(tmp_path / "a.jsonl", [json.dumps({"prompt": prompt, "completion": "ok"}), json.dumps({"prompt": "short", "completion": "ok"})])
    tokenizer = PairTokenizer(minilm_tokenizer, max_length=16, max_response_length=4)
    with caplog.at_level(logging.WARNING):
        items = tokenize_files([path], tokenizer, None)
    tokens = minilm_tokenizer.convert_ids_to_tokens(items[0].input_ids)
    assert len(tokens) == 16
    assert tokens[1:3] == ["start", "here"]
    assert tokens[-5:-3] == ["end", "there"]
    assert "truncated 1 of 2 sequences to max_length=16 tokens" in caplog.text


def test_chat_template_formats_prompt(minilm_tokenizer, tmp_path):
    import copy

    tokenizer = copy.deepcopy(minilm_tokenizer)
    tokenizer.chat_template = "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} {% endfor %}{% if add_generation_prompt %}assistant :{% endif %}"
    record = {"messages": [{"role": "user", "content": "hi there"}, {"role": "assistant", "content": "hello"}]}
    path = write_lines(tmp_path / "c.jsonl", [json.dumps(record)])
    (item,) = tokenize_files([path], PairTokenizer(tokenizer, max_length=64, max_response_length=8), None)
    tokens = minilm_tokenizer.convert_ids_to_tokens(item.input_ids)
    assert tokens == ["user", ":", "hi", "there", "assistant", ":", "hello", "[SEP]"]
    assert item.prompt_length == 6
