"""Patch-sparse refine blocks: compute each group only on its selected cells.

A refine block called with cell masks (N, G, K, K) returns what the masked
block (:mod:`mmsar.models.layers.res_blocks`) returns with the upsampled
pixel masks, in eval mode, but runs each channel group's convs on the
patches that group selects only (see :mod:`mmsar.deploy.sparse_patches`
for the row views and tables): its 1x1 convs as GEMMs on the gathered rows
(:class:`~mmsar.deploy.fused_conv.RowLinear`), its 3x3 conv on the haloed
patches. The groups' residuals are added onto the shortcut (one
scatter-add) and one ReLU pass over the map ends the block, so unselected
positions are ``relu(shortcut)`` (the shortcut itself for an inverted
residual, which has no ReLU there).

In eager mode the blocks allocate as little as they can (a fresh tensor of
a large map costs more in page faults than the pass that fills it): the
output is written into the shortcut when the block computed it, and into
the input when the block owns it (``reuse_input``).
"""
import torch
import torch.nn as nn
from torch import Tensor

from ..utils.tracing import static_shape
from .dense_blocks import fuse_conv_module, fuse_shortcut, input_channels
from .fused_conv import FusedConv2d, RowLinear
from .sparse_patches import (GroupPlan, PatchGeometry, add_rows,
                             entry_table, patch_geometry, plan_group,
                             plan_patches, put_rows)


def as_rows(x: Tensor, groups: int = 1) -> Tensor:
    """View a channels-last map (N, C, H, W) as rows [N * H * W * G, C / G]
    (N may be the data-dependent number of patches)."""
    channels = static_shape(x)[1]
    return x.permute(0, 2, 3, 1).reshape(-1, channels // groups)


def as_patches(rows: Tensor, height: int, width: int) -> Tensor:
    """View gathered rows [S * h * w, C] as channels-last patches
    (S, C, h, w); S is left to the length of ``rows``."""
    channels = static_shape(rows)[1]
    return rows.view(-1, height, width, channels).permute(0, 3, 1, 2)


def zero_buffer(geometry: PatchGeometry, n: int, channels: int,
                like: Tensor) -> Tensor:
    """A zero-padded buffer [N * H_p * W_p + 1, C] for one group's rows,
    dtype and device of ``like``; the extra row is the trash."""
    h_p, w_p = geometry.padded_size
    return like.new_zeros(n * h_p * w_p + 1, channels)


def haloed(rows: Tensor, plan: GroupPlan, geometry: PatchGeometry,
           n: int) -> Tensor:
    """Scatter one group's patch rows [S * P, C] into a zero-padded map and
    gather them back with their halos, (S, C, p_h + 2, p_w + 2): what a
    3x3 conv of the masked forward reads there."""
    buffer = zero_buffer(geometry, n, static_shape(rows)[1], rows)
    buffer = put_rows(buffer, plan.padded_rows, rows)
    p_h, p_w = geometry.patch_size
    return as_patches(
        buffer.index_select(0, plan.halo_rows), p_h + 2, p_w + 2)


def group_rows(conv: FusedConv2d, groups: int) -> nn.ModuleList:
    """A grouped 1x1 conv as one :class:`RowLinear` per channel group."""
    return nn.ModuleList(RowLinear(c) for c in conv.group_slices(groups))


def group_convs(conv: FusedConv2d, groups: int) -> nn.ModuleList:
    """A grouped conv as one conv per channel group."""
    return nn.ModuleList(conv.group_slices(groups))


class _SparseRefineBlock(nn.Module):
    """Shared parts: the shortcut, the scatter-add of the groups'
    residuals, the output pass.

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
        self.downsample = fuse_shortcut(block.downsample,
                                        input_channels(block))
        self.reuse_input = reuse_input

    def group_residual(self, group: int, x: Tensor, x_rows: Tensor,
                       masks: Tensor, plan: GroupPlan,
                       geometry: PatchGeometry) -> Tensor:
        """Channel group ``group`` of the residual on its patches of the
        output grid (``plan``, ``geometry``), rows [S * P, C_out / G].
        ``x_rows`` is the row view of x (N, C_in, H, W)."""
        raise NotImplementedError

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
        x_rows = as_rows(x, self.groups)
        out = x_rows if shortcut is x else as_rows(shortcut, self.groups)
        if shortcut is x and not self.reuse_input:
            out = out.clone()
        updates = []
        for group, plan in enumerate(plan_patches(geometry, masks)):
            if plan is None:
                continue
            residual = self.group_residual(group, x, x_rows, masks, plan,
                                           geometry)
            updates.append((plan.rows, residual, plan.keep))
        out = add_rows(out, updates)
        if self.final_relu:
            out = out.relu_()
        out = out.view(n, height, width, c_out)
        return out.permute(0, 3, 1, 2)


class SparseBottleneck(_SparseRefineBlock):
    """Patch-sparse :class:`~mmsar.models.layers.Bottleneck` refine block.

    Per group: conv1 (1x1) as a GEMM on the patch rows, scattered into a
    zero-padded map and re-gathered with a 1-pixel halo, conv2 (3x3)
    unpadded on the haloed patches, conv3 (1x1) as a GEMM gives the
    residual.

    Args:
        block (Bottleneck): A stride-1 grouped refine block (eval mode).
        reuse_input (bool): See :class:`_SparseRefineBlock`.
    """

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__(block, reuse_input)
        groups = block.groups
        self.conv1 = group_rows(
            FusedConv2d.from_conv(block.conv1, block.norm1, True), groups)
        self.conv2 = group_convs(
            FusedConv2d.from_conv(
                block.conv2, block.norm2, True, padding=(0, 0)), groups)
        self.conv3 = group_rows(
            FusedConv2d.from_conv(block.conv3, block.norm3), groups)

    def group_residual(self, group: int, x: Tensor, x_rows: Tensor,
                       masks: Tensor, plan: GroupPlan,
                       geometry: PatchGeometry) -> Tensor:
        inner = self.conv1[group](x_rows.index_select(0, plan.rows))
        patches = haloed(inner, plan, geometry, static_shape(x)[0])
        return self.conv3[group](as_rows(self.conv2[group](patches)))


class SparseBasicBlock(_SparseRefineBlock):
    """Patch-sparse :class:`~mmsar.models.layers.BasicBlock` refine block.

    Per group, the masked input and the conv1 output are each scattered
    into a zero-padded map and re-gathered with halos for the two 3x3
    convs.

    Args:
        block (BasicBlock): A stride-1 grouped refine block (eval mode).
        reuse_input (bool): See :class:`_SparseRefineBlock`.
    """

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__(block, reuse_input)
        groups = block.groups
        self.conv1 = group_convs(
            FusedConv2d.from_conv(
                block.conv1, block.norm1, True, padding=(0, 0)), groups)
        self.conv2 = group_convs(
            FusedConv2d.from_conv(
                block.conv2, block.norm2, padding=(0, 0)), groups)

    def group_residual(self, group: int, x: Tensor, x_rows: Tensor,
                       masks: Tensor, plan: GroupPlan,
                       geometry: PatchGeometry) -> Tensor:
        n = static_shape(x)[0]
        inner = self.conv1[group](
            haloed(x_rows.index_select(0, plan.rows), plan, geometry, n))
        return as_rows(self.conv2[group](
            haloed(as_rows(inner), plan, geometry, n)))


class SparseInvertedResidual(_SparseRefineBlock):
    """Patch-sparse :class:`~mmsar.models.layers.InvertedResidual` refine
    block.

    Per group: the expansion 1x1 conv runs as a GEMM on the patch rows of
    the input and is scattered into a zero-padded map; the depthwise 3x3
    conv runs unpadded on what it reads there for each output patch (the
    patch with a 1-pixel halo, or, for stride 2, the input window of the
    output patch, however the input cells lie) and the linear 1x1
    projection gives the residual; no ReLU follows the add.

    Args:
        block (InvertedResidual): A grouped refine block (eval mode),
            stride 1 or 2, dilation 1.
        reuse_input (bool): See :class:`_SparseRefineBlock`.
    """

    final_relu = False

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__(block, reuse_input)
        groups = block.groups
        self.stride = block.stride
        self.expand = (None if block.expand is None else group_rows(
            fuse_conv_module(block.expand), groups))
        self.depthwise = group_convs(
            fuse_conv_module(block.depthwise, padding=(0, 0)), groups)
        self.project = group_rows(fuse_conv_module(block.project), groups)

    def group_residual(self, group: int, x: Tensor, x_rows: Tensor,
                       masks: Tensor, plan: GroupPlan,
                       geometry: PatchGeometry) -> Tensor:
        n, _, height, width = static_shape(x)
        if self.stride == 1:
            inner = self.expand_rows(group,
                                     x_rows.index_select(0, plan.rows))
            windows = haloed(inner, plan, geometry, n)
        else:
            source = patch_geometry(height, width, geometry.grid, x.device)
            windows = self.strided_windows(group, x_rows, masks, plan,
                                           geometry, source)
        return self.project[group](as_rows(self.depthwise[group](windows)))

    def expand_rows(self, group: int, rows: Tensor) -> Tensor:
        return rows if self.expand is None else self.expand[group](rows)

    def strided_windows(self, group: int, x_rows: Tensor, masks: Tensor,
                        plan: GroupPlan, geometry: PatchGeometry,
                        source: PatchGeometry) -> Tensor:
        """Group ``group``'s expanded input windows (S, C_mid / G,
        2 p_h + 1, 2 p_w + 1) of the output patches, read from its masked
        expanded input map (its selected input cells of ``source``
        scattered into a zero-padded buffer)."""
        n = static_shape(masks)[0]
        buffer = zero_buffer(source, n, self.depthwise[group].out_channels,
                             x_rows)
        source_plan = plan_group(source, masks, group)
        if source_plan is not None:
            inner = self.expand_rows(
                group, x_rows.index_select(0, source_plan.rows))
            buffer = put_rows(buffer, source_plan.padded_rows, inner)
        rows = entry_table(geometry.strided_windows(source, n), plan.entries)
        p_h, p_w = geometry.patch_size
        return as_patches(
            buffer.index_select(0, rows), 2 * p_h + 1, 2 * p_w + 1)


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
