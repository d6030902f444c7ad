"""Training components of SAR: the loss hook and its schedules."""
from .sar_loss_hook import SARLossHook, find_sar_backbones, refine_loss
from .schedules import gumbel_temperature, target_rate

__all__ = [
    'SARLossHook', 'find_sar_backbones', 'refine_loss', 'gumbel_temperature',
    'target_rate'
]
