"""Typed settings of full-sequence masking SFT."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MaskingMode = Literal["full_sequence", "response_only", "two_stage"]
MASKING_MODES: tuple[str, ...] = ("full_sequence", "response_only", "two_stage")


class MaskingConfig(BaseModel):
    """How the collator chooses which tokens to mask in each training sequence."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    mode: str = Field(
        "full_sequence",
        description=(
            "full_sequence masks prompt and response tokens jointly with one ratio per sequence, "
            "which is what teaches a model to fill prompts; response_only is the usual SFT; "
            "two_stage runs full_sequence for the first `stage_split` of the steps, then response_only."
        ),
    )
    eps: float = Field(
        1e-3,
        description=(
            "Noise floor: the mask ratio t is drawn from U(eps, 1). A floor above 0 keeps the 1/t loss "
            "weight finite; 1e-3 is the value used by masked diffusion LMs such as LLaDA."
        ),
    )
    stage_split: float = Field(
        0.5,
        description="For two_stage: the fraction of training steps (0 to 1) spent in full_sequence mode.",
    )
    mask_eos: bool = Field(
        True,
        description=(
            "Whether the end-of-sequence token that closes the response can be masked and predicted. "
            "Keeping it in the loss teaches the model where answers end."
        ),
    )
    eval_mask_ratio: float = Field(
        0.15,
        description="Fixed mask ratio of evaluation batches, so that evaluations are comparable across runs.",
    )

    @field_validator("mode")
    @classmethod
    def _check_mode(cls, value: str) -> str:
        if value not in MASKING_MODES:
            from ..errors import UnknownNameError

            raise UnknownNameError("masking mode", value, MASKING_MODES)
        return value

    @field_validator("eps")
    @classmethod
    def _check_eps(cls, value: float) -> float:
        if not 0.0 < value < 1.0:
            raise ValueError(f"eps must be in the open interval (0, 1), got {value!r}; 1e-3 is a common choice")
        return value

    @field_validator("stage_split", "eval_mask_ratio")
    @classmethod
    def _check_fraction(cls, value: float) -> float:
        if not 0.0 < value < 1.0:
            raise ValueError(f"must be in the open interval (0, 1), got {value!r}")
        return value


class LoraSettings(BaseModel):
    """LoRA adapters through PEFT; the base weights stay frozen."""

    model_config = ConfigDict(extra="forbid")

    r: int = Field(64, ge=1, description="Rank of each adapter. 64 keeps a MiniLM-sized delta near 5 MiB in float16.")
    alpha: int = Field(128, ge=1, description="Scale numerator; the update is multiplied by alpha / r.")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="Dropout on the adapter input.")
    target_modules: list[str] | Literal["all-linear"] = Field(
        "all-linear", description="Module names to adapt; all-linear adapts every linear layer but the output head."
    )
    train_norms: bool = Field(
        True, description="Also train LayerNorm weights and biases (few parameters, large effect on adaptation)."
    )


class TrainConfig(BaseModel):
    """One training run: model, data, masking, optimisation and output."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        "embedded-base",
        description=(
            "Checkpoint path or hub name of a masked LM or masked dLM. 'embedded-base' is the pip-installed "
            "all-MiniLM-L6-v2 encoder with a new masked-LM head, the base of the embedded model."
        ),
    )
    trust_remote_code: bool = Field(False, description="Run code shipped with the checkpoint (LLaDA, Dream).")
    train_files: list[Path] = Field(description="JSONL files or directories of .jsonl / .jsonl.gz files.")
    eval_files: list[Path] = Field(default_factory=list, description="Held-out files for evaluation.")
    output_dir: Path = Field(description="Where checkpoints and the final model are written.")
    masking: MaskingConfig = Field(default_factory=MaskingConfig)
    lora: LoraSettings | None = Field(None, description="LoRA settings; None trains all weights.")
    max_length: int = Field(256, ge=8, description="Tokens per sequence; longer prompts lose their middle.")
    max_response_length: int = Field(64, ge=1, description="Response tokens kept before the prompt is cut.")
    max_examples_per_file: int | None = Field(None, ge=1, description="Training pairs read per data file (None: all).")
    max_eval_examples_per_file: int | None = Field(None, ge=1, description="Evaluation pairs read per data file (None: all).")
    use_chat_template: bool = Field(True, description="Format pairs with the tokenizer's chat template if it has one.")
    per_device_batch_size: int = Field(16, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(5e-4, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    max_steps: int = Field(1000, ge=1, description="Optimiser steps.")
    max_time_minutes: float | None = Field(
        None, gt=0, description="Stop after this wall time and save, whatever max_steps says."
    )
    eval_steps: int = Field(200, ge=1)
    save_steps: int = Field(200, ge=1)
    save_total_limit: int = Field(2, ge=1)
    logging_steps: int = Field(20, ge=1)
    seed: int = 0
    dataloader_num_workers: int = Field(0, ge=0)
    bf16: bool = False
    report_to: list[str] = Field(default_factory=list, description="Trainer integrations, e.g. ['tensorboard'].")
