"""MaskedLMBackend over tiny random BERT, DistilBERT, RoBERTa and ModernBERT models."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import transformers
from backend_models import MAX_POSITIONS, TINY, bert_tokenizer, bpe_tokenizer, roberta_tokenizer, tiny_bert
from transformers import DistilBertConfig, DistilBertForMaskedLM, RobertaConfig, RobertaForMaskedLM

from promptfill.backends import MaskedLMBackend
from promptfill.errors import ConfigError

CLS, SEP, MASK, PAD, UNK = 101, 102, 103, 0, 100
HELLO, WORLD = 7592, 2088


@pytest.fixture(scope="module")
def tokenizer():
    return bert_tokenizer()


@pytest.fixture(scope="module")
def bert(tokenizer) -> MaskedLMBackend:
    return MaskedLMBackend.from_model(tiny_bert(tokenizer.vocab_size), tokenizer)


def test_bert_backend_properties(bert: MaskedLMBackend) -> None:
    assert bert.kind == "masked_lm"
    assert bert.mask_token_id == MASK
    assert bert.max_length == MAX_POSITIONS  # the config's 64 positions, below the tokenizer's 512
    assert bert.device == torch.device("cpu")
    assert bert.dtype == torch.float32
    assert bert.pad_token_id == PAD
    assert bert.name == "BertForMaskedLM"


def test_bert_wrap_and_separator(bert: MaskedLMBackend) -> None:
    assert bert.wrap([HELLO, WORLD]) == [CLS, HELLO, WORLD, SEP]
    assert bert.wrap([]) == [CLS, SEP]
    assert bert.separator_ids == [SEP]


def test_bert_encode_and_decode(bert: MaskedLMBackend) -> None:
    assert bert.encode("Hello World") == [HELLO, WORLD]
    assert bert.decode([CLS, HELLO, MASK, WORLD, SEP, PAD]) == "hello world"
    assert bert.decode(torch.tensor([HELLO, WORLD])) == "hello world"


def test_bert_forbidden_ids(bert: MaskedLMBackend, tokenizer) -> None:
    forbidden = set(bert.forbidden_token_ids.tolist())
    unused = {i for token, i in tokenizer.get_vocab().items() if token.startswith("[unused")}

    assert {PAD, UNK, CLS, SEP, MASK} <= forbidden
    assert len(unused) == 994  # [unused0] to [unused993] in the uncased BERT vocabulary
    assert unused <= forbidden
    assert forbidden == {PAD, UNK, CLS, SEP, MASK} | unused
    assert HELLO not in forbidden


def test_bert_logits_match_model(bert: MaskedLMBackend) -> None:
    input_ids = torch.tensor([[CLS, HELLO, MASK, WORLD, SEP]])
    attention_mask = torch.ones_like(input_ids)

    logits = bert.logits(input_ids, attention_mask)

    with torch.no_grad():
        expected = bert.model(input_ids=input_ids, attention_mask=attention_mask).logits
    assert logits.shape == (1, 5, bert.vocab_size)
    assert torch.equal(logits, expected)


def test_padding_does_not_change_real_positions(bert: MaskedLMBackend) -> None:
    short = [CLS, HELLO, MASK, SEP]
    input_ids = torch.tensor([short + [PAD, PAD], [CLS, HELLO, MASK, WORLD, WORLD, SEP]])
    attention_mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1] * 6])

    padded = bert.logits(input_ids, attention_mask)
    alone = bert.logits(torch.tensor([short]), torch.ones(1, 4, dtype=torch.long))

    assert torch.allclose(padded[0, :4], alone[0], atol=1e-5)


def test_dream_logits_are_shifted_right(tokenizer) -> None:
    model = tiny_bert(tokenizer.vocab_size)
    plain = MaskedLMBackend.from_model(model, tokenizer)
    dream = MaskedLMBackend.from_model(model, tokenizer, kind="dream")
    input_ids = torch.tensor([[CLS, HELLO, MASK, WORLD, SEP]])
    attention_mask = torch.ones_like(input_ids)

    unshifted = plain.logits(input_ids, attention_mask)
    shifted = dream.logits(input_ids, attention_mask)

    # Position i now contains the model output at i - 1; position 0 keeps its own output.
    assert torch.equal(shifted[:, 1:], unshifted[:, :-1])
    assert torch.equal(shifted[:, 0], unshifted[:, 0])


def test_dream_padding_uses_square_mask(tokenizer) -> None:
    dream = MaskedLMBackend.from_model(tiny_bert(tokenizer.vocab_size), tokenizer, kind="dream")
    short = [CLS, HELLO, MASK, SEP]
    input_ids = torch.tensor([short + [PAD, PAD], [CLS, HELLO, MASK, WORLD, WORLD, SEP]])
    attention_mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1] * 6])

    padded = dream.logits(input_ids, attention_mask)
    alone = dream.logits(torch.tensor([short]), torch.ones(1, 4, dtype=torch.long))

    assert not torch.isnan(padded).any()
    assert torch.allclose(padded[0, :4], alone[0], atol=1e-5)


def test_distilbert_backend(tokenizer) -> None:
    torch.manual_seed(0)
    config = DistilBertConfig(
        vocab_size=tokenizer.vocab_size, dim=32, n_layers=2, n_heads=2, hidden_dim=64,
        max_position_embeddings=MAX_POSITIONS,
    )
    backend = MaskedLMBackend.from_model(DistilBertForMaskedLM(config), tokenizer)

    logits = backend.logits(torch.tensor([[CLS, HELLO, MASK, SEP]]), torch.ones(1, 4, dtype=torch.long))

    assert backend.kind == "masked_lm"
    assert backend.wrap([HELLO]) == [CLS, HELLO, SEP]
    assert logits.shape == (1, 4, tokenizer.vocab_size)


def test_roberta_backend_with_bpe_tokenizer(tmp_path: Path) -> None:
    tokenizer = roberta_tokenizer(tmp_path / "bpe")
    torch.manual_seed(0)
    config = RobertaConfig(
        vocab_size=len(tokenizer), hidden_size=32, max_position_embeddings=MAX_POSITIONS + 2,
        pad_token_id=tokenizer.pad_token_id, **TINY,
    )
    backend = MaskedLMBackend.from_model(RobertaForMaskedLM(config), tokenizer)
    bos, pad, eos, unk, mask = (tokenizer.convert_tokens_to_ids(t) for t in ["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    movie = backend.encode(" movie")

    assert backend.kind == "masked_lm"
    assert backend.mask_token_id == mask
    assert backend.wrap(movie) == [bos, *movie, eos]
    assert backend.separator_ids == [eos]
    assert set(backend.forbidden_token_ids.tolist()) == {bos, pad, eos, unk, mask}
    assert backend.decode(movie) == "movie"
    assert backend.max_length == MAX_POSITIONS
    logits = backend.logits(torch.tensor([backend.wrap(movie)]), torch.ones(1, len(movie) + 2, dtype=torch.long))
    assert logits.shape == (1, len(movie) + 2, len(tokenizer))


@pytest.mark.skipif(not hasattr(transformers, "ModernBertConfig"), reason="transformers has no ModernBERT")
def test_modernbert_backend(tokenizer) -> None:
    torch.manual_seed(0)
    config = transformers.ModernBertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, max_position_embeddings=MAX_POSITIONS,
        global_attn_every_n_layers=1, local_attention=16, pad_token_id=PAD, bos_token_id=CLS,
        eos_token_id=SEP, cls_token_id=CLS, sep_token_id=SEP, **TINY,
    )
    backend = MaskedLMBackend.from_model(transformers.ModernBertForMaskedLM(config), tokenizer)
    short = [CLS, HELLO, MASK, SEP]
    input_ids = torch.tensor([short + [PAD], [CLS, HELLO, MASK, WORLD, SEP]])
    attention_mask = torch.tensor([[1, 1, 1, 1, 0], [1] * 5])

    padded = backend.logits(input_ids, attention_mask)
    alone = backend.logits(torch.tensor([short]), torch.ones(1, 4, dtype=torch.long))

    assert backend.kind == "masked_lm"
    assert padded.shape == (2, 5, tokenizer.vocab_size)
    assert torch.allclose(padded[0, :4], alone[0], atol=1e-5)


def test_llada_kind_adds_bos_and_newline_separator(tmp_path: Path) -> None:
    tokenizer = bpe_tokenizer(tmp_path / "bpe", bos_token="<s>", eos_token="</s>", mask_token="<mask>")
    backend = MaskedLMBackend.from_model(tiny_bert(len(tokenizer)), tokenizer, kind="llada")
    movie = backend.encode(" movie")

    assert backend.wrap(movie) == [tokenizer.bos_token_id, *movie]
    assert backend.separator_ids == backend.encode("\n")
    assert backend.separator_ids != []


def test_invalid_kind_lists_choices(tokenizer) -> None:
    with pytest.raises(ConfigError) as error:
        MaskedLMBackend.from_model(tiny_bert(tokenizer.vocab_size), tokenizer, kind="bert")  # type: ignore[arg-type]

    assert str(error.value) == (
        "kind='bert' is invalid; choose one of 'auto', 'masked_lm', 'llada', 'dream', 'mdlm'"
    )
