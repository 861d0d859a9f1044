"""Read SFT pairs from JSONL and tokenize them into prompt/response sequences.

Two record shapes are accepted, one per line:

* ``{"prompt": str, "completion": str}`` (a trailing ``<|endoftext|>`` marker is removed,
  since it closes the answer rather than belonging to it);
* ``{"messages": [{"role": ..., "content": ...}, ...]}`` where the last message is the
  assistant's response and the earlier ones form the prompt.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError

logger = logging.getLogger(__name__)

END_OF_TEXT_MARKER = "<|endoftext|>"


@dataclass(frozen=True)
class SFTPair:
    """One training pair; ``messages`` is set when the record was a chat."""

    prompt: str
    completion: str
    source: str
    messages: tuple[dict[str, str], ...] | None = None


def expand_data_paths(paths: Sequence[Path | str]) -> list[Path]:
    """Return the JSONL files named by ``paths``, expanding directories into their sorted files."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz")))
            if not found:
                raise DataError(f"directory {str(path)!r} contains no .jsonl or .jsonl.gz files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DataError(f"data file {str(path)!r} does not exist; pass a .jsonl file or a directory of them")
    return files


def _open_text(path: Path):
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_pairs(path: Path, limit: int | None = None) -> Iterator[SFTPair]:
    """Yield the pairs of one JSONL file, raising :class:`DataError` with the line on bad records."""
    with _open_text(path) as handle:
        count = 0
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(f"{where}: invalid JSON ({error.msg}); each line must be one JSON object") from None
            yield _pair_from_record(record, where, source=path.name)
            count += 1
            if limit is not None and count >= limit:
                return


def _pair_from_record(record: object, where: str, source: str) -> SFTPair:
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(record).__name__}")
    if "messages" in record:
        return _pair_from_messages(record["messages"], where, source)
    missing = [key for key in ("prompt", "completion") if key not in record]
    if missing:
        raise DataError(
            f"{where}: record is missing {', '.join(repr(m) for m in missing)}; "
            "each line needs 'prompt' and 'completion' strings, or a 'messages' list"
        )
    prompt, completion = record["prompt"], record["completion"]
    if not isinstance(prompt, str) or not prompt.strip():
        raise DataError(f"{where}: 'prompt' must be a non-empty string, got {prompt!r}")
    if not isinstance(completion, str):
        raise DataError(f"{where}: 'completion' must be a string, got {completion!r}")
    completion = completion.removesuffix(END_OF_TEXT_MARKER)
    return SFTPair(prompt=prompt, completion=completion, source=source)


def _pair_from_messages(messages: object, where: str, source: str) -> SFTPair:
    if not isinstance(messages, list) or len(messages) < 2:
        raise DataError(f"{where}: 'messages' must be a list of at least two messages (a prompt and a response)")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str) or "role" not in message:
            raise DataError(f"{where}: message {index} must be an object with 'role' and 'content' strings")
    if messages[-1]["role"] != "assistant":
        raise DataError(f"{where}: the last message must have role 'assistant', got {messages[-1]['role']!r}")
    prompt = "\n".join(m["content"] for m in messages[:-1])
    if not prompt.strip():
        raise DataError(f"{where}: the prompt messages are empty")
    return SFTPair(
        prompt=prompt,
        completion=messages[-1]["content"],
        source=source,
        messages=tuple({"role": m["role"], "content": m["content"]} for m in messages),
    )


@dataclass(frozen=True)
class TokenizedPair:
    """Token ids of one sequence: ``input_ids`` includes special tokens; the first
    ``prompt_length`` ids are the prompt side (with its special tokens)."""

    input_ids: list[int]
    prompt_length: int
    truncated: bool


class PairTokenizer:
    """Turn pairs into ``[CLS] prompt [SEP] response [SEP]``-style id sequences of bounded length.

    A prompt that does not fit loses tokens from its middle, because instructions sit at the start
    or end of most prompts while long passages sit in between. The response keeps at most
    ``max_response_length`` tokens. Each truncation is counted and reported once per dataset.
    """

    def __init__(self, tokenizer, max_length: int, max_response_length: int, use_chat_template: bool = True) -> None:
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.max_response_length = max_response_length
        self.use_chat_template = use_chat_template and bool(getattr(tokenizer, "chat_template", None))
        self.eos_id = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
        self.bos_id = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
        self.separator_id = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else self.eos_id

    def __call__(self, pair: SFTPair) -> TokenizedPair:
        prompt_ids, response_ids = self._encode(pair)
        response_ids = response_ids[: self.max_response_length]
        # A chat template writes its own start tokens into the prompt text.
        prefix = [self.bos_id] if self.bos_id is not None and not self.use_chat_template else []
        closing = [self.eos_id] if self.eos_id is not None else []
        middle = [self.separator_id] if self.separator_id is not None and not self.use_chat_template else []
        room = self.max_length - len(prefix) - len(middle) - len(response_ids) - len(closing)
        truncated = len(prompt_ids) > room
        if truncated:
            head = room // 2
            prompt_ids = prompt_ids[:head] + prompt_ids[len(prompt_ids) - (room - head) :]
        prompt_side = prefix + prompt_ids + middle
        return TokenizedPair(prompt_side + response_ids + closing, len(prompt_side), truncated)

    def _encode(self, pair: SFTPair) -> tuple[list[int], list[int]]:
        if self.use_chat_template:
            messages = list(pair.messages or ({"role": "user", "content": pair.prompt},))
            prompt_messages = messages[:-1] if pair.messages else messages
            prompt_text = self.tokenizer.apply_chat_template(prompt_messages, tokenize=False, add_generation_prompt=True)
            prompt_ids = self.tokenizer.encode(prompt_text, add_special_tokens=False)
        else:
            prompt_ids = self.tokenizer.encode(pair.prompt, add_special_tokens=False)
        response_ids = self.tokenizer.encode(pair.completion, add_special_tokens=False)
        return prompt_ids, response_ids


def tokenize_files(paths: Sequence[Path], pair_tokenizer: PairTokenizer, max_per_file: int | None) -> list[TokenizedPair]:
    """Tokenize every pair in ``paths``; log one warning with the count of truncated sequences."""
    tokenized: list[TokenizedPair] = []
    for path in paths:
        tokenized.extend(pair_tokenizer(pair) for pair in read_pairs(path, limit=max_per_file))
    if not tokenized:
        raise DataError(f"no training pairs found in {[str(p) for p in paths]!r}")
    truncated = sum(item.truncated for item in tokenized)
    if truncated:
        logger.warning(
            "truncated %d of %d sequences to max_length=%d tokens (the middle of long prompts was cut); "
            "raise max_length to keep more",
            truncated, len(tokenized), pair_tokenizer.max_length,
        )
    return tokenized
