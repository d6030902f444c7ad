"""Index tables that gather the selected patches of a refine block.

The patch-sparse path keeps feature maps channels-last and views them as
rows: a map (N, C, H, W) is the matrix ``[N * H * W * G, C / G]`` whose row
``(n * H * W + pixel) * G + g`` holds channel group g of one pixel. Gathering
patches is one ``index_select`` on that view and scattering them back one
``index_copy_``; the selected patches of every sample and every group are
stacked into *slots*, slot j of group g holding the j-th cell that mask g
selects (over all samples), so one grouped conv processes all of them.

Cells are those of :mod:`mmsar.utils.patch_grid`. Every patch has
the size of the largest cell (``ceil(H / K) x ceil(W / K)``); for smaller
cells the extra pixels are computed but never scattered back (they go to a
*trash* row past the end of the destination). 3x3 convs read a 1-pixel halo
around every patch from a zero-padded buffer that holds exactly the selected
values, so halos see zeros wherever the masked forward does; a stride-2 3x3
conv reads the (2 p_h + 1) x (2 p_w + 1) window of each output patch from
the buffer of its input map, whatever the input cells.
"""
from functools import lru_cache
from typing import NamedTuple, Optional, Tuple

import torch
from torch import Tensor

from ..utils.patch_grid import cell_bounds
from ..utils.tracing import static_shape


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
        self._row_tables = {}

    def row_tables(self, n: int, groups: int) -> tuple:
        """Row tables of every entry of a batch of ``n`` maps, built once.

        Entry ``(sample * K * K + cell) * G + group`` lists the rows of its
        patch pixels; one more entry at the end is the dummy. Returns the
        tables of a :class:`PatchPlan` (but ``entries``; ``gather`` and
        ``scatter`` are one table), each (N * K * K * G + 1, pixels).
        """
        key = (n, groups)
        if key not in self._row_tables:
            height, width = self.size
            h_p, w_p = self.padded_size
            self._row_tables[key] = (
                entry_rows(self.core, n, groups, height * width, 0),
                # -1 marks out-of-cell pixels and the dummy.
                (entry_rows(self.core, n, groups, 0, -1) >= 0).float(),
                entry_rows(self.core_padded, n, groups, h_p * w_p,
                           n * h_p * w_p * groups),
                entry_rows(self.halo_padded, n, groups, h_p * w_p, 0))
        return self._row_tables[key]

    def strided_windows(self, source: 'PatchGeometry', n: int,
                        groups: int) -> Tensor:
        """Rows, in the padded buffer of ``source`` (the input of a
        stride-2 3x3 conv whose output these cells tile), of the
        (2 p_h + 1) x (2 p_w + 1) input window of every entry, built once:
        output pixel (r, c) reads padded rows 2r..2r + 2 and columns
        2c..2c + 2. Pixels past the buffer, which only the out-of-cell
        pixels of a patch read, read row 0 (a zero of the border).

        Returns:
            Tensor: (N * K * K * G + 1, (2 p_h + 1) * (2 p_w + 1)).
        """
        key = ('windows', source.size, n, groups)
        if key not in self._row_tables:
            (p_h, p_w), (h_p, w_p) = self.patch_size, source.padded_size
            starts = [
                torch.tensor([2 * start for start, _ in cell_bounds(
                    size, self.grid)]) for size in self.size
            ]
            r = starts[0][:, None] + torch.arange(2 * p_h + 1)
            c = starts[1][:, None] + torch.arange(2 * p_w + 1)
            r4, c4 = r[:, None, :, None], c[None, :, None, :]
            pixels = torch.where((r4 < h_p) & (c4 < w_p), r4 * w_p + c4, 0)
            self._row_tables[key] = entry_rows(
                pixels.reshape(self.grid * self.grid, -1).to(
                    self.core.device), n, groups, h_p * w_p, 0)
        return self._row_tables[key]


def entry_rows(pixels: Tensor, n: int, groups: int, sample_stride: int,
               fill: int) -> Tensor:
    """Rows ``(sample * sample_stride + pixel) * G + group`` of every entry
    (sample, cell, group) for per-cell pixel tables (K * K, P), plus the
    dummy entry; ``fill`` where a pixel is -1 and for the dummy.

    Returns:
        Tensor: (N * K * K * G + 1, P).
    """
    device = pixels.device
    sample = torch.arange(n, device=device)[:, None, None, None]
    group = torch.arange(groups, device=device)[:, None]
    table = pixels[None, :, None]  # (1, K * K, 1, P)
    flat = (table + sample * sample_stride) * groups + group
    flat = torch.where(table >= 0, flat, fill).reshape(-1, pixels.shape[1])
    return torch.cat([flat, torch.full_like(flat[:1], fill)])


def patch_geometry(height: int, width: int, grid: int,
                   device: torch.device) -> PatchGeometry:
    """The cached :class:`PatchGeometry` of one map size and grid.

    Sizes are read as Python numbers (a trace sees them as tensors): an
    exported graph holds the tables of one map size as constants.
    """
    return _cached_geometry(int(height), int(width), int(grid), device)


@lru_cache(maxsize=64)
def _cached_geometry(height: int, width: int, grid: int,
                     device: torch.device) -> PatchGeometry:
    return PatchGeometry(height, width, grid, device)


class PatchPlan(NamedTuple):
    """Row tables of the selected patches of one forward pass.

    All tables are flat tensors ordered (slot, patch pixel, group), so a
    gathered ``[S * P * G, C / G]`` matrix is a channels-last
    (S, C, p_h, p_w) batch of patches. S, the most cells any group selects
    over the batch, is data-dependent: it is read from the tables' lengths,
    never as a Python number, so that an exported graph keeps it dynamic.
    Groups with fewer cells fill their slots with dummies. Rows index the
    ``[rows, C / G]`` views described in the module docstring.

    Attributes:
        gather (Tensor): Source rows in the (N, H, W) map; dummies and
            out-of-cell pixels read row 0.
        scatter (Tensor): Destination rows in the (N, H, W) map for a
            scatter-add; dummies and out-of-cell pixels point at row 0 and
            must add zeros (see ``keep``).
        keep (Tensor): Float, 1 for the rows that ``scatter`` writes, 0 for
            dummies and out-of-cell pixels.
        scatter_padded (Tensor): Destination rows in the padded buffer
            (N, H_p, W_p), trash row ``N * H_p * W_p * G``.
        gather_halo (Tensor): Source rows of the haloed patches in the
            padded buffer; dummies read row 0 (a zero of the border).
        entries (Tensor): (S, G) entry of each slot and group (the dummy
            for empty slots), to order other per-entry tables
            (:func:`slot_rows`).
    """

    gather: Tensor
    scatter: Tensor
    keep: Tensor
    scatter_padded: Tensor
    gather_halo: Tensor
    entries: Tensor


class _PutRows(torch.autograd.Function):
    """``buffer.index_put((index, ), rows, accumulate)``, exported as one
    ScatterND (with ``reduction='add'`` to accumulate)."""

    @staticmethod
    def forward(ctx, buffer: Tensor, index: Tensor, rows: Tensor,
                accumulate: bool) -> Tensor:
        return buffer.index_put((index, ), rows, accumulate)

    @staticmethod
    def symbolic(g, buffer, index, rows, accumulate):
        last = g.op('Constant', value_t=torch.tensor([1]))
        reduction = dict(reduction_s='add') if accumulate else {}
        return g.op('ScatterND', buffer, g.op('Unsqueeze', index, last), rows,
                    **reduction)


def put_rows(buffer: Tensor,
             index: Tensor,
             rows: Tensor,
             accumulate: bool = False) -> Tensor:
    """``buffer[index] = rows`` (or ``+=``) along dim 0: in place in eager
    mode, into a new tensor (one ONNX ScatterND) when traced for export.

    Args:
        buffer (Tensor): (R, ...) destination.
        index (Tensor): (M, ) rows of ``buffer``; repeats only where the
            written values do not matter (a trash row).
        rows (Tensor): (M, ...) values.
        accumulate (bool): Add ``rows`` instead of writing them.
    """
    if torch.jit.is_tracing():
        return _PutRows.apply(buffer, index, rows, accumulate)
    if accumulate:
        return buffer.index_add_(0, index, rows)
    return buffer.index_copy_(0, index, rows)


class _TopK(torch.autograd.Function):
    """``scores.topk(k, 1)`` with ``k`` a 0-dim tensor, exported as one
    ONNX TopK whose K is computed in the graph (the traced ``topk`` would
    record the example's k as a constant)."""

    @staticmethod
    def forward(ctx, scores: Tensor, k: Tensor) -> Tuple[Tensor, Tensor]:
        return scores.topk(int(k), 1)

    @staticmethod
    def symbolic(g, scores, k):
        shape = g.op('Constant', value_t=torch.tensor([1]))
        return g.op('TopK', scores, g.op('Reshape', k, shape), axis_i=1,
                    largest_i=1, sorted_i=1, outputs=2)


def assign_slots(selected: Tensor) -> Tuple[Tensor, Tensor]:
    """Stack the selected entries of every group into slots.

    One top-k over scores that rank the selected entries first, in order
    (``L - l`` for entry l, 0 when not selected), with k = the largest count
    of any group: no Python number is read from the data when traced, so
    the exported graph stays dynamic (a handful of ops).

    Args:
        selected (Tensor): Bool (G, L), entry l of group g selected.

    Returns:
        tuple[Tensor, Tensor]: ``entry`` (S, G), the index l of the j-th
        entry that group g selects (arbitrary for a dummy), and ``valid``
        (S, G), False for dummies; S = the largest count of any group, at
        least 1.
    """
    length = static_shape(selected)[1]
    ranks = torch.arange(length, 0, -1, device=selected.device)
    scores = selected.long() * ranks
    # At least one slot: OpenVINO's TopK mishandles k = 0.
    slots = selected.sum(1).max().clamp(min=1)
    values, entry = _TopK.apply(scores, slots)
    return entry.t(), values.t() > 0


def plan_patches(geometry: PatchGeometry,
                 masks: Tensor) -> Optional[PatchPlan]:
    """Row tables of the cells that ``masks`` selects.

    Args:
        geometry (PatchGeometry): Cells of the map.
        masks (Tensor): Cell masks (N, G, K, K), 0/1.

    Returns:
        PatchPlan or None: None when no group selects any cell (eager mode
        only: a traced plan keeps empty tables instead).
    """
    n, groups = static_shape(masks)[:2]
    cells = geometry.grid * geometry.grid
    # (G, N * K * K): which (sample, cell) each group computes.
    selected = (masks.reshape(n, groups, cells) > 0) & geometry.nonempty
    selected = selected.transpose(0, 1).reshape(groups, n * cells)
    if not torch.jit.is_tracing() and not selected.any():
        return None
    entry, valid = assign_slots(selected)
    group = torch.arange(groups, device=masks.device)
    index = torch.where(valid, entry * groups + group, n * cells * groups)
    core, keep, scatter_padded, gather_halo = (
        slot_rows(table, index) for table in geometry.row_tables(n, groups))
    # Patches are gathered from and scattered to the same rows.
    return PatchPlan(core, core, keep, scatter_padded, gather_halo,
                     entries=index)


def slot_rows(table: Tensor, entries: Tensor) -> Tensor:
    """Per-entry rows (N * K * K * G + 1, P) of the slots' entries (S, G),
    flat in (slot, pixel, group) order."""
    return table[entries].transpose(1, 2).reshape(-1)
