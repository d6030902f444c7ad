from .dense_distill_hook import DenseDistillHook, soft_kl
from .mask_vis_hook import SARMaskVisHook
from .sar_loss_hook import SARLossHook, find_sar_backbones, refine_loss

__all__ = [
    'DenseDistillHook', 'SARLossHook', 'SARMaskVisHook',
    'find_sar_backbones', 'refine_loss', 'soft_kl'
]
