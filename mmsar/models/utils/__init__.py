from .dense_to_sar import (ConversionError, convert_dense_to_sar,
                           load_dense_weights)
from .mask_record import MaskRecord
from .sar_backbone import (PARTS, find_sar_backbones, is_sar_backbone,
                           part_of, part_roots)

__all__ = [
    'ConversionError', 'convert_dense_to_sar', 'load_dense_weights',
    'MaskRecord', 'PARTS', 'find_sar_backbones', 'is_sar_backbone', 'part_of',
    'part_roots'
]
