"""Patch-sparse refine blocks: compute each group only on its selected cells.

A refine block called with cell masks (N, G, K, K) returns what the masked
block (:mod:`mmsar.models.layers.res_blocks`) returns with the upsampled
pixel masks, in eval mode, but runs its grouped convs on the selected
patches only (see :mod:`mmsar.deploy.sparse_patches` for the row
views and tables). The selected patches of all samples and groups go
through each conv as one batch; their residual is added onto the shortcut
(one scatter-add) and one ReLU pass over the map ends the block,
so unselected positions are ``relu(shortcut)`` (the shortcut itself for
an inverted residual, which has no ReLU there).

In eager mode the blocks allocate as little as they can (a fresh tensor of
a large map costs more in page faults than the pass that fills it): the
output is written into the shortcut when the block computed it, and into
the input when the block owns it (``reuse_input``).
"""
import torch
import torch.nn as nn
from torch import Tensor

from ..utils.tracing import static_shape
from .dense_blocks import fuse_conv_module, fuse_shortcut
from .fused_conv import FusedConv2d
from .sparse_patches import (PatchGeometry, PatchPlan, patch_geometry,
                             plan_patches, put_rows, slot_rows)


def as_rows(x: Tensor, groups: int) -> Tensor:
    """View a channels-last map (N, C, H, W) as rows [N * H * W * G, C / G]
    (N may be the data-dependent number of patches)."""
    channels = static_shape(x)[1]
    return x.permute(0, 2, 3, 1).reshape(-1, channels // groups)


def as_patches(rows: Tensor, channels: int, height: int,
               width: int) -> Tensor:
    """View gathered rows [S * h * w * G, C / G] as channels-last
    patches (S, C, h, w); S is left to the length of ``rows``."""
    return rows.view(-1, height, width, channels).permute(0, 3, 1, 2)


def new_rows(num_rows: int, channels: int, like: Tensor,
             zero: bool) -> Tensor:
    """A [num_rows + 1, channels] matrix; the extra row is the trash."""
    make = torch.zeros if zero else torch.empty
    return make(num_rows + 1, channels, dtype=like.dtype, device=like.device)


class _SparseRefineBlock(nn.Module):
    """Shared parts: the shortcut, the output pass and the padded buffer.

    Args:
        block (nn.Module): The refine block (eval mode).
        reuse_input (bool): The block may overwrite its input with its
            output when its shortcut is the identity: true for a refine
            block fed by the previous one, whose output nothing else reads.
    """

    # A ReLU after the residual add.
    final_relu = True
    # forward() takes cell masks (N, G, K, K), not pixel masks.
    takes_cell_masks = True

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__()
        self.groups = block.groups
        self.downsample = fuse_shortcut(block.downsample)
        self.reuse_input = reuse_input

    def sparse_residual(self, x: Tensor, masks: Tensor, plan: PatchPlan,
                        geometry: PatchGeometry) -> Tensor:
        """The residual branch on the patches of the output grid
        (``plan``, ``geometry``), (S, C_out, p_h, p_w)."""
        raise NotImplementedError

    def pad_patches(self, patches: Tensor, plan: PatchPlan,
                    geometry: PatchGeometry, n: int) -> Tensor:
        """Scatter patches (S, C, p_h, p_w) into a zero map padded by one
        pixel and gather them back with their halos, (S, C, p_h + 2,
        p_w + 2): what a 3x3 conv of the masked forward reads there."""
        groups, channels = self.groups, static_shape(patches)[1]
        h_p, w_p = geometry.padded_size
        buffer = new_rows(n * h_p * w_p * groups, channels // groups,
                          patches, zero=True)
        buffer = put_rows(buffer, plan.scatter_padded,
                          as_rows(patches, groups))
        halo = buffer.index_select(0, plan.gather_halo)
        p_h, p_w = geometry.patch_size
        return as_patches(halo, channels, p_h + 2, p_w + 2)

    def forward(self, x: Tensor, masks: Tensor) -> Tensor:
        """Refine x (N, C_in, H, W) where cell masks (N, G, K, K) are on.

        Returns:
            Tensor: Channels-last (N, C_out, H', W'), the size of the
            shortcut.
        """
        x = x.contiguous(memory_format=torch.channels_last)
        n = static_shape(x)[0]
        shortcut = x if self.downsample is None else self.downsample(x)
        _, c_out, height, width = static_shape(shortcut)
        geometry = patch_geometry(height, width, masks.shape[-1], x.device)
        plan = plan_patches(geometry, masks)
        out = as_rows(shortcut, self.groups)
        if shortcut is x and not self.reuse_input:
            out = out.clone()
        if plan is not None:
            residual = as_rows(
                self.sparse_residual(x, masks, plan, geometry), self.groups)
            out = put_rows(
                out, plan.scatter, residual.mul_(plan.keep[:, None]),
                accumulate=True)
        if self.final_relu:
            out = out.relu_()
        out = out.view(n, height, width, c_out)
        return out.permute(0, 3, 1, 2)

    def gather(self, x: Tensor, plan: PatchPlan,
               geometry: PatchGeometry) -> Tensor:
        """The patches (S, C, p_h, p_w) of a map x (N, C, H, W)."""
        rows = as_rows(x, self.groups).index_select(0, plan.gather)
        return as_patches(rows, static_shape(x)[1], *geometry.patch_size)


class SparseBottleneck(_SparseRefineBlock):
    """Patch-sparse :class:`~mmsar.models.layers.Bottleneck` refine block.

    conv1 (1x1) runs on the patches, is scattered into a zero-padded map
    and re-gathered with a 1-pixel halo, conv2 (3x3) runs unpadded on the
    haloed patches and conv3 (1x1) gives the residual.

    Args:
        block (Bottleneck): A stride-1 grouped refine block (eval mode).
        reuse_input (bool): See :class:`_SparseRefineBlock`.
    """

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__(block, reuse_input)
        self.conv1 = FusedConv2d.from_conv(block.conv1, block.norm1, True)
        self.conv2 = FusedConv2d.from_conv(
            block.conv2, block.norm2, True, padding=(0, 0))
        self.conv3 = FusedConv2d.from_conv(block.conv3, block.norm3)

    def sparse_residual(self, x: Tensor, masks: Tensor, plan: PatchPlan,
                        geometry: PatchGeometry) -> Tensor:
        inner = self.conv1(self.gather(x, plan, geometry))
        n = static_shape(x)[0]
        return self.conv3(
            self.conv2(self.pad_patches(inner, plan, geometry, n)))


class SparseBasicBlock(_SparseRefineBlock):
    """Patch-sparse :class:`~mmsar.models.layers.BasicBlock` refine block.

    The masked input and the conv1 output are each scattered into a
    zero-padded map and re-gathered with halos for the two 3x3 convs.

    Args:
        block (BasicBlock): A stride-1 grouped refine block (eval mode).
        reuse_input (bool): See :class:`_SparseRefineBlock`.
    """

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__(block, reuse_input)
        self.conv1 = FusedConv2d.from_conv(
            block.conv1, block.norm1, True, padding=(0, 0))
        self.conv2 = FusedConv2d.from_conv(
            block.conv2, block.norm2, padding=(0, 0))

    def sparse_residual(self, x: Tensor, masks: Tensor, plan: PatchPlan,
                        geometry: PatchGeometry) -> Tensor:
        n = static_shape(x)[0]
        inner = self.pad_patches(
            self.gather(x, plan, geometry), plan, geometry, n)
        return self.conv2(
            self.pad_patches(self.conv1(inner), plan, geometry, n))


class SparseInvertedResidual(_SparseRefineBlock):
    """Patch-sparse :class:`~mmsar.models.layers.InvertedResidual` refine
    block.

    The expansion 1x1 conv runs on the patches of the input and is
    scattered into a zero-padded map; the depthwise 3x3 conv runs unpadded
    on what it reads there for each output patch (the patch with a 1-pixel
    halo, or, for stride 2, the input window of the output patch, however
    the input cells lie) and the linear 1x1 projection gives the residual;
    no ReLU follows the add.

    Args:
        block (InvertedResidual): A grouped refine block (eval mode),
            stride 1 or 2, dilation 1.
        reuse_input (bool): See :class:`_SparseRefineBlock`.
    """

    final_relu = False

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__(block, reuse_input)
        self.stride = block.stride
        self.expand = (None if block.expand is None else fuse_conv_module(
            block.expand))
        self.depthwise = fuse_conv_module(block.depthwise, padding=(0, 0))
        self.project = fuse_conv_module(block.project)

    def sparse_residual(self, x: Tensor, masks: Tensor, plan: PatchPlan,
                        geometry: PatchGeometry) -> Tensor:
        n, _, height, width = static_shape(x)
        if self.stride == 1:
            inner = self.expand_patches(self.gather(x, plan, geometry))
            windows = self.pad_patches(inner, plan, geometry, n)
        else:
            source = patch_geometry(height, width, geometry.grid, x.device)
            windows = self.strided_windows(x, masks, plan, geometry, source)
        return self.project(self.depthwise(windows))

    def expand_patches(self, patches: Tensor) -> Tensor:
        return patches if self.expand is None else self.expand(patches)

    def strided_windows(self, x: Tensor, masks: Tensor, plan: PatchPlan,
                        geometry: PatchGeometry,
                        source: PatchGeometry) -> Tensor:
        """The expanded input windows (S, C_mid, 2 p_h + 1, 2 p_w + 1) of
        the output patches, read from the masked expanded input map (the
        selected input cells of ``source`` scattered into a zero-padded
        buffer)."""
        n = static_shape(x)[0]
        groups, channels = self.groups, self.depthwise.out_channels
        h_p, w_p = source.padded_size
        buffer = new_rows(n * h_p * w_p * groups, channels // groups, x,
                          zero=True)
        source_plan = plan_patches(source, masks)
        if source_plan is not None:
            inner = self.expand_patches(self.gather(x, source_plan, source))
            buffer = put_rows(buffer, source_plan.scatter_padded,
                              as_rows(inner, groups))
        rows = slot_rows(geometry.strided_windows(source, n, groups),
                         plan.entries)
        p_h, p_w = geometry.patch_size
        return as_patches(
            buffer.index_select(0, rows), channels, 2 * p_h + 1,
            2 * p_w + 1)


def sparsify_block(block: nn.Module, reuse_input: bool = False) -> nn.Module:
    """The sparse version of a refine block; ``reuse_input`` as in
    :class:`_SparseRefineBlock`."""
    if block.dilation != 1 or block.stride not in (
            1, 2 if hasattr(block, 'depthwise') else 1):
        raise ValueError('Refine blocks have dilation 1 and stride 1 (2 '
                         'for an inverted residual).')
    if hasattr(block, 'depthwise'):
        return SparseInvertedResidual(block, reuse_input)
    if hasattr(block, 'conv3'):
        return SparseBottleneck(block, reuse_input)
    return SparseBasicBlock(block, reuse_input)
