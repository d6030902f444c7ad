"""Adaptive average pooling to the mask grid, exportable at any map size."""
from functools import lru_cache

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from ..utils.tracing import static_shape


@lru_cache(maxsize=64)
def pool_matrix(size: int, grid: int) -> Tensor:
    """(K, size) matrix averaging the rows of each adaptive-pooling bin
    ``[floor(i * size / K), ceil((i + 1) * size / K))``."""
    rows = []
    for i in range(grid):
        start, stop = i * size // grid, -(-(i + 1) * size // grid)
        rows.append([1 / (stop - start) if start <= j < stop else 0.
                     for j in range(size)])
    # From Python lists: a trace records it as one constant.
    return torch.tensor(rows)


class GridPool(nn.Module):
    """``nn.AdaptiveAvgPool2d(grid)`` that also exports when the map size
    is not a multiple of the grid (ONNX has no adaptive pooling): traced,
    it is two MatMuls with constant bin-averaging matrices.

    Args:
        grid (int): K, the output is (N, C, K, K).
    """

    def __init__(self, grid: int):
        super().__init__()
        self.grid = grid

    def forward(self, x: Tensor) -> Tensor:
        """Pool x (N, C, h, w) to (N, C, K, K)."""
        if not torch.jit.is_tracing():
            return F.adaptive_avg_pool2d(x, self.grid)
        height, width = static_shape(x)[2:]
        rows = pool_matrix(height, self.grid).to(x)
        cols = pool_matrix(width, self.grid).to(x)
        return rows @ x @ cols.t()
