from .histogram import plot_complexity_histogram
from .latency_plot import plot_ratios
from .mask_overlay import (default_block_names, draw_mask_overlays, draw_panel,
                           feature_stride, image_masks, select_records)

__all__ = [
    'plot_complexity_histogram', 'plot_ratios', 'default_block_names',
    'draw_mask_overlays', 'draw_panel', 'feature_stride', 'image_masks',
    'select_records'
]
