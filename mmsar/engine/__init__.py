"""Training components of SAR: hooks and the schedules they run."""
from .hooks import (DenseDistillHook, SARLossHook, SARMaskVisHook, find_sar_backbones,
                    refine_loss)
from .schedules import gumbel_temperature, mask_noise_scale, target_rate

__all__ = [
    'DenseDistillHook', 'SARLossHook', 'SARMaskVisHook', 'find_sar_backbones', 'refine_loss',
    'gumbel_temperature', 'mask_noise_scale', 'target_rate'
]
