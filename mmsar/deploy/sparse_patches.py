"""Index tables that gather the selected patches of a refine block.

The patch-sparse path keeps feature maps channels-last and views them as
rows: a map (N, C, H, W) is the matrix ``[N * H * W * G, C / G]`` whose row
``(n * H * W + pixel) * G + g`` holds channel group g of one pixel. Each of
the G channel groups has its own masks, so each is computed on its own
batch of patches, exactly the cells it selects (over all samples): its
patches are one ``index_select`` of its rows, its 1x1 convs GEMMs on them
and its result one ``index_add_`` back. Keeping a group's patches as rows
saves the layout changes around every conv that a grouped conv over
channel-interleaved patches would need.

Cells are those of :mod:`mmsar.utils.patch_grid`. Every patch has
the size of the largest cell (``ceil(H / K) x ceil(W / K)``); for smaller
cells the extra pixels are computed but never land in the output (they
add zeros, or go to a *trash* row past the end of a buffer). 3x3 convs read
a 1-pixel halo around every patch from a zero-padded buffer that holds
exactly the group's selected values, so halos see zeros wherever the
masked forward does; a stride-2 3x3 conv reads the (2 p_h + 1) x
(2 p_w + 1) window of each output patch from the buffer of its input map,
whatever the input cells.
"""
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator, List, NamedTuple, Optional, Tuple

import torch
from torch import Tensor

from ..utils.args import check_choice
from ..utils.patch_grid import cell_bounds
from ..utils.tracing import static_shape

# How a traced refine block adds its residual rows onto the shortcut map:
# 'add', one ScatterND with reduction 'add' (fastest in ONNX Runtime), or
# 'update', a Gather of the shortcut rows, an Add and a ScatterND without
# reduction (OpenVINO runs the reduction in bf16 several times slower).
RESIDUAL_SCATTERS = ('add', 'update')
_traced_residual_scatter = ['add']


@contextmanager
def traced_residual_scatter(kind: str) -> Iterator[None]:
    """Within this context, traced refine blocks add their residuals by
    ``kind`` (one of :data:`RESIDUAL_SCATTERS`); eager mode is unchanged."""
    check_choice('residual scatter', kind, RESIDUAL_SCATTERS)
    previous = _traced_residual_scatter[0]
    _traced_residual_scatter[0] = kind
    try:
        yield
    finally:
        _traced_residual_scatter[0] = previous


class PatchGeometry:
    """Per-cell pixel tables of a K x K grid over an H x W map (built once).

    Attributes:
        patch_size (tuple[int, int]): (p_h, p_w), the largest cell.
        padded_size (tuple[int, int]): (H_p, W_p) of the zero-padded buffer
            (1-pixel border plus room for patches that overhang the map).
        full (bool): Every cell has the patch size.
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

        # Every cell has the patch size: no pixel of a patch is discarded.
        self.full = bool((r_in.all() & c_in.all()).item())
        self.nonempty = ((stops_r > starts_r)[:, None]
                         & (stops_c > starts_c)[None, :]).flatten().to(device)
        self.core = core.reshape(shape).to(device)
        self.core_padded = core_padded.reshape(shape).to(device)
        self.halo_padded = halo.reshape(grid * grid, -1).to(device)
        self._row_tables = {}

    def row_tables(self, n: int, groups: int) -> tuple:
        """Row tables of every entry ``sample * K * K + cell`` of a batch of
        ``n`` maps, built once. Returns the tables of a :class:`GroupPlan`
        but ``entries``, each (N * K * K, pixels): ``rows`` (in the map view
        of group 0; group g adds g), ``keep`` (None when the cells are
        full), ``padded_rows`` and ``halo_rows``.
        """
        key = (n, groups)
        if key not in self._row_tables:
            height, width = self.size
            h_p, w_p = self.padded_size
            # Out-of-cell pixels read (and add zeros to) pixel 0.
            rows = entry_rows(self.core, n, height * width, 0) * groups
            keep = None if self.full else (
                entry_rows(self.core, n, 0, -1) >= 0).float()
            self._row_tables[key] = (
                rows, keep,
                entry_rows(self.core_padded, n, h_p * w_p, n * h_p * w_p),
                entry_rows(self.halo_padded, n, h_p * w_p, 0))
        return self._row_tables[key]

    def strided_windows(self, source: 'PatchGeometry', n: int) -> Tensor:
        """Rows, in the padded buffer of ``source`` (the input of a
        stride-2 3x3 conv whose output these cells tile), of the
        (2 p_h + 1) x (2 p_w + 1) input window of every entry, built once:
        output pixel (r, c) reads padded rows 2r..2r + 2 and columns
        2c..2c + 2. Pixels past the buffer, which only the out-of-cell
        pixels of a patch read, read row 0 (a zero of the border).

        Returns:
            Tensor: (N * K * K, (2 p_h + 1) * (2 p_w + 1)).
        """
        key = ('windows', source.size, n)
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
                    self.core.device), n, h_p * w_p, 0)
        return self._row_tables[key]


def entry_rows(pixels: Tensor, n: int, sample_stride: int,
               fill: int) -> Tensor:
    """Rows ``sample * sample_stride + pixel`` of every entry (sample, cell)
    for per-cell pixel tables (K * K, P); ``fill`` where a pixel is -1.

    Returns:
        Tensor: (N * K * K, P).
    """
    sample = torch.arange(n, device=pixels.device)[:, None, None]
    table = pixels[None]  # (1, K * K, P)
    flat = torch.where(table >= 0, table + sample * sample_stride, fill)
    return flat.reshape(-1, pixels.shape[1])


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


class GroupPlan(NamedTuple):
    """Row tables of the patches of one channel group in one forward pass.

    Each table is flat in (patch, pixel) order, so the ``[S * P, C / G]``
    matrix it gathers is a channels-last (S, C / G, p_h, p_w) batch of
    patches. S, the number of cells the group selects over the batch, is
    data-dependent: it is read from the tables' lengths, never as a Python
    number, so that an exported graph keeps it dynamic (and may be 0).
    Rows index the ``[rows, C / G]`` views of the module docstring.

    Attributes:
        rows (Tensor): Rows of the patch pixels in the (N, H, W) map, read
            by the gather and written by the scatter-add; out-of-cell
            pixels point at pixel 0 and must add zeros (see ``keep``).
        keep (Tensor, optional): Float (S * P, 1), 0 for out-of-cell
            pixels; None when every cell is full.
        padded_rows (Tensor): Rows in the group's zero-padded buffer
            (N, H_p, W_p); out-of-cell pixels write the trash row
            ``N * H_p * W_p``.
        halo_rows (Tensor): Rows of the haloed patches in that buffer.
        entries (Tensor): (S, ) entry ``sample * K * K + cell`` of each
            patch, to read other per-entry tables.
    """

    rows: Tensor
    keep: Optional[Tensor]
    padded_rows: Tensor
    halo_rows: Tensor
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
            written values do not matter (a trash row) or are added.
        rows (Tensor): (M, ...) values.
        accumulate (bool): Add ``rows`` instead of writing them.
    """
    if torch.jit.is_tracing():
        return _PutRows.apply(buffer, index, rows, accumulate)
    if accumulate:
        return buffer.index_add_(0, index, rows)
    return buffer.index_copy_(0, index, rows)


def add_rows(buffer: Tensor,
             updates: List[Tuple[Tensor, Tensor, Optional[Tensor]]]) -> Tensor:
    """``buffer[index] += rows * keep`` along dim 0 for every ``(index, rows,
    keep)`` of ``updates``: (M_i, ), (M_i, ...) and (M_i, 1) or None, where
    ``keep`` is 0 for rows that must add nothing (their index may repeat).

    In eager mode in place. When traced for export the engines copy the
    whole buffer for every scatter, so all updates become one scatter, of
    the form :func:`traced_residual_scatter` selects: ``'add'``, one
    ScatterND with reduction add; ``'update'``, the kept rows only (so that
    no index repeats), added to a Gather of the buffer and written by a
    ScatterND without reduction.
    """
    if not torch.jit.is_tracing():
        for index, rows, keep in updates:
            if keep is not None:
                rows = rows.mul_(keep)
            buffer.index_add_(0, index, rows)
        return buffer
    scatter_add = _traced_residual_scatter[0] == 'add'
    indices, values = [], []
    for index, rows, keep in updates:
        if keep is not None:
            if scatter_add:
                rows = rows * keep
            else:
                kept = keep[:, 0].nonzero()[:, 0]
                index, rows = index[kept], rows[kept]
        indices.append(index)
        values.append(rows)
    index, rows = ((indices[0], values[0]) if len(indices) == 1 else
                   (torch.cat(indices), torch.cat(values)))
    if scatter_add:
        return _PutRows.apply(buffer, index, rows, True)
    rows = buffer.index_select(0, index) + rows
    return _PutRows.apply(buffer, index, rows, False)


def plan_patches(geometry: PatchGeometry,
                 masks: Tensor) -> List[Optional[GroupPlan]]:
    """:func:`plan_group` of every group of ``masks`` (N, G, K, K)."""
    return [
        plan_group(geometry, masks, group)
        for group in range(static_shape(masks)[1])
    ]


def plan_group(geometry: PatchGeometry, masks: Tensor,
               group: int) -> Optional[GroupPlan]:
    """Row tables of the cells that channel group ``group`` selects.

    Args:
        geometry (PatchGeometry): Cells of the map.
        masks (Tensor): Cell masks (N, G, K, K), 0/1.
        group (int): The channel group.

    Returns:
        GroupPlan or None: None when the group selects no cell (eager mode
        only: a traced plan keeps empty tables instead).
    """
    n, groups = static_shape(masks)[:2]
    selected = (masks[:, group].reshape(-1, geometry.grid**2) > 0) \
        & geometry.nonempty
    entries = selected.reshape(-1).nonzero()[:, 0]
    if not torch.jit.is_tracing() and entries.numel() == 0:
        return None
    rows, keep, padded_rows, halo_rows = geometry.row_tables(n, groups)
    return GroupPlan(
        rows=entry_table(rows, entries) + group,
        keep=None if keep is None else entry_table(keep, entries)[:, None],
        padded_rows=entry_table(padded_rows, entries),
        halo_rows=entry_table(halo_rows, entries),
        entries=entries)


def entry_table(table: Tensor, entries: Tensor) -> Tensor:
    """Per-entry rows (N * K * K, P) of ``entries`` (S, ), flat (S * P, )."""
    return table.index_select(0, entries).reshape(-1)
