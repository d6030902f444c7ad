# Table V: SAR-ResNet50 G4 s2 alpha2, target 0.7.
_base_ = './sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py'
model = dict(backbone=dict(mask_groups=4))
custom_hooks = [dict(type='SARLossHook', target_rate=0.7, loss_weight=0.5)]
