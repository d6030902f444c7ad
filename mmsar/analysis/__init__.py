from .flops import (PARTS, Complexity, count_at_rate, count_complexity,
                    dense_counterpart, dense_layer_macs, is_sar_backbone,
                    layer_parts, selected_fraction)

__all__ = [
    'PARTS', 'Complexity', 'count_at_rate', 'count_complexity',
    'dense_counterpart', 'dense_layer_macs', 'is_sar_backbone', 'layer_parts',
    'selected_fraction'
]
