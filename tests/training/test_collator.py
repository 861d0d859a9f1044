import pytest
import torch

from promptfill.errors import UnknownNameError
from promptfill.training import MaskedDiffusionCollator, MaskingConfig
from promptfill.training._data import TokenizedPair

CLS, SEP, PAD, MASK = 101, 102, 0, 103
# [CLS] p p p [SEP] r r [SEP]: prompt side is the first five ids.
PAIR = TokenizedPair([CLS, 11, 12, 13, SEP, 21, 22, SEP], prompt_length=5, truncated=False)
SHORT = TokenizedPair([CLS, 14, SEP, 23, SEP], prompt_length=3, truncated=False)


def make_collator(mode="full_sequence", **kwargs):
    return MaskedDiffusionCollator(
        MASK, PAD, MaskingConfig(mode=mode), special_token_ids=[CLS, SEP, PAD],
        generator=torch.Generator().manual_seed(0), **kwargs,
    )


def test_full_sequence_masks_prompt_and_response():
    collator = make_collator(fixed_ratio=0.999)
    batch = collator([PAIR])
    masked = batch["input_ids"][0] == MASK
    assert masked.tolist() == [False, True, True, True, False, True, True, True]


def test_response_only_keeps_prompt_clean():
    collator = make_collator("response_only")
    for _ in range(20):
        batch = collator([PAIR, SHORT])
        assert not (batch["input_ids"][batch["prompt_mask"]] == MASK).any()
        assert (batch["labels"][batch["prompt_mask"]] == -100).all()


def test_padding_and_frame_tokens_never_masked():
    collator = make_collator(fixed_ratio=0.999)
    batch = collator([PAIR, SHORT])
    assert batch["input_ids"][1].tolist() == [CLS, MASK, SEP, MASK, MASK, PAD, PAD, PAD]
    assert batch["attention_mask"][1].tolist() == [1, 1, 1, 1, 1, 0, 0, 0]
    assert batch["labels"][1].tolist() == [-100, 14, -100, 23, SEP, -100, -100, -100]


def test_closing_token_kept_when_mask_eos_off():
    collator = MaskedDiffusionCollator(
        MASK, PAD, MaskingConfig(mask_eos=False), special_token_ids=[CLS, SEP, PAD], fixed_ratio=0.999
    )
    batch = collator([PAIR])
    assert batch["input_ids"][0, -1].item() == SEP


def test_labels_hold_clean_ids_at_masked_positions():
    batch = make_collator()([PAIR] * 8)
    masked = batch["input_ids"] == MASK
    assert (batch["labels"][masked] != -100).all()
    assert (batch["labels"][~masked] == -100).all()
    clean = torch.tensor(PAIR.input_ids).expand(8, -1)
    assert torch.equal(batch["labels"][masked], clean[masked])


def test_every_sequence_gets_a_masked_token():
    collator = MaskedDiffusionCollator(MASK, PAD, MaskingConfig(eps=0.001), special_token_ids=[CLS, SEP, PAD], fixed_ratio=0.001)
    batch = collator([PAIR] * 16)
    assert ((batch["labels"] != -100).sum(dim=1) >= 1).all()


def test_mask_ratio_in_range():
    batch = make_collator()([PAIR] * 64)
    eps = MaskingConfig().eps
    assert batch["mask_ratio"].min() >= eps
    assert batch["mask_ratio"].max() <= 1.0


def test_masked_fraction_follows_ratio():
    collator = make_collator(fixed_ratio=0.5)
    batch = collator([PAIR] * 400)
    fraction = ((batch["input_ids"] == MASK) & batch["eligible"]).sum() / batch["eligible"].sum()
    assert abs(fraction.item() - 0.5) < 0.03


def test_two_stage_switches_at_split():
    collator = MaskedDiffusionCollator(MASK, PAD, MaskingConfig(mode="two_stage", stage_split=0.25), special_token_ids=[CLS, SEP, PAD])
    collator.set_progress(0.2)
    assert collator.active_mode == "full_sequence"
    collator.set_progress(0.25)
    assert collator.active_mode == "response_only"
    batch = collator([PAIR] * 10)
    assert not (batch["input_ids"][batch["prompt_mask"]] == MASK).any()


def test_unknown_mode_lists_valid_modes():
    with pytest.raises(Exception) as info:
        MaskingConfig(mode="prompt_only")
    assert "unknown masking mode 'prompt_only'; valid names are: full_sequence, response_only, two_stage" in str(info.value)


@pytest.mark.parametrize("eps", [0.0, 1.0, -0.1, 1.5])
def test_eps_outside_open_interval_rejected(eps):
    with pytest.raises(ValueError, match=r"eps must be in the open interval \(0, 1\)"):
        MaskingConfig(eps=eps)


def test_unknown_name_error_type():
    error = UnknownNameError("masking mode", "x", ["b", "a"])
    assert error.valid == ["a", "b"]
    assert isinstance(error, ValueError)
