"""Full-sequence masking SFT: data, collator, loss, trainer and the training entry point."""

from ._collator import MaskedDiffusionCollator
from ._config import LoraSettings, MaskingConfig, TrainConfig
from ._data import PairTokenizer, SFTPair, read_pairs
from ._loss import masked_diffusion_loss
from ._run import train
from ._trainer import MaskedDiffusionTrainer, evaluate_masked_accuracy

__all__ = [
    "LoraSettings",
    "MaskedDiffusionCollator",
    "MaskedDiffusionTrainer",
    "MaskingConfig",
    "PairTokenizer",
    "SFTPair",
    "TrainConfig",
    "evaluate_masked_accuracy",
    "masked_diffusion_loss",
    "read_pairs",
    "train",
]
