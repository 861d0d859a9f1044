"""A ``transformers.Trainer`` for masked-diffusion SFT."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch.utils.data import DataLoader
from transformers import Trainer, TrainerCallback

from ._collator import MaskedDiffusionCollator
from ._loss import masked_diffusion_loss, masked_position_logits

logger = logging.getLogger(__name__)

TRAINABLE_PARAMS_FILE = "trainable_params.safetensors"


class _StageProgressCallback(TrainerCallback):
    """Tell the collator how far training has gone, which drives the two_stage schedule."""

    def __init__(self, collator: MaskedDiffusionCollator) -> None:
        self.collator = collator

    def on_step_begin(self, args, state, control, **kwargs):
        if state.max_steps:
            self.collator.set_progress(state.global_step / state.max_steps)


class MaskedDiffusionTrainer(Trainer):
    """Train a masked LM with the masked-diffusion loss and report prompt/response accuracy.

    Differences from the stock ``Trainer``:

    * the loss is :func:`masked_diffusion_loss` (1/t-weighted cross-entropy at masked positions),
      with the output head run only on masked positions;
    * :meth:`evaluate` masks a fixed ratio of tokens (``eval_mask_ratio``) with a fixed seed, and
      reports the exact-token accuracy on prompt tokens and on response tokens separately;
    * checkpoints also store every trainable parameter outside a PEFT adapter (LayerNorms, a new
      head), so a resumed LoRA run loses nothing.

    NOTE: the two_stage switch happens at the first batch collated after the split step; a data
    loader that prefetches may deliver one more batch of the earlier mode.
    """

    def __init__(self, *args, eval_collator: MaskedDiffusionCollator | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Our loss is a per-sequence mean, not normalised by num_items_in_batch, so let the
        # Trainer divide it by the gradient-accumulation steps.
        self.loss_is_scaled_for_ga = False
        self.eval_collator = eval_collator
        if isinstance(self.data_collator, MaskedDiffusionCollator):
            self.add_callback(_StageProgressCallback(self.data_collator))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"]
        positions = labels != -100  # [B, L]
        logits = masked_position_logits(model, inputs["input_ids"], inputs["attention_mask"], positions)  # [M, V]
        sequence_index = positions.nonzero()[:, 0]  # [M]
        loss = masked_diffusion_loss(
            logits, labels[positions], inputs["mask_ratio"], inputs["eligible"].sum(dim=1), sequence_index
        )
        return (loss, {"logits": logits}) if return_outputs else loss

    @torch.no_grad()
    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        """Compute loss and masked-token accuracy on the evaluation set and log them.

        Returns ``{prefix}_loss``, ``{prefix}_accuracy``, ``{prefix}_prompt_accuracy`` and
        ``{prefix}_response_accuracy`` (fractions of masked tokens predicted exactly by argmax).
        """
        dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        if dataset is None or self.eval_collator is None:
            raise ValueError("evaluate() needs an eval_dataset and an eval_collator")
        metrics = evaluate_masked_accuracy(
            self.model, dataset, self.eval_collator, self.args.per_device_eval_batch_size, self.args.device
        )
        metrics = {f"{metric_key_prefix}_{key}": value for key, value in metrics.items()}
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics

    def _save(self, output_dir: str | None = None, state_dict=None) -> None:
        super()._save(output_dir, state_dict=state_dict)
        if not hasattr(self.model, "peft_config"):
            return
        target = Path(output_dir or self.args.output_dir)
        extra = {
            name: param.detach().cpu().contiguous()
            for name, param in self.model.named_parameters()
            if param.requires_grad and "lora_" not in name
        }
        if extra:
            save_file(extra, str(target / TRAINABLE_PARAMS_FILE))

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None) -> None:
        super()._load_from_checkpoint(resume_from_checkpoint, model=model)
        path = os.path.join(resume_from_checkpoint, TRAINABLE_PARAMS_FILE)
        if os.path.exists(path):
            saved = load_file(path)
            (model or self.model).load_state_dict(saved, strict=False)
            logger.info("restored %d trainable parameters outside the adapter from %s", len(saved), path)


def evaluate_masked_accuracy(model, dataset, collator: MaskedDiffusionCollator, batch_size: int, device) -> dict[str, float]:
    """Measure masked-token loss and accuracy of ``model`` on ``dataset`` with ``collator``'s masking.

    The collator's generator is reseeded first, so two calls mask the same tokens.
    """
    if collator.generator is not None:
        collator.generator.manual_seed(collator.generator.initial_seed())
    was_training = model.training
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collator)
    totals = {"loss": 0.0, "sequences": 0, "prompt_correct": 0, "prompt_count": 0, "response_correct": 0, "response_count": 0}
    for batch in loader:
        batch = {key: value.to(device) for key, value in batch.items()}
        labels = batch["labels"]
        positions = labels != -100
        logits = masked_position_logits(model, batch["input_ids"], batch["attention_mask"], positions)  # [M, V]
        sequence_index = positions.nonzero()[:, 0]
        loss = masked_diffusion_loss(logits, labels[positions], batch["mask_ratio"], batch["eligible"].sum(1), sequence_index)
        correct = logits.argmax(dim=-1) == labels[positions]  # [M]
        in_prompt = batch["prompt_mask"][positions]  # [M]
        totals["loss"] += loss.item() * labels.shape[0]
        totals["sequences"] += labels.shape[0]
        totals["prompt_correct"] += int((correct & in_prompt).sum())
        totals["prompt_count"] += int(in_prompt.sum())
        totals["response_correct"] += int((correct & ~in_prompt).sum())
        totals["response_count"] += int((~in_prompt).sum())
    model.train(was_training)
    all_correct = totals["prompt_correct"] + totals["response_correct"]
    all_count = totals["prompt_count"] + totals["response_count"]
    return {
        "loss": totals["loss"] / max(totals["sequences"], 1),
        "accuracy": all_correct / max(all_count, 1),
        "prompt_accuracy": totals["prompt_correct"] / max(totals["prompt_count"], 1),
        "response_accuracy": totals["response_correct"] / max(totals["response_count"], 1),
        "masked_tokens": float(all_count),
    }
