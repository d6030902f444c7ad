"""Deployed dense residual blocks and stems, built from trained modules.

They accept the blocks of mmsar and of mmpretrain's ResNet (same attribute
names: ``conv1, norm1, ..., downsample``), so SAR and the dense baseline get
exactly the same treatment when they are compared.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch import Tensor
from torch.nn.modules.utils import _pair

from .fused_conv import FusedConv2d


class AvgPoolConv(nn.Module):
    """A k x k average pool that counts the zero padding (``nn.AvgPool2d``'s
    default) as a depthwise :class:`FusedConv2d` with weights 1 / k^2:
    oneDNN runs it 1.1-2x faster than torch's pool on channels-last maps
    here (3x3/2 over 512 x 100 x 168: 3.3 against 5.7 ms). Traced for
    export it stays the pool.

    Args:
        pool (nn.AvgPool2d): The pool; see :meth:`converts`.
        channels (int): C of its input (N, C, H, W).
    """

    def __init__(self, pool: nn.AvgPool2d, channels: int):
        super().__init__()
        if not self.converts(pool):
            raise ValueError(f'{pool} is not a depthwise conv')
        self.pool = pool
        kernel = _pair(pool.kernel_size)
        self.conv = FusedConv2d(
            torch.full((channels, 1, *kernel), 1 / (kernel[0] * kernel[1])),
            torch.zeros(channels),
            _pair(pool.stride),
            _pair(pool.padding),
            groups=channels)

    @staticmethod
    def converts(pool: nn.Module) -> bool:
        """``pool`` is an average pool that equals a depthwise conv."""
        return (type(pool) is nn.AvgPool2d and pool.count_include_pad
                and not pool.ceil_mode and pool.divisor_override is None)

    def forward(self, x: Tensor) -> Tensor:
        return self.pool(x) if torch.jit.is_tracing() else self.conv(x)


def fuse_sequential(seq: nn.Sequential,
                    channels: Optional[int] = None) -> nn.Sequential:
    """Fold every conv - norm [- ReLU] run of ``seq`` and run its average
    pools as depthwise convs (:class:`AvgPoolConv`); keep other layers.

    Used for shortcuts (``[AvgPool2d,] Conv2d, BatchNorm2d``), width
    alignments and deep stems (a sequence of ``ConvModule``).

    Args:
        seq (nn.Sequential): The trained layers (eval mode).
        channels (int, optional): C of the input; a pool before the first
            conv stays a pool unless it is given or a conv follows.
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
        elif AvgPoolConv.converts(layer):
            if channels is None:
                channels = _conv_input_channels(children[i + 1:])
            layers.append(layer if channels is None else AvgPoolConv(
                layer, channels))
        else:
            layers.append(layer)
        if isinstance(layers[-1], FusedConv2d):
            channels = layers[-1].out_channels
        elif not isinstance(layers[-1], (nn.AvgPool2d, AvgPoolConv, nn.ReLU)):
            channels = None
        i += 1
    return nn.Sequential(*layers)


def _conv_input_channels(layers: List[nn.Module]) -> Optional[int]:
    """C_in of the first of ``layers`` if it is a conv, else None."""
    if layers and isinstance(layers[0], ConvModule):
        return layers[0].conv.in_channels
    if layers and isinstance(layers[0], nn.Conv2d):
        return layers[0].in_channels
    return None


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


def fuse_shortcut(shortcut: Optional[nn.Module],
                  channels: Optional[int] = None) -> Optional[nn.Module]:
    """:func:`fuse_sequential` of a shortcut (or None) whose input has
    ``channels``."""
    return None if shortcut is None else fuse_sequential(shortcut, channels)


def input_channels(block: nn.Module) -> int:
    """C_in of a residual block (ResNet's or an inverted residual)."""
    if hasattr(block, 'conv1'):
        return block.conv1.in_channels
    first = block.depthwise if block.expand is None else block.expand
    return first.conv.in_channels


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
        self.downsample = fuse_shortcut(block.downsample,
                                        input_channels(block))
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
