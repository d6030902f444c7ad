"""The K x K grid of patches that region-selection masks are laid on.

A feature map of size H is cut into K cells along each axis; row ``r`` belongs
to cell ``floor(r * K / H)``, so cell ``i`` covers rows
``[ceil(i * H / K), ceil((i + 1) * H / K))``. Cell sizes differ by at most one
pixel when H is not a multiple of K, and some cells are empty when H < K.
The masked (training) forward, the patch-sparse forward and the FLOPs counter
all use these boundaries, so they agree on every input size.
"""
from typing import List, Tuple

import torch
from torch import Tensor


def cell_index(size: int, grid: int, device=None) -> Tensor:
    """Cell of every row (or column): a LongTensor of shape (size,)."""
    return torch.arange(size, device=device) * grid // size


def cell_bounds(size: int, grid: int) -> List[Tuple[int, int]]:
    """``[(start, stop)]`` of the ``grid`` cells along an axis of ``size``."""
    edges = [-(-i * size // grid) for i in range(grid + 1)]  # ceil division
    return list(zip(edges[:-1], edges[1:]))


def upsample_masks(masks: Tensor, size: Tuple[int, int]) -> Tensor:
    """Nearest-upsample cell masks (N, G, K, K) to pixel masks (N, G, H, W)."""
    grid_h, grid_w = masks.shape[-2:]
    rows = cell_index(size[0], grid_h, masks.device)
    cols = cell_index(size[1], grid_w, masks.device)
    return masks[:, :, rows][:, :, :, cols]


def apply_group_masks(x: Tensor, masks: Tensor) -> Tensor:
    """Gate the g-th contiguous channel block of x by pixel mask g.

    Args:
        x (Tensor): Features of shape (N, C, H, W), C divisible by G.
        masks (Tensor): Pixel masks of shape (N, G, H, W).

    Returns:
        Tensor: ``x`` with the unselected positions of each group zeroed.
    """
    n, c, h, w = x.shape
    groups = masks.shape[1]
    gated = x.view(n, groups, c // groups, h, w) * masks.unsqueeze(2)
    return gated.view(n, c, h, w)


def upsample_nearest(x: Tensor, factor: int, size: Tuple[int, int]) -> Tensor:
    """Repeat every pixel ``factor`` times along H and W, then crop to size.

    This is the nearest upsampling that undoes a stride-``factor``
    downsampling (``ceil(H / factor)`` rows back to ``H``).
    """
    if factor == 1:
        return x
    n, c, h, w = x.shape
    up = x[:, :, :, None, :, None].expand(n, c, h, factor, w, factor)
    return up.reshape(n, c, h * factor, w * factor)[:, :, :size[0], :size[1]]
