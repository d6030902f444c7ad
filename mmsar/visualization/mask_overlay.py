"""Overlays of the patches that SAR refines (Figs. 6 and 7 of the paper).

Selected cells are shown at full brightness and the rest of the image is
dimmed; one row per refine block, one column per channel group, after the
input image.
"""
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.visualization import Visualizer

from mmsar.models.utils.mask_record import MaskRecord
from mmsar.utils.patch_grid import cell_index

DIM_ALPHA = 0.65
GAP = 4  # pixels between panels
MIN_PANEL_SIZE = 192  # smaller images are enlarged (nearest) to this


def default_block_names(records: Sequence[MaskRecord]) -> List[str]:
    """Names of the first refine block of every SAR stage."""
    return [r.name for r in records if r.block == 0]


def select_records(records: Sequence[MaskRecord],
                   names: Optional[Sequence[str]]) -> List[MaskRecord]:
    """The records called ``names`` (e.g. ``stage0.block1``), in that order;
    the first block of each stage when ``names`` is None."""
    by_name = {r.name: r for r in records}
    names = default_block_names(records) if names is None else names
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f'unknown refine block(s) {", ".join(unknown)}; '
                         f'the model has {", ".join(by_name)}')
    return [by_name[n] for n in names]


def feature_stride(input_size: int, feature_size: int) -> int:
    """Stride of a feature map: input / feature size rounded to a power of
    two (padding makes the input up to one stride larger)."""
    return 2**round(math.log2(input_size / feature_size))


def image_masks(record: MaskRecord, index: int, input_size: Tuple[int, int],
                image_size: Tuple[int, int]) -> np.ndarray:
    """Masks of sample ``index`` of ``record`` on the image's pixels.

    Args:
        record (MaskRecord): Masks (N, G, K, K) over a (h, w) feature map.
        index (int): Sample in the batch.
        input_size (Tuple[int, int]): (H, W) of the (padded) network input.
        image_size (Tuple[int, int]): (H', W') of the image at network
            resolution, its top-left corner at the input's.

    Returns:
        np.ndarray: Boolean masks of shape (G, H', W').
    """
    masks = record.masks[index].detach().cpu() > 0.5
    axes = []
    for axis in (0, 1):
        size = record.feature_size[axis]
        stride = feature_stride(input_size[axis], size)
        rows = (torch.arange(image_size[axis]) // stride).clamp(max=size - 1)
        axes.append(cell_index(size, masks.shape[-2 + axis])[rows])
    return masks[:, axes[0]][:, :, axes[1]].numpy()


def draw_panel(visualizer: Visualizer, image: np.ndarray,
               mask: Optional[np.ndarray], label: str) -> np.ndarray:
    """The image with the unselected area dimmed and a label, (H, W, 3).

    Args:
        visualizer (Visualizer): Any mmengine visualizer (its image is
            replaced).
        image (np.ndarray): RGB image of shape (H, W, 3), uint8.
        mask (np.ndarray, optional): Selected pixels, (H, W) bool; None
            draws the image alone.
        label (str): Text in the top-left corner.
    """
    visualizer.set_image(image)
    if mask is not None and not mask.all():
        visualizer.draw_binary_masks(~mask, colors='black', alphas=DIM_ALPHA)
    visualizer.draw_texts(label,
                          positions=np.array([2, 2]),
                          font_sizes=max(7, image.shape[0] // 16),
                          colors='white',
                          bboxes=dict(facecolor='black',
                                      alpha=0.6,
                                      pad=1,
                                      edgecolor='none'))
    return visualizer.get_image()


def _enlarge(image: np.ndarray, masks: np.ndarray,
             min_size: int) -> Tuple[np.ndarray, np.ndarray]:
    """Repeat pixels of an image (H, W, 3) and its masks (G, H, W) an
    integer number of times so that the shorter side reaches ``min_size``."""
    factor = max(1, math.ceil(min_size / min(image.shape[:2])))
    if factor == 1:
        return image, masks
    image = image.repeat(factor, axis=0).repeat(factor, axis=1)
    masks = masks.repeat(factor, axis=1).repeat(factor, axis=2)
    return image, masks


def _tile(rows: List[List[np.ndarray]]) -> np.ndarray:
    """Lay equally sized panels (H, W, 3) out on a white grid."""
    height, width = rows[0][0].shape[:2]
    num_cols = max(len(r) for r in rows)
    canvas = np.full(
        (len(rows) * (height + GAP) - GAP, num_cols * (width + GAP) - GAP, 3),
        255,
        dtype=np.uint8)
    for i, row in enumerate(rows):
        for j, panel in enumerate(row):
            top, left = i * (height + GAP), j * (width + GAP)
            canvas[top:top + height,
                   left:left + width] = panel[:height, :width]
    return canvas


def draw_mask_overlays(visualizer: Visualizer,
                       image: np.ndarray,
                       records: Sequence[MaskRecord],
                       index: int,
                       input_size: Tuple[int, int],
                       groups: Optional[Sequence[int]] = None,
                       min_size: int = MIN_PANEL_SIZE) -> np.ndarray:
    """Overlays of the selected patches of several refine blocks.

    Args:
        visualizer (Visualizer): Draws the panels.
        image (np.ndarray): RGB image (H, W, 3), uint8, at network
            resolution (before padding).
        records (Sequence[MaskRecord]): Refine blocks to draw, one row each.
        index (int): Sample of the records that ``image`` is.
        input_size (Tuple[int, int]): (H, W) of the padded network input.
        groups (Sequence[int], optional): Channel groups to draw, one column
            each. Default: all.
        min_size (int): Panels of smaller images are enlarged to this.

    Returns:
        np.ndarray: The tiled figure, RGB uint8.
    """
    rows = []
    for record in records:
        masks = image_masks(record, index, input_size, image.shape[:2])
        panel_image, masks = _enlarge(image, masks, min_size)
        chosen = range(len(masks)) if groups is None else groups
        row = [draw_panel(visualizer, panel_image, None, record.name)]
        for g in chosen:
            if not 0 <= g < len(masks):
                raise ValueError(f'group {g} out of range: {record.name} has '
                                 f'{len(masks)} groups')
            rate = record.masks[index, g].float().mean().item()
            row.append(
                draw_panel(visualizer, panel_image, masks[g],
                           f'group {g}: {rate:.0%} on'))
        rows.append(row)
    return _tile(rows)
