"""Index tables that gather the selected patches of a refine block.

The patch-sparse path keeps feature maps channels-last and views them as
rows: a map (N, C, H, W) is the matrix ``[N * H * W * G, C / G]`` whose row
``(n * H * W + pixel) * G + g`` holds channel group g of one pixel. Gathering
patches is one ``index_select`` on that view and scattering them back one
``index_copy_``; the selected patches of every sample and every group are
stacked into *slots*, slot j of group g holding the j-th cell that mask g
selects (over all samples), so one grouped conv processes all of them.

Cells are those of :mod:`patch_grid`. Every patch has the size of the
largest cell (``ceil(H / K) x ceil(W / K)``); for smaller cells the extra
pixels are computed but never scattered back (they go to a *trash* row past
the end of the destination). 3x3 convs read a 1-pixel halo around every
patch from a zero-padded buffer that holds exactly the selected values, so
halos see zeros wherever the masked forward does.
"""
from functools import lru_cache
from typing import NamedTuple, Optional

import torch
from torch import Tensor

from .patch_grid import cell_bounds


class PatchGeometry:
    """Per-cell pixel tables of a K x K grid over an H x W map (built once).

    Attributes:
        patch_size (tuple[int, int]): (p_h, p_w), the largest cell.
        padded_size (tuple[int, int]): (H_p, W_p) of the zero-padded buffer
            (1-pixel border plus room for patches that overhang the map).
        nonempty (Tensor): Bool (K * K, ), cells with at least one pixel.
        core (Tensor): (K * K, p_h * p_w) pixel ``r * W + c`` of each patch
            pixel, -1 where the patch pixel lies outside its cell.
        core_padded (Tensor): The same pixels in the padded buffer,
            ``(r + 1) * W_p + c + 1``, -1 outside the cell.
        halo_padded (Tensor): (K * K, (p_h + 2) * (p_w + 2)) the patch with
            its 1-pixel halo in the padded buffer.
    """

    def __init__(self, height: int, width: int, grid: int, device=None):
        self.size = (height, width)
        self.grid = grid
        rows, cols = cell_bounds(height, grid), cell_bounds(width, grid)
        p_h = max(stop - start for start, stop in rows)
        p_w = max(stop - start for start, stop in cols)
        self.patch_size = (p_h, p_w)
        self.padded_size = (max(height, rows[-1][0] + p_h) + 2,
                            max(width, cols[-1][0] + p_w) + 2)
        w_p = self.padded_size[1]

        starts_r = torch.tensor([start for start, _ in rows])
        starts_c = torch.tensor([start for start, _ in cols])
        stops_r = torch.tensor([stop for _, stop in rows])
        stops_c = torch.tensor([stop for _, stop in cols])
        # (K, p) row / column of every patch pixel, and whether it is inside.
        r = starts_r[:, None] + torch.arange(p_h)
        c = starts_c[:, None] + torch.arange(p_w)
        r_in, c_in = r < stops_r[:, None], c < stops_c[:, None]
        # Broadcast to (K_r, K_c, p_h, p_w), then flatten cells and pixels.
        r4, c4 = r[:, None, :, None], c[None, :, None, :]
        inside = (r_in[:, None, :, None] & c_in[None, :, None, :])
        shape = (grid * grid, p_h * p_w)
        core = torch.where(inside, r4 * width + c4, -1)
        core_padded = torch.where(inside, (r4 + 1) * w_p + c4 + 1, -1)
        hr = starts_r[:, None] + torch.arange(p_h + 2)
        hc = starts_c[:, None] + torch.arange(p_w + 2)
        halo = hr[:, None, :, None] * w_p + hc[None, :, None, :]

        self.nonempty = ((stops_r > starts_r)[:, None]
                         & (stops_c > starts_c)[None, :]).flatten().to(device)
        self.core = core.reshape(shape).to(device)
        self.core_padded = core_padded.reshape(shape).to(device)
        self.halo_padded = halo.reshape(grid * grid, -1).to(device)


@lru_cache(maxsize=64)
def patch_geometry(height: int, width: int, grid: int,
                   device: torch.device) -> PatchGeometry:
    """The cached :class:`PatchGeometry` of one map size and grid."""
    return PatchGeometry(height, width, grid, device)


class PatchPlan(NamedTuple):
    """Row tables of the selected patches of one forward pass.

    All tables are flat LongTensors ordered (slot, patch pixel, group), so a
    gathered ``[S * P * G, C / G]`` matrix is a channels-last
    (S, C, p_h, p_w) batch of patches. Rows index the ``[rows, C / G]``
    views described in the module docstring.

    Attributes:
        num_slots (int): S, the most cells any group selects (over the
            batch); groups with fewer cells fill their slots with dummies.
        gather (Tensor): Source rows in the (N, H, W) map; dummies and
            out-of-cell pixels read row 0.
        scatter (Tensor): Destination rows in the (N, H, W) map; dummies
            and out-of-cell pixels go to the trash row ``N * H * W * G``.
        scatter_padded (Tensor): Destination rows in the padded buffer
            (N, H_p, W_p), trash row ``N * H_p * W_p * G``.
        gather_halo (Tensor): Source rows of the haloed patches in the
            padded buffer; dummies read row 0 (a zero of the border).
    """

    num_slots: int
    gather: Tensor
    scatter: Tensor
    scatter_padded: Tensor
    gather_halo: Tensor


def plan_patches(geometry: PatchGeometry, masks: Tensor,
                 need_halo: bool = True) -> Optional[PatchPlan]:
    """Row tables of the cells that ``masks`` selects.

    Args:
        geometry (PatchGeometry): Cells of the map.
        masks (Tensor): Cell masks (N, G, K, K), 0/1.
        need_halo (bool): Build ``scatter_padded`` and ``gather_halo``.

    Returns:
        PatchPlan or None: None when no group selects any cell.
    """
    n, groups = masks.shape[:2]
    cells = geometry.grid * geometry.grid
    height, width = geometry.size
    h_p, w_p = geometry.padded_size
    # (G, N * K * K): which (sample, cell) each group computes.
    selected = (masks.reshape(n, groups, cells) > 0) & geometry.nonempty
    selected = selected.transpose(0, 1).reshape(groups, n * cells)
    counts = selected.sum(1)
    num_slots = int(counts.max())
    if num_slots == 0:
        return None
    order = torch.argsort(
        (~selected).to(torch.uint8), dim=1, stable=True)[:, :num_slots]
    valid = (torch.arange(num_slots, device=masks.device) <
             counts[:, None])[..., None]
    sample, cell = order // cells, order % cells
    group = torch.arange(groups, device=masks.device)[:, None, None]

    def rows(table: Tensor, sample_stride: int, fill: int) -> Tensor:
        pixels = table[cell]  # (G, S, P)
        keep = valid & (pixels >= 0)
        flat = (pixels + (sample * sample_stride)[..., None]) * groups + group
        return torch.where(keep, flat, fill).permute(1, 2, 0).reshape(-1)

    core = geometry.core
    plan = dict(
        num_slots=num_slots,
        gather=rows(core, height * width, 0),
        scatter=rows(core, height * width, n * height * width * groups),
        scatter_padded=None,
        gather_halo=None)
    if need_halo:
        plan['scatter_padded'] = rows(geometry.core_padded, h_p * w_p,
                                      n * h_p * w_p * groups)
        plan['gather_halo'] = rows(geometry.halo_padded, h_p * w_p, 0)
    return PatchPlan(**plan)
