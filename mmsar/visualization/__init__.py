from .histogram import plot_complexity_histogram
from .mask_overlay import (default_block_names, draw_mask_overlays, draw_panel,
                           feature_stride, image_masks, select_records)

__all__ = [
    'plot_complexity_histogram', 'default_block_names', 'draw_mask_overlays',
    'draw_panel', 'feature_stride', 'image_masks', 'select_records'
]
