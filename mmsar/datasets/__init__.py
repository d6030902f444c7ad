from .toy_data import (TOY_CLASSES, TOY_PALETTE, TOY_SEG_CLASSES,
                       TOY_SEG_PALETTE, ToyDataError, check_toy_data,
                       ensure_toy_data, find_toy_roots, generate_toy_data)

__all__ = [
    'TOY_CLASSES', 'TOY_PALETTE', 'TOY_SEG_CLASSES', 'TOY_SEG_PALETTE',
    'ToyDataError', 'check_toy_data', 'ensure_toy_data', 'find_toy_roots',
    'generate_toy_data'
]
