"""The masked residual of a refine block and the gradient of its masks.

A refine block adds its residual only where its masks are on, and its
convs read zeros where they are off (the training paradigm of the paper,
Eq. 3). Differentiating that forward (``mask_gradient='masked'``, the
paper's) gives an off cell the gradient of a residual computed from zeros
there: it tells the selection nothing about what refining the cell would
bring, so cells that are off when the target rate falls tend to stay off
whatever they hold. With ``mask_gradient='unmasked'`` the output gate of each cell
gets the gradient of the block's residual on its *unmasked* input (what
refining the cell would add); the forward values, the gradients of the
weights and the norms' running statistics are those of the masked forward.
"""
from contextlib import contextmanager
from typing import Iterator, Optional

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from ...utils.args import check_choice

MASK_GRADIENTS = ('masked', 'unmasked')


def check_mask_gradient(kind: str) -> None:
    check_choice('SAR mask gradient', kind, MASK_GRADIENTS)


@contextmanager
def running_stats_kept(module: nn.Module) -> Iterator[None]:
    """Let the batch norms of ``module`` update copies of their running
    statistics, and put the originals back on exit."""
    norms = [m for m in module.modules() if isinstance(m, _BatchNorm)]
    names = ('running_mean', 'running_var', 'num_batches_tracked')
    saved = [[getattr(m, name) for name in names] for m in norms]
    for norm in norms:
        for name in names:
            value = getattr(norm, name)
            if value is not None:
                setattr(norm, name, value.clone())
    try:
        yield
    finally:
        for norm, values in zip(norms, saved):
            for name, value in zip(names, values):
                setattr(norm, name, value)


class GatedResidualMixin:
    """``gated_residual(x, masks)`` for a block that provides
    ``residual(x, masks)`` (its residual branch, convs reading zeros where
    ``masks`` are off; ``masks=None`` for the unmasked one) and
    ``gate(out, masks)`` (its output zeroed where they are off)."""

    # Set on every refine block by ``set_mask_gradient`` of SAR backbones.
    mask_gradient = 'masked'

    def residual(self, x: Tensor, masks: Optional[Tensor]) -> Tensor:
        raise NotImplementedError

    def gate(self, out: Tensor, masks: Tensor) -> Tensor:
        raise NotImplementedError

    def gated_residual(self, x: Tensor, masks: Optional[Tensor]) -> Tensor:
        """The residual where ``masks`` are on, 0 elsewhere; the masks'
        gradient as ``mask_gradient`` says (see the module docstring)."""
        if masks is None:
            return self.residual(x, None)
        if self.mask_gradient == 'masked' or not masks.requires_grad:
            return self.gate(self.residual(x, masks), masks)
        hard = masks.detach()
        out = self.gate(self.residual(x, hard), hard)
        with torch.no_grad(), running_stats_kept(self):
            unmasked = self.residual(x, None)
        # masks - hard is 0: the values stay those of the masked forward.
        return out + self.gate(unmasked, masks - hard)
