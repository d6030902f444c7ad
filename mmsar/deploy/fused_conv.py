"""A convolution with its norm folded in and its pointwise epilogue fused.

``FusedConv2d`` is the one building block of every deployed (inference-only)
network in mmsar, SAR and the dense baseline alike: the eval-mode norm is
folded into the weight and bias, the weight is reordered once into oneDNN's
blocked layout, and bias, ReLU and a residual add run inside the oneDNN
convolution (``torch.ops.mkldnn._convolution_pointwise``). Tensors are kept
channels-last. Where oneDNN cannot run (CUDA, other dtypes) the same maths
runs through ``F.conv2d``, and so does a traced export (ONNX).
"""
from collections import OrderedDict
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

CHANNELS_LAST = torch.channels_last
# Packed weights kept per conv: one per input shape (patch batches vary) and
# thread count.
MAX_PACKED_WEIGHTS = 8


def fold_conv_norm(conv: nn.Conv2d,
                   norm: Optional[nn.Module]) -> Tuple[Tensor, Tensor]:
    """Weight and bias of ``norm(conv(x))`` as a single conv (eval mode).

    Args:
        conv (nn.Conv2d): The convolution, weight (C_out, C_in / g, k, k).
        norm (nn.Module, optional): A ``_BatchNorm`` in eval mode, or None.

    Returns:
        tuple[Tensor, Tensor]: Folded weight (C_out, C_in / g, k, k) and bias
        (C_out, ).
    """
    weight = conv.weight.detach().clone()
    bias = (conv.bias.detach().clone() if conv.bias is not None else
            weight.new_zeros(weight.shape[0]))
    if norm is None:
        return weight, bias
    if not isinstance(norm, nn.modules.batchnorm._BatchNorm):
        raise TypeError(f'Can only fold BatchNorm, got {type(norm).__name__}')
    scale = norm.running_var.detach().add(norm.eps).rsqrt()
    if norm.affine:
        scale = scale * norm.weight.detach()
    shift = -norm.running_mean.detach() * scale
    if norm.affine:
        shift = shift + norm.bias.detach()
    return weight * scale[:, None, None, None], bias * scale + shift


class FusedConv2d(nn.Module):
    """``act(conv(x) + bias [+ residual])`` with a prepacked oneDNN weight.

    Args:
        weight (Tensor): (C_out, C_in / groups, k, k), norm already folded.
        bias (Tensor): (C_out, ).
        stride, padding, dilation (tuple[int, int]): As in ``nn.Conv2d``.
        groups (int): As in ``nn.Conv2d``.
        relu (bool): Apply ReLU last (after the residual add).
        relu6 (bool): Apply ReLU6 last instead.
    """

    def __init__(self,
                 weight: Tensor,
                 bias: Tensor,
                 stride=(1, 1),
                 padding=(0, 0),
                 dilation=(1, 1),
                 groups: int = 1,
                 relu: bool = False,
                 relu6: bool = False):
        super().__init__()
        self.stride = tuple(stride)
        self.padding = tuple(padding)
        self.dilation = tuple(dilation)
        self.groups = groups
        self.relu = relu
        self.relu6 = relu6
        self.register_buffer('weight', weight.contiguous())
        self.register_buffer('bias', bias.contiguous())
        self._packed: 'OrderedDict[tuple, Tensor]' = OrderedDict()

    @classmethod
    def from_conv(cls,
                  conv: nn.Conv2d,
                  norm: Optional[nn.Module] = None,
                  relu: bool = False,
                  padding: Optional[Tuple[int, int]] = None,
                  relu6: bool = False):
        """Fold ``norm`` into ``conv``; ``padding`` overrides the conv's."""
        weight, bias = fold_conv_norm(conv, norm)
        return cls(weight, bias, conv.stride,
                   conv.padding if padding is None else padding,
                   conv.dilation, conv.groups, relu, relu6)

    def ungrouped(self) -> 'FusedConv2d':
        """The same conv with ``groups=1``: a block-diagonal weight
        (C_out, C_in, k, k), zero between groups.

        For convs with few outputs per group (region selection: 4), ONNX
        Runtime's grouped conv (im2col and a thin GEMM per group) is 1.2-2x
        slower than the dense one; oneDNN runs both alike.
        """
        c_out, c_in_group = self.weight.shape[:2]
        out_group = c_out // self.groups
        weight = self.weight.new_zeros(c_out, c_in_group * self.groups,
                                       *self.weight.shape[2:])
        for g in range(self.groups):
            weight[g * out_group:(g + 1) * out_group,
                   g * c_in_group:(g + 1) * c_in_group] = \
                self.weight[g * out_group:(g + 1) * out_group]
        return FusedConv2d(weight, self.bias, self.stride, self.padding,
                           self.dilation, 1, self.relu, self.relu6)

    def group_slices(self, groups: int) -> List['FusedConv2d']:
        """The conv of each of ``groups`` equal channel groups (inputs and
        outputs split alike), as G convs of ``self.groups / G`` groups."""
        if self.groups % groups:
            raise ValueError(f'Cannot split a conv of {self.groups} groups '
                             f'into {groups} channel groups.')
        size = self.out_channels // groups
        return [
            FusedConv2d(self.weight[g * size:(g + 1) * size],
                        self.bias[g * size:(g + 1) * size], self.stride,
                        self.padding, self.dilation, self.groups // groups,
                        self.relu, self.relu6) for g in range(groups)
        ]

    @property
    def out_channels(self) -> int:
        return self.weight.shape[0]

    def _use_onednn(self, x: Tensor) -> bool:
        return (x.device.type == 'cpu' and x.dtype == torch.float32
                and torch.backends.mkldnn.is_available()
                and not torch.is_grad_enabled()
                and not torch.jit.is_tracing())

    def packed_weight(self, input_shape: torch.Size) -> Tensor:
        """The weight reordered into the oneDNN layout that the conv picks
        for inputs of ``input_shape`` at the current thread count, packed
        once per (shape, threads).

        Packing without the input shape may pick another layout, which
        oneDNN then reorders on every call (20 ms on a 1024 -> 512 1x1
        conv at 14x14). The layout also depends on the thread count: a
        ResNet-50 packed at 2 threads runs at 151 ms on 1 thread instead of
        83 ms, and one packed at 1 thread at 79 ms on 2 threads instead of
        43 ms.
        """
        key = (tuple(input_shape), torch.get_num_threads())
        packed = self._packed.get(key)
        if packed is None:
            packed = torch.ops.mkldnn._reorder_convolution_weight(
                self.weight, list(self.padding), list(self.stride),
                list(self.dilation), self.groups, list(input_shape))
            if len(self._packed) >= MAX_PACKED_WEIGHTS:
                self._packed.popitem(last=False)
            self._packed[key] = packed
        return packed

    def _apply(self, fn, *args, **kwargs):
        # A device or dtype change invalidates the packed weights.
        self._packed.clear()
        return super()._apply(fn, *args, **kwargs)

    def __getstate__(self) -> dict:
        # Packed weights are opaque oneDNN tensors that cannot be pickled
        # (to another process, or by deepcopy); they are packed again on
        # first use.
        state = super().__getstate__()
        return dict(state, _packed=OrderedDict())

    def forward(self,
                x: Tensor,
                residual: Optional[Tensor] = None,
                reuse_residual: bool = False) -> Tensor:
        """Convolve x (N, C_in, H, W); ``residual`` is (N, C_out, H', W').

        With ``reuse_residual`` oneDNN may add the conv output onto the
        residual in place and return it: on large maps 7-30% faster here
        than writing a fresh output (a 64 -> 256 1x1 conv at 200x336: 21
        against 29 ms), so pass it for a residual that nothing reads
        afterwards.

        Returns a channels-last (N, C_out, H', W') tensor.
        """
        x = x.contiguous(memory_format=CHANNELS_LAST)
        if self._use_onednn(x):
            attr, scalars = 'none', [None]
            if self.relu:
                attr = 'relu'
            elif self.relu6:
                attr, scalars = 'hardtanh', [0.0, 6.0]
            args = (self.packed_weight(x.shape), self.bias, list(self.padding),
                    list(self.stride), list(self.dilation), self.groups)
            if residual is None:
                return torch.ops.mkldnn._convolution_pointwise(
                    x, *args, attr, scalars, None)
            residual = residual.contiguous(memory_format=CHANNELS_LAST)
            # After an add oneDNN fuses ReLU only; ReLU6 runs in place.
            unary = 'relu' if self.relu else None
            if reuse_residual:
                out = torch.ops.mkldnn._convolution_pointwise_(
                    residual, x, *args, 'add', None, unary, [None], None)
            else:
                out = torch.ops.mkldnn._convolution_pointwise(
                    x, residual, *args, 'add', None, unary, [None], None)
            return out.clamp_(0, 6) if self.relu6 else out
        out = F.conv2d(x, self.weight, self.bias, self.stride, self.padding,
                       self.dilation, self.groups)
        if residual is not None:
            out = out + residual
        return self.activate(out)

    def activate(self, out: Tensor) -> Tensor:
        """The epilogue's activation (ReLU, ReLU6 or none) on ``out``, for
        the paths that do not run it inside oneDNN."""
        if self.relu6:
            return out.clamp(0, 6)
        return torch.relu(out) if self.relu else out

    def extra_repr(self) -> str:
        c_out, c_in, kh, kw = self.weight.shape
        return (f'{c_in * self.groups}, {c_out}, kernel_size=({kh}, {kw}), '
                f'stride={self.stride}, padding={self.padding}, '
                f'dilation={self.dilation}, groups={self.groups}, '
                f'relu={self.relu}, relu6={self.relu6}')


class RowLinear(nn.Module):
    """A 1x1, stride-1, ungrouped :class:`FusedConv2d` on rows: ``act(rows @
    W + b)``, [M, C_in] -> [M, C_out], so that channels-last pixels need no
    layout change around it. In eager mode it runs the oneDNN conv on the
    rows viewed as a channels-last (1, C_in, M, 1) map (1.2-2x faster here
    than a GEMM call on narrow outputs); traced for export it is one ONNX
    ``Gemm``.

    Args:
        conv (FusedConv2d): The 1x1 conv, weight (C_out, C_in, 1, 1).
    """

    def __init__(self, conv: FusedConv2d):
        super().__init__()
        c_out, c_in, kh, kw = conv.weight.shape
        if (kh, kw) != (1, 1) or conv.groups != 1 or conv.stride != (1, 1):
            raise ValueError('RowLinear takes an ungrouped stride-1 1x1 conv, '
                             f'got {conv.extra_repr()}')
        self.conv = conv
        self.register_buffer('matrix', conv.weight.reshape(c_out, c_in).t()
                             .contiguous())

    def forward(self, rows: Tensor) -> Tensor:
        if not torch.jit.is_tracing():
            return self.conv(rows.t()[None, :, :, None])[0, :, :, 0].t()
        return self.conv.activate(
            torch.addmm(self.conv.bias, rows, self.matrix))
