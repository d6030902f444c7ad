"""Fusion of the two SAR branches without materialising the upsampling."""
import torch
import torch.nn as nn
from torch import Tensor

from ..utils.tracing import static_shape


def blend_upsampled(base: Tensor,
                    refine: Tensor,
                    weights: Tensor,
                    factor: int,
                    relu: bool = True) -> Tensor:
    """``relu(a * up(base) + (1 - a) * refine)``, channels-last (Eq. 5).

    ``up`` is the nearest upsampling by ``factor`` cropped to the size of
    ``refine`` (:func:`~mmsar.utils.patch_grid.upsample_nearest`). When the
    sizes divide, it is a broadcast view of ``base`` and the blend is one
    multiply-add over a (N, h, f, w, f, C) view of ``refine``. In eager
    mode the result is written over ``refine`` (over its channels-last
    copy if it is not channels-last): on large maps the page faults of a
    fresh tensor cost more than the blend. Inference only.

    Args:
        base (Tensor): (N, C, h, w) with ``h = ceil(H / factor)``.
        refine (Tensor): (N, C, H, W).
        weights (Tensor): a, (N, C, 1, 1).
        factor (int): Upsampling factor, 1 for a dilated base branch.
        relu (bool): Apply the ReLU. Default: True.

    Returns:
        Tensor: Channels-last (N, C, H, W).
    """
    n, c, height, width = static_shape(refine)
    h, w = static_shape(base)[-2:]
    refine = refine.contiguous(memory_format=torch.channels_last)
    base = base.contiguous(memory_format=torch.channels_last)
    refine = refine.permute(0, 2, 3, 1)  # (N, H, W, C)
    base = base.permute(0, 2, 3, 1)[:, :, None, :, None]  # (N, h, 1, w, 1, C)
    weights = weights.reshape(n, 1, 1, 1, 1, c)
    if height == h * factor and width == w * factor:
        refine = refine.reshape(n, h, factor, w, factor, c)
    else:
        base = base.expand(n, h, factor, w, factor, c).reshape(
            n, h * factor, w * factor, c)[:, None, :height, None, :width]
        refine = refine[:, None, :, None]
    # base * a at the base resolution, then one broadcast multiply-add at
    # full resolution (exported as Mul + Add: ONNX has no lerp).
    out = torch.addcmul(
        base * weights,
        refine,
        1 - weights,
        out=None if torch.jit.is_tracing() else refine)
    if relu:
        out = out.relu_()
    return out.reshape(n, height, width, c).permute(0, 3, 1, 2)


class ChannelsLastBlend(nn.Module):
    """:func:`blend_upsampled` as the module that replaces a SAR module's
    ``BranchBlend`` on the patch-sparse path (same arguments)."""

    def __init__(self, factor: int, relu: bool = True):
        super().__init__()
        self.factor = factor
        self.relu = relu

    def forward(self, base: Tensor, refine: Tensor, weights: Tensor) -> Tensor:
        return blend_upsampled(base, refine, weights, self.factor, self.relu)
