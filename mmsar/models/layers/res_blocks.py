"""Residual blocks shared by every branch of a SAR-ResNet.

The same ``BasicBlock`` and ``Bottleneck`` serve as base, refine, fusion and
plain blocks. A refine block is an ordinary block with grouped convolutions
(``groups=G``) that is called with pixel masks: the g-th channel group is
then computed only where mask g is on (see ``forward``), which is exactly
what the patch-sparse inference path computes without touching the rest.
"""
import math
from typing import Optional

import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from ...utils.args import invalid_argument
from ...utils.patch_grid import apply_group_masks
from .gated_residual import GatedResidualMixin


def make_shortcut(in_channels: int,
                  out_channels: int,
                  stride: int = 1,
                  conv_cfg: Optional[dict] = None,
                  norm_cfg: dict = dict(type='BN')) -> Optional[nn.Module]:
    """Shortcut of a residual block that changes resolution or width.

    A stride is taken by a 3x3 average pool (never by a strided 1x1 conv),
    a change of width by a 1x1 conv + norm. Returns None for the identity.
    """
    layers = []
    if stride != 1:
        layers.append(nn.AvgPool2d(3, stride=stride, padding=1))
    if in_channels != out_channels:
        layers += [
            build_conv_layer(
                conv_cfg, in_channels, out_channels, 1, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1],
        ]
    return nn.Sequential(*layers) if layers else None


class _ResBlock(GatedResidualMixin, BaseModule):
    """Common parts of ``BasicBlock`` and ``Bottleneck``.

    Subclasses build ``conv1, norm1 ... conv{k}, norm{k}`` and implement
    ``residual(x, masks)``.
    """

    # A block that changes width or resolution has a shortcut (the SAR
    # module builds it with ``make_shortcut``).
    projection_shortcut = True
    # Called with pixel masks (N, G, H, W), not cell masks (N, G, K, K).
    takes_cell_masks = False

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 dilation: int = 1,
                 groups: int = 1,
                 downsample: Optional[nn.Module] = None,
                 with_cp: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.dilation = dilation
        self.groups = groups
        self.downsample = downsample
        self.with_cp = with_cp
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.relu = nn.ReLU(inplace=True)

    def _add_conv_norm(self,
                       index: int,
                       in_channels: int,
                       out_channels: int,
                       kernel_size: int,
                       stride: int = 1,
                       dilation: int = 1,
                       groups: Optional[int] = None) -> None:
        """Add ``conv{index}`` and its norm; ``groups`` defaults to the
        block's mask groups."""
        padding = dilation if kernel_size == 3 else 0
        conv = build_conv_layer(
            self.conv_cfg,
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups or self.groups,
            bias=False)
        norm_name, norm = build_norm_layer(
            self.norm_cfg, out_channels, postfix=index)
        self.add_module(f'conv{index}', conv)
        self.add_module(norm_name, norm)
        setattr(self, f'norm{index}_name', norm_name)

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        return getattr(self, self.norm2_name)

    @property
    def last_norm(self) -> nn.Module:
        """The norm whose zero-init makes the block start as its shortcut."""
        raise NotImplementedError

    def gate(self, out: Tensor, masks: Tensor) -> Tensor:
        return apply_group_masks(out, masks)

    def forward(self, x: Tensor, masks: Optional[Tensor] = None) -> Tensor:
        """Residual block, optionally restricted to masked positions.

        Args:
            x (Tensor): Input of shape (N, C_in, H, W).
            masks (Tensor, optional): Pixel masks (N, G, H_out, W_out) of a
                refine block (stride 1). Where mask g is off, the output of
                channel group g equals the shortcut exactly, and every 3x3
                conv of the block reads zeros there; the masks' gradient
                follows ``mask_gradient`` (:mod:`.gated_residual`).

        Returns:
            Tensor: Output of shape (N, C_out, H_out, W_out).
        """

        def _inner_forward(x, masks):
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(self.gated_residual(x, masks) + identity)

        if self.with_cp and x.requires_grad:
            return cp.checkpoint(
                _inner_forward, x, masks, use_reentrant=False)
        return _inner_forward(x, masks)


class BasicBlock(_ResBlock):
    """Two 3x3 convs; ``out_channels`` is the block's output width."""

    expansion = 1

    @staticmethod
    def inner_width(out_channels: int) -> int:
        """Width between the convs."""
        return out_channels

    def __init__(self, in_channels: int, out_channels: int, **kwargs):
        super().__init__(in_channels, out_channels, **kwargs)
        self._add_conv_norm(1, in_channels, out_channels, 3, self.stride,
                            self.dilation)
        self._add_conv_norm(2, out_channels, out_channels, 3, 1,
                            self.dilation)

    @property
    def last_norm(self) -> nn.Module:
        return self.norm2

    def residual(self, x: Tensor, masks: Optional[Tensor]) -> Tensor:
        if masks is not None:
            x = apply_group_masks(x, masks)
        out = self.relu(self.norm1(self.conv1(x)))
        if masks is not None:
            out = apply_group_masks(out, masks)
        return self.norm2(self.conv2(out))


class Bottleneck(_ResBlock):
    """1x1 - 3x3 - 1x1 convs, the stride on the 3x3 (PyTorch style).

    The inner width is ``out_channels // 4`` (ResNet), or, for a ResNeXt
    block, ``out_channels * cardinality * width_per_group // 256`` with a
    3x3 conv of ``cardinality`` groups (as in mmpretrain's ResNeXt: 32 x 4d
    gives half the output width). Mask groups G split every conv, so the
    3x3 conv has ``lcm(G, cardinality)`` groups.

    Args:
        cardinality (int): Groups of the 3x3 conv of a ResNeXt block.
            Default: 1.
        width_per_group (int, optional): Width of each of them at output
            width 256; None for a ResNet block. Default: None.
    """

    expansion = 4

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 cardinality: int = 1,
                 width_per_group: Optional[int] = None,
                 **kwargs):
        super().__init__(in_channels, out_channels, **kwargs)
        mid_channels = self.inner_width(out_channels, cardinality,
                                        width_per_group)
        inner_groups = math.lcm(self.groups, cardinality)
        if mid_channels % inner_groups:
            raise invalid_argument(
                'cardinality', cardinality,
                f'the inner width {mid_channels} must be a multiple of '
                f'lcm(cardinality, mask groups {self.groups}) = '
                f'{inner_groups}')
        self.mid_channels = mid_channels
        self.cardinality = cardinality
        self._add_conv_norm(1, in_channels, mid_channels, 1)
        self._add_conv_norm(2, mid_channels, mid_channels, 3, self.stride,
                            self.dilation, inner_groups)
        self._add_conv_norm(3, mid_channels, out_channels, 1)

    @staticmethod
    def inner_width(out_channels: int,
                    cardinality: int = 1,
                    width_per_group: Optional[int] = None) -> int:
        """Width of the 3x3 conv (see the class docstring)."""
        if width_per_group is None:
            return out_channels // Bottleneck.expansion
        return out_channels * cardinality * width_per_group // 256

    @property
    def norm3(self) -> nn.Module:
        return getattr(self, self.norm3_name)

    @property
    def last_norm(self) -> nn.Module:
        return self.norm3

    def residual(self, x: Tensor, masks: Optional[Tensor]) -> Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        if masks is not None:
            out = apply_group_masks(out, masks)
        out = self.relu(self.norm2(self.conv2(out)))
        return self.norm3(self.conv3(out))
