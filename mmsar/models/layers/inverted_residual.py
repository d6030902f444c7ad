"""The inverted residual of MobileNet-v2 as a block of every SAR branch."""
from typing import Optional

import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from ...utils.patch_grid import apply_group_masks, upsample_masks
from .gated_residual import GatedResidualMixin


class InvertedResidual(GatedResidualMixin, BaseModule):
    """Expand 1x1 - depthwise 3x3 - linear 1x1 (MobileNet-v2).

    With ``groups=G`` (a refine block) both 1x1 convs are split into G
    groups and the block is called with cell masks: channel group g of the
    expanded feature is kept only on the cells of mask g (so the depthwise
    conv reads zeros elsewhere) and, where mask g is off, output group g is
    the shortcut exactly. There is no activation after the residual add.

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        stride (int): Stride of the depthwise conv, 1 or 2. Default: 1.
        dilation (int): Dilation of the depthwise conv. Default: 1.
        groups (int): G, groups of the 1x1 convs. Default: 1.
        downsample (nn.Module, optional): Shortcut of a block that changes
            shape; without it such a block has none (MobileNet-v2) and a
            block that keeps its shape adds its input. Default: None.
        expand_ratio (int): Hidden width is ``round(C_in * expand_ratio)``;
            1 drops the expansion conv. Default: 6.
        with_cp (bool): Use checkpointing. Default: False.
        conv_cfg (dict, optional): Conv layers config. Default: None.
        norm_cfg (dict): Norm layers config. Default: ``dict(type='BN')``.
        act_cfg (dict): Activation of the first two convs.
            Default: ``dict(type='ReLU6')``.
    """

    projection_shortcut = False
    takes_cell_masks = True

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 dilation: int = 1,
                 groups: int = 1,
                 downsample: Optional[nn.Module] = None,
                 expand_ratio: int = 6,
                 with_cp: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU6'),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.dilation = dilation
        self.groups = groups
        self.downsample = downsample
        self.with_cp = with_cp
        self.use_shortcut = downsample is not None or (
            stride == 1 and in_channels == out_channels)
        self.mid_channels = self.inner_width(in_channels, expand_ratio)
        common = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.expand = None
        if expand_ratio != 1:
            self.expand = ConvModule(
                in_channels, self.mid_channels, 1, groups=groups,
                act_cfg=act_cfg, **common)
        self.depthwise = ConvModule(
            self.mid_channels,
            self.mid_channels,
            3,
            stride=stride,
            padding=dilation,
            dilation=dilation,
            groups=self.mid_channels,
            act_cfg=act_cfg,
            **common)
        self.project = ConvModule(
            self.mid_channels, out_channels, 1, groups=groups, act_cfg=None,
            **common)

    @staticmethod
    def inner_width(in_channels: int, expand_ratio: int = 6) -> int:
        """Width of the depthwise conv."""
        return int(round(in_channels * expand_ratio))

    def residual(self, x: Tensor, masks: Optional[Tensor]) -> Tensor:
        """Expand, depthwise, project; the depthwise conv reads zeros
        where cell masks (N, G, K, K) are off."""
        out = x if self.expand is None else self.expand(x)
        if masks is not None:
            out = self.gate(out, masks)
        return self.project(self.depthwise(out))

    def gate(self, out: Tensor, masks: Tensor) -> Tensor:
        return apply_group_masks(out, upsample_masks(masks, out.shape[-2:]))

    def forward(self, x: Tensor, masks: Optional[Tensor] = None) -> Tensor:
        """Inverted residual, optionally restricted to masked cells.

        Args:
            x (Tensor): Input of shape (N, C_in, H, W).
            masks (Tensor, optional): Cell masks (N, G, K, K) of a refine
                block, laid on the input and on the output grid alike.

        Returns:
            Tensor: Output of shape (N, C_out, H / stride, W / stride).
        """

        def _inner_forward(x, masks):
            out = self.gated_residual(x, masks)
            if not self.use_shortcut:
                return out
            identity = x if self.downsample is None else self.downsample(x)
            return out + identity

        if self.with_cp and x.requires_grad:
            return cp.checkpoint(
                _inner_forward, x, masks, use_reentrant=False)
        return _inner_forward(x, masks)
