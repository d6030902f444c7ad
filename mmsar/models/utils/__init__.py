from .mask_record import MaskRecord

__all__ = ['MaskRecord']
