from .mask_vis_hook import SARMaskVisHook
from .sar_loss_hook import SARLossHook, find_sar_backbones, refine_loss

__all__ = [
    'SARLossHook', 'SARMaskVisHook', 'find_sar_backbones', 'refine_loss'
]
