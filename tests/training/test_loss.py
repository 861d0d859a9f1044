import math

import torch

from promptfill.training import masked_diffusion_loss


def test_loss_weights_by_inverse_ratio_and_normalises_per_sequence():
    # Two sequences; uniform logits over V=4 give CE = log 4 at every masked token.
    V = 4
    logits = torch.zeros(3, V)
    labels = torch.tensor([0, 1, 2])
    sequence_index = torch.tensor([0, 0, 1])  # two masked tokens in seq 0, one in seq 1
    mask_ratio = torch.tensor([0.5, 0.25])
    eligible = torch.tensor([4, 2])
    loss = masked_diffusion_loss(logits, labels, mask_ratio, eligible, sequence_index)
    seq0 = 2 * math.log(V) / 0.5 / 4
    seq1 = 1 * math.log(V) / 0.25 / 2
    assert math.isclose(loss.item(), (seq0 + seq1) / 2, rel_tol=1e-6)


def test_loss_is_zero_for_perfect_predictions():
    logits = torch.full((2, 5), -1e4)
    logits[0, 3] = 1e4
    logits[1, 1] = 1e4
    loss = masked_diffusion_loss(logits, torch.tensor([3, 1]), torch.tensor([0.3]), torch.tensor([6]), torch.tensor([0, 0]))
    assert loss.item() == 0.0


def test_loss_is_unbiased_estimate_of_mean_token_loss():
    # Averaged over many random maskings, sum(CE)/t/n equals the mean CE over eligible tokens.
    torch.manual_seed(0)
    n, V = 10, 6
    token_logits = torch.randn(n, V)
    token_labels = torch.randint(V, (n,))
    exact = torch.nn.functional.cross_entropy(token_logits, token_labels).item()
    estimates = []
    for _ in range(4000):
        t = torch.rand(1).clamp_min(0.05)
        masked = torch.rand(n) < t
        if not masked.any():
            estimates.append(0.0)
            continue
        index = torch.zeros(int(masked.sum()), dtype=torch.long)
        estimates.append(masked_diffusion_loss(token_logits[masked], token_labels[masked], t, torch.tensor([n]), index).item())
    assert abs(sum(estimates) / len(estimates) - exact) / exact < 0.05
