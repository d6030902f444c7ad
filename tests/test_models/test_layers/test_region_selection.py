import math

import pytest
import torch

from mmsar.models.layers import (FusionGate, RegionSelection, fixed_masks,
                                 gumbel_hard_mask, upsample_masks)


def test_gumbel_hard_mask_is_straight_through():
    torch.manual_seed(0)
    logits = torch.zeros(1000, 2, requires_grad=True)
    masks = gumbel_hard_mask(logits, tau=1.0)
    assert set(masks.detach().unique().tolist()) == {0.0, 1.0}
    # Equal logits: each decision is a fair coin.
    assert 0.4 < masks.mean().item() < 0.6
    masks.sum().backward()
    assert (logits.grad[:, 1] > 0).all() and (logits.grad[:, 0] < 0).all()


def test_gumbel_probability_follows_logit_gap():
    torch.manual_seed(0)
    logits = torch.tensor([[0., 1.]]).expand(20000, 2)
    rate = gumbel_hard_mask(logits, tau=0.1).mean().item()
    assert rate == pytest.approx(1 / (1 + math.exp(-1)), abs=0.02)


def test_region_selection_shapes_and_init():
    selector = RegionSelection(16, groups=2, grid=3)
    selector.init_weights()
    assert selector.conv.groups == 2 and selector.logits.groups == 2
    x = torch.rand(4, 16, 10, 7)
    selector.eval()
    masks = selector(x)
    assert masks.shape == (4, 2, 3, 3)
    assert torch.equal(masks, torch.ones_like(masks))
    # Logit pair g = (off, on) of group g.
    with torch.no_grad():
        selector.logits.bias.copy_(torch.tensor([0., 1., 1., 0.]))
        selector.logits.weight.zero_()
    masks = selector(x)
    assert (masks[:, 0] == 1).all() and (masks[:, 1] == 0).all()


@pytest.mark.parametrize('grid', [2, 4, 7])
def test_center_masks_crop_the_central_three_quarters(grid):
    """The authors' crop, rows and columns H/8 to 7H/8, whatever K is."""
    center = fixed_masks('center', 2, grid)
    assert center.shape == (1, 2, 8, 8)
    assert center[0, :, 1:7, 1:7].all() and center.sum() == 2 * 36
    pixels = upsample_masks(center, (32, 32))[0, 0]
    assert pixels[4:28, 4:28].all() and pixels.sum() == 24 * 24


def test_fixed_masks():
    uniform = fixed_masks('uniform', 1, 4)
    assert uniform.sum() == 8 and uniform[0, 0, 0, 0] == 1
    assert uniform[0, 0, 0, 1] == 0
    with pytest.raises(ValueError, match="'random'"):
        fixed_masks('random', 1, 4)


def test_fusion_gate_starts_near_half():
    gate = FusionGate(64)
    gate.init_weights()
    weights = gate(torch.rand(2, 64, 5, 5))
    assert weights.shape == (2, 64, 1, 1)
    assert torch.allclose(weights, torch.full_like(weights, 0.5), atol=0.01)
    assert gate.fc1.bias is None and gate.fc1.out_features == 4


@pytest.mark.parametrize('tau', [1.0, 0.1])
def test_tempered_sampling_follows_the_tempered_probability(tau):
    torch.manual_seed(0)
    logits = torch.tensor([[0., 0.5]]).expand(20000, 2)
    rate = gumbel_hard_mask(logits, tau, noise_scale=tau).mean().item()
    assert rate == pytest.approx(1 / (1 + math.exp(-0.5 / tau)), abs=0.02)


def test_tempered_training_masks_tend_to_eval_masks():
    torch.manual_seed(0)
    selector = RegionSelection(8, groups=2, grid=4)
    selector.init_weights()
    with torch.no_grad():
        selector.logits.weight.normal_(std=1.0)
        selector.logits.bias.zero_()
    x = torch.randn(16, 8, 8, 8)
    selector.eval()
    eval_masks = selector(x)
    selector.train()
    selector.norm.eval()  # same normalisation as the eval masks
    selector.tau = 0.001
    selector.noise_scale = 1.0
    paper = selector(x)
    selector.noise_scale = selector.tau
    tempered = selector(x)
    assert 0.2 < eval_masks.mean() < 0.8
    # Paper sampling keeps noise of scale 1 whatever tau; tempered sampling
    # is the argmax up to cells whose logit gap is within ~tau of 0.
    assert (paper != eval_masks).float().mean() > 0.1
    assert (tempered != eval_masks).float().mean() < 0.01
