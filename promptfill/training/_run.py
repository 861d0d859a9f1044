"""Run full-sequence masking SFT from a :class:`TrainConfig`."""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import asdict
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer, TrainerCallback, TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

from ..errors import CheckpointError, MaskTokenNotFoundError
from ..runs._metadata import write_run_metadata
from ._collator import MaskedDiffusionCollator
from ._config import TrainConfig
from ._data import PairTokenizer, expand_data_paths, tokenize_files
from ._trainer import MaskedDiffusionTrainer

logger = logging.getLogger(__name__)

FINAL_DIR = "final"


class _WallClockLimit(TrainerCallback):
    """Stop (and save) once ``minutes`` of wall time have passed since training began."""

    def __init__(self, minutes: float) -> None:
        self.seconds = minutes * 60.0
        self.start = time.monotonic()

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        if time.monotonic() - self.start > self.seconds:
            logger.info("stopping at step %d: the %.1f-minute time limit was reached", state.global_step, self.seconds / 60)
            control.should_training_stop = True
            control.should_save = True
            control.should_evaluate = True
        return control


def load_training_model(config: TrainConfig):
    """Load the model and tokenizer to train, raising typed errors for unusable checkpoints."""
    if config.model == "embedded-base":
        from ..embedded._base import build_base_model

        return build_base_model(seed=config.seed)
    path = Path(config.model)
    if path.exists() and not (path / "config.json").is_file():
        raise CheckpointError(f"{str(path)!r} is not a checkpoint directory: it has no config.json")
    try:
        tokenizer = AutoTokenizer.from_pretrained(config.model, trust_remote_code=config.trust_remote_code)
        model_config = AutoConfig.from_pretrained(config.model, trust_remote_code=config.trust_remote_code)
        model = AutoModelForMaskedLM.from_pretrained(config.model, trust_remote_code=config.trust_remote_code)
    except (OSError, ValueError) as error:
        raise CheckpointError(f"cannot load {config.model!r} as a masked LM: {error}") from error
    if tokenizer.mask_token_id is None and getattr(model_config, "mask_token_id", None) is None:
        raise MaskTokenNotFoundError(
            f"{config.model!r} has no mask token in its tokenizer or config; masked-diffusion training "
            "needs one. Use a masked LM checkpoint, or add a mask token to the tokenizer first."
        )
    return model, tokenizer


def _apply_lora(model, config: TrainConfig):
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise ImportError("LoRA training needs PEFT: pip install 'promptfill[train]'") from None
    settings = config.lora
    lora = LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=settings.target_modules,
        bias="none",
    )
    model = get_peft_model(model, lora)
    if settings.train_norms:
        for name, param in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name or "norm." in name:
                param.requires_grad = True
    # The masked-LM head of a freshly built base (embedded-base) is new, so it must train.
    for name, param in model.named_parameters():
        if ".cls.predictions.transform." in name or name.endswith("cls.predictions.bias"):
            param.requires_grad = True
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    logger.info("LoRA r=%d: %d trainable parameters", settings.r, trainable)
    return model


def train(config: TrainConfig, *, resume: bool | str = True, disable_progress_bar: bool = False) -> Path:
    """Train a model by masked-diffusion SFT and save it; return the final checkpoint directory.

    The final directory (``output_dir/final``) is a plain Hugging Face checkpoint (LoRA merged),
    which ``PromptInfiller.from_pretrained`` loads directly. With ``resume=True`` a run continues
    from the last checkpoint in ``output_dir`` if there is one; a string names a checkpoint.
    """
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    model, tokenizer = load_training_model(config)
    mask_token_id = tokenizer.mask_token_id if tokenizer.mask_token_id is not None else model.config.mask_token_id
    pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else mask_token_id

    # 1. Data.
    pair_tokenizer = PairTokenizer(tokenizer, config.max_length, config.max_response_length, config.use_chat_template)
    train_items = [asdict(item) for item in tokenize_files(expand_data_paths(config.train_files), pair_tokenizer, config.max_examples_per_file)]
    eval_items = None
    if config.eval_files:
        eval_items = [asdict(item) for item in tokenize_files(expand_data_paths(config.eval_files), pair_tokenizer, config.max_eval_examples_per_file)]
    logger.info("training on %d sequences, evaluating on %d", len(train_items), len(eval_items or []))

    # 2. Model and collators.
    if config.lora is not None:
        model = _apply_lora(model, config)
    special_ids = [i for i in tokenizer.all_special_ids if i != mask_token_id]
    collator = MaskedDiffusionCollator(mask_token_id, pad_token_id, config.masking, special_token_ids=special_ids)
    eval_collator = MaskedDiffusionCollator(
        mask_token_id, pad_token_id, config.masking.model_copy(update={"mode": "full_sequence"}),
        special_token_ids=special_ids, fixed_ratio=config.masking.eval_mask_ratio,
        generator=torch.Generator().manual_seed(config.seed),
    )

    # 3. Trainer.
    args = TrainingArguments(
        output_dir=str(config.output_dir),
        per_device_train_batch_size=config.per_device_batch_size,
        per_device_eval_batch_size=config.per_device_batch_size * 2,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=int(config.warmup_ratio * config.max_steps),
        lr_scheduler_type="cosine",
        max_steps=config.max_steps,
        eval_strategy="steps" if eval_items else "no",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        logging_steps=config.logging_steps,
        seed=config.seed,
        bf16=config.bf16,
        remove_unused_columns=False,
        train_sampling_strategy="group_by_length",
        dataloader_num_workers=config.dataloader_num_workers,
        dataloader_pin_memory=torch.cuda.is_available(),
        report_to=config.report_to,
        disable_tqdm=disable_progress_bar,
    )
    callbacks = [_WallClockLimit(config.max_time_minutes)] if config.max_time_minutes else []
    trainer = MaskedDiffusionTrainer(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=train_items,
        eval_dataset=eval_items,
        processing_class=tokenizer,
        eval_collator=eval_collator,
        callbacks=callbacks,
    )

    # 4. Record the run (once, on the main process), then train, resuming when asked.
    if trainer.is_world_process_zero():
        write_run_metadata(
            config.output_dir, json.loads(config.model_dump_json()), seed=config.seed,
            device=str(args.device), dtype="bfloat16" if config.bf16 else "float32",
        )
    checkpoint = None
    if resume is True and Path(config.output_dir).is_dir():
        checkpoint = get_last_checkpoint(str(config.output_dir))
    elif isinstance(resume, str):
        checkpoint = resume
    if checkpoint:
        logger.info("resuming from %s", checkpoint)
    trainer.train(resume_from_checkpoint=checkpoint)
    metrics = trainer.evaluate() if eval_items else {}

    # 5. Save a plain checkpoint with LoRA merged.
    final_dir = Path(config.output_dir) / FINAL_DIR
    final_model = trainer.model.merge_and_unload() if config.lora is not None else trainer.model
    final_model.save_pretrained(str(final_dir))
    tokenizer.save_pretrained(str(final_dir))
    (final_dir / "promptfill_training.json").write_text(
        json.dumps({"config": json.loads(config.model_dump_json()), "final_metrics": metrics, "global_step": trainer.state.global_step}, indent=1) + "\n"
    )
    return final_dir
