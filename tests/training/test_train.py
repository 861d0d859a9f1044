import json
from dataclasses import asdict

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForMaskedLM

from promptfill.errors import CheckpointError, MaskTokenNotFoundError
from promptfill.training import (
    LoraSettings, MaskedDiffusionCollator, MaskingConfig, PairTokenizer, TrainConfig, evaluate_masked_accuracy, train,
)
from promptfill.training._data import tokenize_files
from promptfill.training._run import load_training_model
from promptfill.training._trainer import TRAINABLE_PARAMS_FILE


def make_config(model_dir, pairs_file, output_dir, **overrides):
    settings = dict(
        model=str(model_dir), train_files=[pairs_file], eval_files=[pairs_file], output_dir=output_dir,
        max_length=32, per_device_batch_size=4, max_steps=3, eval_steps=100, save_steps=100, logging_steps=1,
    )
    settings.update(overrides)
    return TrainConfig(**settings)


def test_train_saves_loadable_checkpoint_with_split_accuracy(tiny_bert_dir, pairs_file, tmp_path):
    final = train(make_config(tiny_bert_dir, pairs_file, tmp_path / "run"), disable_progress_bar=True)
    assert final == tmp_path / "run" / "final"
    model = AutoModelForMaskedLM.from_pretrained(str(final))
    assert model.config.num_hidden_layers == 2
    record = json.loads((final / "promptfill_training.json").read_text())
    metrics = record["final_metrics"]
    for key in ("eval_loss", "eval_prompt_accuracy", "eval_response_accuracy"):
        assert metrics[key] == metrics[key], f"{key} is NaN"
        assert metrics[key] >= 0.0
    assert metrics["eval_prompt_accuracy"] <= 1.0
    assert record["global_step"] == 3


def test_trained_checkpoint_loads_in_infiller(tiny_bert_dir, pairs_file, tmp_path):
    from promptfill import PromptInfiller

    final = train(make_config(tiny_bert_dir, pairs_file, tmp_path / "run", max_steps=1), disable_progress_bar=True)
    infiller = PromptInfiller.from_pretrained(str(final), device="cpu")
    result = infiller.fill("[MASK:2] {{ x }} ||| {{ y }}", [{"x": "a", "y": "b"}], num_candidates=1)
    assert len(result.best.fills[0].token_ids) == 2


def test_training_lowers_loss_on_repeated_data(tiny_bert_dir, pairs_file, tmp_path):
    config = make_config(tiny_bert_dir, pairs_file, tmp_path / "run", max_steps=40, learning_rate=3e-3)
    _, tokenizer = load_training_model(config)
    items = [asdict(i) for i in tokenize_files([pairs_file], PairTokenizer(tokenizer, 32, 8), None)]
    collator = MaskedDiffusionCollator(
        tokenizer.mask_token_id, tokenizer.pad_token_id, special_token_ids=[tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id],
        fixed_ratio=0.15, generator=torch.Generator().manual_seed(1),
    )
    before = evaluate_masked_accuracy(AutoModelForMaskedLM.from_pretrained(str(tiny_bert_dir)), items, collator, 8, "cpu")
    final = train(config, disable_progress_bar=True)
    after = evaluate_masked_accuracy(AutoModelForMaskedLM.from_pretrained(str(final)), items, collator, 8, "cpu")
    assert after["loss"] < before["loss"] * 0.8
    assert after["accuracy"] > before["accuracy"]


def test_lora_run_resumes_with_non_adapter_weights(tiny_bert_dir, pairs_file, tmp_path):
    output = tmp_path / "run"
    lora = LoraSettings(r=4, alpha=8)
    first = make_config(tiny_bert_dir, pairs_file, output, lora=lora, max_steps=4, save_steps=2)
    train(first, disable_progress_bar=True)
    checkpoint = output / "checkpoint-2"
    assert (checkpoint / TRAINABLE_PARAMS_FILE).is_file()
    saved = load_file(str(checkpoint / TRAINABLE_PARAMS_FILE))
    assert any("LayerNorm" in name for name in saved)

    # A longer second run resumes from checkpoint-4 and ends at step 6.
    second = make_config(tiny_bert_dir, pairs_file, output, lora=lora, max_steps=6, save_steps=2)
    final = train(second, disable_progress_bar=True)
    record = json.loads((final / "promptfill_training.json").read_text())
    assert record["global_step"] == 6
    state = json.loads((output / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["log_history"][0]["step"] == 1


def test_two_stage_mode_trains(tiny_bert_dir, pairs_file, tmp_path):
    config = make_config(tiny_bert_dir, pairs_file, tmp_path / "run", masking=MaskingConfig(mode="two_stage", stage_split=0.5), max_steps=2)
    assert train(config, disable_progress_bar=True).is_dir()


def test_non_checkpoint_directory_rejected(tmp_path, pairs_file):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(CheckpointError, match="is not a checkpoint directory: it has no config.json"):
        train(make_config(tmp_path, pairs_file, tmp_path / "run"))


def test_model_without_mask_token_rejected(tmp_path, pairs_file, minilm_tokenizer):
    from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerFast

    path = tmp_path / "nomask"
    BertForMaskedLM(BertConfig(vocab_size=minilm_tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)).save_pretrained(str(path))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=minilm_tokenizer.backend_tokenizer, pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]")
    tokenizer.save_pretrained(str(path))
    with pytest.raises(MaskTokenNotFoundError, match="has no mask token"):
        train(make_config(path, pairs_file, tmp_path / "run"))
