"""load_backend: checkpoints on disk, kind detection, device and dtype, and the errors users see."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from backend_models import MAX_POSITIONS, bert_tokenizer, bpe_tokenizer, roberta_tokenizer, tiny_bert
from transformers import GPT2Config, GPT2LMHeadModel, RobertaConfig, RobertaForMaskedLM

from promptfill.backends import (
    LLADA_MASK_TOKEN_ID,
    MaskedLMBackend,
    detect_kind,
    find_mask_token_id,
    load_backend,
    resolve_device,
    resolve_dtype,
)
from promptfill.errors import (
    CheckpointError,
    ConfigError,
    MaskTokenNotFoundError,
    UnsupportedModelError,
)

EXPECTED_CHECKPOINT = (
    "expected a directory with config.json and weights (model.safetensors or pytorch_model.bin, "
    "as written by save_pretrained), or a Hugging Face Hub name when online"
)


@pytest.fixture(scope="module")
def tokenizer():
    return bert_tokenizer()


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory: pytest.TempPathFactory, tokenizer) -> Path:
    directory = tmp_path_factory.mktemp("tiny-bert")
    tiny_bert(tokenizer.vocab_size).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def test_load_bert_checkpoint(bert_dir: Path, tokenizer) -> None:
    backend = load_backend(bert_dir, device="cpu")

    assert backend.kind == "masked_lm"
    assert backend.name == str(bert_dir)
    assert backend.mask_token_id == 103
    assert backend.dtype == torch.float32
    assert backend.max_length == MAX_POSITIONS
    input_ids = torch.tensor([[101, 7592, 103, 102]])
    expected = tiny_bert(tokenizer.vocab_size)(input_ids=input_ids).logits
    assert torch.allclose(backend.logits(input_ids, torch.ones_like(input_ids)), expected, atol=1e-6)


def test_load_with_dtype_string(bert_dir: Path) -> None:
    backend = load_backend(bert_dir, device="cpu", dtype="bfloat16")

    assert backend.dtype == torch.bfloat16


def test_load_roberta_checkpoint(tmp_path: Path) -> None:
    tokenizer = roberta_tokenizer(tmp_path / "bpe")
    config = RobertaConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=MAX_POSITIONS + 2, pad_token_id=tokenizer.pad_token_id,
    )
    RobertaForMaskedLM(config).save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")

    backend = load_backend(tmp_path / "model", device="cpu")

    assert backend.kind == "masked_lm"
    assert backend.mask_token_id == tokenizer.convert_tokens_to_ids("<mask>")
    assert backend.wrap([]) == [tokenizer.bos_token_id, tokenizer.eos_token_id]


def test_missing_path_raises(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"

    with pytest.raises(CheckpointError) as error:
        load_backend(missing)

    assert str(error.value) == f"checkpoint path {str(missing)!r} does not exist; {EXPECTED_CHECKPOINT}"


def test_directory_without_config_raises(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError) as error:
        load_backend(tmp_path)

    assert str(error.value) == f"directory {str(tmp_path)!r} contains no config.json; {EXPECTED_CHECKPOINT}"


def test_file_path_raises(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"")

    with pytest.raises(CheckpointError) as error:
        load_backend(weights)

    assert str(error.value) == f"{str(weights)!r} is a file, not a checkpoint directory; {EXPECTED_CHECKPOINT}"


def test_config_without_weights_raises(tmp_path: Path, tokenizer) -> None:
    tiny_bert(tokenizer.vocab_size).config.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)

    with pytest.raises(CheckpointError) as error:
        load_backend(tmp_path)

    assert str(error.value).startswith(f"cannot load checkpoint {str(tmp_path)!r}: ")
    assert str(error.value).endswith(EXPECTED_CHECKPOINT)


def test_remote_code_needs_permission(tmp_path: Path) -> None:
    config = {
        "model_type": "llada",
        "architectures": ["LLaDAModelLM"],
        "auto_map": {"AutoConfig": "configuration_llada.LLaDAConfig", "AutoModel": "modeling_llada.LLaDAModelLM"},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))

    with pytest.raises(CheckpointError) as error:
        load_backend(tmp_path)

    assert str(error.value) == (
        f"{str(tmp_path)!r} (model_type='llada') ships its own modeling code, which runs only with "
        "trust_remote_code=True; pass trust_remote_code=True if you trust this checkpoint"
    )


def test_causal_checkpoint_rejected(tmp_path: Path) -> None:
    config = GPT2Config(vocab_size=300, n_embd=32, n_layer=1, n_head=2, n_positions=64, bos_token_id=0, eos_token_id=0)
    GPT2LMHeadModel(config).save_pretrained(tmp_path)

    with pytest.raises(UnsupportedModelError) as error:
        load_backend(tmp_path)

    assert str(error.value) == (
        f"{str(tmp_path)!r} is a causal language model (GPT2LMHeadModel); promptfill needs a masked "
        "language model or masked diffusion LM (BERT, RoBERTa, ModernBERT, LLaDA, Dream, MDLM) to fill "
        "holes, because a causal LM cannot see the text after a hole. Use a causal LM as the target "
        "model of a scorer instead"
    )


def test_in_memory_causal_model_rejected(tokenizer) -> None:
    config = GPT2Config(vocab_size=300, n_embd=32, n_layer=1, n_head=2, n_positions=64, bos_token_id=0, eos_token_id=0)

    with pytest.raises(UnsupportedModelError, match=r"^'GPT2LMHeadModel' is a causal language model \(GPT2LMHeadModel\)"):
        MaskedLMBackend.from_model(GPT2LMHeadModel(config), tokenizer)


def test_tokenizer_without_mask_raises(tmp_path: Path) -> None:
    tokenizer = bpe_tokenizer(tmp_path / "bpe")

    with pytest.raises(MaskTokenNotFoundError) as error:
        MaskedLMBackend.from_model(tiny_bert(len(tokenizer)), tokenizer)

    assert str(error.value) == (
        "checkpoint 'BertForMaskedLM' has no mask token: its tokenizer's mask_token is None and its "
        "config sets no mask_token_id. Pass a tokenizer that defines a mask token (tokenizer=...), or "
        "use a masked language model such as BERT, RoBERTa or ModernBERT"
    )


def test_explicit_tokenizer_replaces_checkpoint_tokenizer(bert_dir: Path, tmp_path: Path) -> None:
    tokenizer = bpe_tokenizer(tmp_path / "bpe", mask_token="<mask>")

    backend = load_backend(bert_dir, tokenizer=tokenizer)

    assert backend.tokenizer is tokenizer
    assert backend.mask_token_id == tokenizer.mask_token_id


def test_invalid_dtype_lists_choices(bert_dir: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_backend(bert_dir, dtype="fp8")

    assert str(error.value) == (
        "dtype='fp8' is not supported; choose one of 'auto', 'float32', 'bfloat16', 'float16', "
        "or the matching torch.dtype"
    )


def test_invalid_device_raises() -> None:
    with pytest.raises(ConfigError, match=r"^device='gpu0' is not a torch device"):
        resolve_device("gpu0")


def test_default_dtype_on_cpu_is_float32() -> None:
    cpu = torch.device("cpu")

    assert resolve_dtype(None, cpu) == torch.float32
    assert resolve_dtype("auto", cpu) == torch.float32
    assert resolve_dtype(torch.float16, cpu) == torch.float16


@pytest.mark.parametrize(
    ("model_type", "architectures", "kind"),
    [
        ("llada", ["LLaDAModelLM"], "llada"),
        ("Dream", ["DreamModel"], "dream"),
        ("mdlm", ["MDLM"], "mdlm"),
        ("bert", ["BertForMaskedLM"], "masked_lm"),
        ("bert", ["BertModel"], "masked_lm"),
        ("modernbert", None, "masked_lm"),
        ("roberta", None, "masked_lm"),
    ],
)
def test_detect_kind(model_type: str, architectures: list[str] | None, kind: str) -> None:
    assert detect_kind(model_type, architectures, name="checkpoint") == kind


def test_detect_kind_rejects_unknown_model() -> None:
    with pytest.raises(UnsupportedModelError) as error:
        detect_kind("vit", ["ViTModel"], name="vision")

    assert str(error.value) == (
        "cannot tell what kind of model 'vision' is (model_type='vit', architectures=['ViTModel']); "
        "promptfill fills holes with a masked language model or masked diffusion LM (BERT, RoBERTa, "
        "ModernBERT, LLaDA, Dream, MDLM). If this checkpoint is one, pass kind='masked_lm', 'llada', "
        "'dream' or 'mdlm' to say which"
    )


def test_mask_id_discovery_order(caplog: pytest.LogCaptureFixture) -> None:
    no_mask = SimpleNamespace(mask_token_id=None)
    no_mask_of_size = type("Tokenizer", (), {"mask_token_id": None, "__len__": lambda self: 50257})()

    assert find_mask_token_id(SimpleNamespace(mask_token_id=5), SimpleNamespace(mask_token_id=9), "llada", name="m") == 5
    assert find_mask_token_id(no_mask, SimpleNamespace(mask_token_id=9), "llada", name="m") == 9
    with caplog.at_level(logging.DEBUG, logger="promptfill.backends._kinds"):
        assert find_mask_token_id(no_mask, SimpleNamespace(), "llada", name="m") == LLADA_MASK_TOKEN_ID
    assert caplog.messages == ["m sets no mask token; using LLaDA's reserved mask token id 126336"]
    assert find_mask_token_id(no_mask_of_size, SimpleNamespace(vocab_size=50258), "mdlm", name="m") == 50257
    with pytest.raises(MaskTokenNotFoundError):
        find_mask_token_id(no_mask_of_size, SimpleNamespace(vocab_size=50257), "mdlm", name="m")
