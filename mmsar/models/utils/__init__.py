from .mask_record import MaskRecord
from .sar_backbone import (PARTS, find_sar_backbones, is_sar_backbone,
                           part_of, part_roots)

__all__ = [
    'MaskRecord', 'PARTS', 'find_sar_backbones', 'is_sar_backbone', 'part_of',
    'part_roots'
]
