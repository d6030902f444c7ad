"""The masks' task gradient of refine blocks (``mask_gradient``): the same
forward either way, and an off cell's gradient that says what refining it
would bring only with ``'unmasked'``."""
import copy

import pytest
import torch

from mmsar.models import SARResNetCifar
from mmsar.models.layers import (BasicBlock, Bottleneck, InvertedResidual,
                                 upsample_masks)

BLOCKS = [
    pytest.param(lambda: Bottleneck(16, 16, groups=2), id='Bottleneck'),
    pytest.param(lambda: BasicBlock(16, 16, groups=2), id='BasicBlock'),
    pytest.param(lambda: InvertedResidual(16, 16, groups=2),
                 id='InvertedResidual'),
]


def block_masks(block, cells, size):
    """The masks ``block`` takes for cell masks (N, G, K, K)."""
    return cells if block.takes_cell_masks else upsample_masks(cells, size)


def forward_and_backward(block, x, cells, weights):
    """Output, loss sum(weights * output), and the gradients of the cell
    masks and of the block's parameters."""
    cells = cells.clone().requires_grad_(True)
    out = block(x, block_masks(block, cells, x.shape[-2:]))
    (weights * out).sum().backward()
    grads = {n: p.grad.clone() for n, p in block.named_parameters()}
    return out.detach(), cells.grad, grads


@pytest.mark.parametrize('make_block', BLOCKS)
def test_unmasked_gradient_keeps_the_masked_forward(make_block):
    """Values, weight gradients and running statistics are those of the
    masked forward; only the masks' gradient changes."""
    torch.manual_seed(0)
    masked = make_block().train()
    unmasked = copy.deepcopy(masked)
    unmasked.mask_gradient = 'unmasked'
    x = torch.randn(2, 16, 8, 8)
    cells = (torch.rand(2, 2, 4, 4) > 0.5).float()
    weights = torch.randn(2, 16, 8, 8)

    out_m, cells_m, grads_m = forward_and_backward(masked, x, cells, weights)
    out_u, cells_u, grads_u = forward_and_backward(unmasked, x, cells,
                                                   weights)
    assert torch.equal(out_m, out_u)
    for name, grad in grads_m.items():
        torch.testing.assert_close(grads_u[name], grad, msg=name)
    for (name, a), b in zip(masked.named_buffers(), unmasked.buffers()):
        assert torch.equal(a, b), name
    assert not torch.allclose(cells_m, cells_u)


@pytest.mark.parametrize('make_block', BLOCKS)
def test_unmasked_gradient_is_the_gain_of_turning_a_group_on(make_block):
    """One cell per map (K = 1), group 0 on, group 1 off: the residual is
    linear in the output gate, so the exact change of sum(w * residual)
    when group 1 turns on is its first-order estimate. 'unmasked' gives
    it; 'masked' (the paper's) gives the gradient of a residual computed
    from zeros, which says nothing about group 1's input."""
    torch.manual_seed(0)
    block = make_block().eval()
    x = torch.randn(1, 16, 8, 8)
    weights = torch.randn(1, 16, 8, 8)
    off = torch.tensor([1., 0.]).view(1, 2, 1, 1)
    on = torch.ones(1, 2, 1, 1)

    def gain(masks):
        return (weights * block.gated_residual(
            x, block_masks(block, masks, x.shape[-2:]))).sum()

    with torch.no_grad():
        exact = gain(on) - gain(off)
    estimates = {}
    for kind in ('masked', 'unmasked'):
        block.mask_gradient = kind
        cells = off.clone().requires_grad_(True)
        gain(cells).backward()
        estimates[kind] = cells.grad[0, 1, 0, 0]
    torch.testing.assert_close(estimates['unmasked'], exact)
    assert (estimates['masked'] - exact).abs() > 0.1 * exact.abs()


def test_backbone_sets_every_refine_block():
    backbone = SARResNetCifar(depth=20, mask_groups=2)
    blocks = [b for m in backbone.sar_modules for b in m.refine_blocks]
    assert blocks and all(b.mask_gradient == 'masked' for b in blocks)
    backbone.set_mask_gradient('unmasked')
    assert all(b.mask_gradient == 'unmasked' for b in blocks)
    with pytest.raises(ValueError, match="'dense'.*masked, unmasked"):
        backbone.set_mask_gradient('dense')


def test_unmasked_gradient_with_checkpointing():
    torch.manual_seed(0)
    plain = Bottleneck(16, 16, groups=2).train()
    plain.mask_gradient = 'unmasked'
    checkpointed = copy.deepcopy(plain)
    checkpointed.with_cp = True
    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    cells = (torch.rand(2, 2, 4, 4) > 0.5).float()
    weights = torch.randn(2, 16, 8, 8)
    out_p, cells_p, _ = forward_and_backward(plain, x, cells, weights)
    out_c, cells_c, _ = forward_and_backward(checkpointed, x, cells, weights)
    torch.testing.assert_close(out_c, out_p)
    torch.testing.assert_close(cells_c, cells_p)
