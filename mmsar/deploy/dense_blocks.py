"""Deployed dense residual blocks and stems, built from trained modules.

They accept the blocks of mmsar and of mmpretrain's ResNet (same attribute
names: ``conv1, norm1, ..., downsample``), so SAR and the dense baseline get
exactly the same treatment when they are compared.
"""
from typing import Optional, Tuple

import torch.nn as nn
from mmcv.cnn import ConvModule
from torch import Tensor

from .fused_conv import FusedConv2d


def fuse_sequential(seq: nn.Sequential) -> nn.Sequential:
    """Fold every conv - norm [- ReLU] run of ``seq``; keep other layers.

    Used for shortcuts (``[AvgPool2d,] Conv2d, BatchNorm2d``), width
    alignments and deep stems (a sequence of ``ConvModule``).
    """
    layers, children = [], list(seq)
    i = 0
    while i < len(children):
        layer = children[i]
        if isinstance(layer, ConvModule):
            layers.append(fuse_conv_module(layer))
        elif isinstance(layer, nn.Conv2d):
            norm = None
            if i + 1 < len(children) and isinstance(
                    children[i + 1], nn.modules.batchnorm._BatchNorm):
                i += 1
                norm = children[i]
            relu = i + 1 < len(children) and isinstance(
                children[i + 1], nn.ReLU)
            i += relu
            layers.append(FusedConv2d.from_conv(layer, norm, relu=relu))
        else:
            layers.append(layer)
        i += 1
    return nn.Sequential(*layers)


def fuse_conv_module(module: ConvModule, **kwargs) -> FusedConv2d:
    """An mmcv ``ConvModule`` (conv, norm, optional ReLU or ReLU6) as one
    op; ``kwargs`` go to :meth:`FusedConv2d.from_conv` (e.g. padding)."""
    if module.order != ('conv', 'norm', 'act'):
        raise NotImplementedError(f'ConvModule order {module.order}')
    act = module.activate if module.with_activation else None
    if act is not None and not isinstance(act, (nn.ReLU, nn.ReLU6)):
        raise NotImplementedError(f'Activation {type(act).__name__}')
    return FusedConv2d.from_conv(
        module.conv,
        module.norm if module.with_norm else None,
        relu=isinstance(act, nn.ReLU),
        relu6=isinstance(act, nn.ReLU6),
        **kwargs)


def fuse_shortcut(shortcut: Optional[nn.Module]) -> Optional[nn.Module]:
    return None if shortcut is None else fuse_sequential(shortcut)


class _FusedResidualBlock(nn.Module):
    """The shortcut of a fused residual block.

    Args:
        block (nn.Module): The trained block (eval mode).
        reuse_input (bool): The block may write its output over its input:
            true for a block fed by the block before it alone (in a
            Sequential), whose output nothing else reads.
    """

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__()
        self.downsample = fuse_shortcut(block.downsample)
        self.reuse_input = reuse_input

    def shortcut(self, x: Tensor) -> Tuple[Tensor, bool]:
        """The shortcut of x and whether the output may be written over it
        (the block's own downsampled copy, or x where the block owns it)."""
        if self.downsample is None:
            return x, self.reuse_input
        return self.downsample(x), True


class FusedBasicBlock(_FusedResidualBlock):
    """relu(conv2(relu(conv1(x))) + shortcut(x)) with fused convs.

    Input (N, C_in, H, W), output (N, C_out, H / s, W / s), channels-last.
    """

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__(block, reuse_input)
        self.conv1 = FusedConv2d.from_conv(block.conv1, block.norm1, True)
        self.conv2 = FusedConv2d.from_conv(block.conv2, block.norm2, True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv1(x)
        identity, reuse = self.shortcut(x)
        return self.conv2(out, identity, reuse)


class FusedBottleneck(_FusedResidualBlock):
    """relu(conv3(relu(conv2(relu(conv1(x))))) + shortcut(x)), fused.

    Input (N, C_in, H, W), output (N, C_out, H / s, W / s), channels-last.
    """

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__(block, reuse_input)
        self.conv1 = FusedConv2d.from_conv(block.conv1, block.norm1, True)
        self.conv2 = FusedConv2d.from_conv(block.conv2, block.norm2, True)
        self.conv3 = FusedConv2d.from_conv(block.conv3, block.norm3, True)

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv2(self.conv1(x))
        identity, reuse = self.shortcut(x)
        return self.conv3(out, identity, reuse)


class FusedInvertedResidual(_FusedResidualBlock):
    """project(depthwise(expand(x))) [+ shortcut(x)], fused convs (an
    mmsar :class:`~mmsar.models.layers.InvertedResidual`).

    Input (N, C_in, H, W), output (N, C_out, H / s, W / s), channels-last.
    """

    def __init__(self, block: nn.Module, reuse_input: bool = False):
        super().__init__(block, reuse_input)
        self.expand = (None if block.expand is None else fuse_conv_module(
            block.expand))
        self.depthwise = fuse_conv_module(block.depthwise)
        self.project = fuse_conv_module(block.project)
        self.use_shortcut = block.use_shortcut

    def forward(self, x: Tensor) -> Tensor:
        out = x if self.expand is None else self.expand(x)
        out = self.depthwise(out)
        if not self.use_shortcut:
            return self.project(out)
        identity, reuse = self.shortcut(x)
        return self.project(out, identity, reuse)


def fuse_block(block: nn.Module, reuse_input: bool = False) -> nn.Module:
    """The fused version of a BasicBlock, Bottleneck (any of ours or
    mmpretrain's, in eval mode: drop path is then the identity) or mmsar
    InvertedResidual; ``reuse_input`` as in :class:`_FusedResidualBlock`."""
    if hasattr(block, 'depthwise'):
        return FusedInvertedResidual(block, reuse_input)
    if hasattr(block, 'conv3'):
        return FusedBottleneck(block, reuse_input)
    return FusedBasicBlock(block, reuse_input)


def fuse_resnet_stem(model: nn.Module) -> None:
    """Fold the stem of a ResNet-like backbone in place.

    A 7x7 stem (``conv1``, ``norm1``, ``relu``) becomes one fused conv with
    the norm and ReLU replaced by identities; a deep stem's ConvModules are
    fused one by one.
    """
    if getattr(model, 'deep_stem', False):
        model.stem = fuse_sequential(model.stem)
        return
    model.conv1 = FusedConv2d.from_conv(model.conv1, model.norm1, relu=True)
    setattr(model, model.norm1_name, nn.Identity())
    model.relu = nn.Identity()
