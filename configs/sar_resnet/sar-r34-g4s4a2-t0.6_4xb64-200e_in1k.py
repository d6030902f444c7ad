# Table V: SAR-ResNet34 G4 s4 alpha2, target 0.6.
_base_ = './sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py'
model = dict(
    backbone=dict(depth=34, mask_groups=4, base_stride=4),
    head=dict(in_channels=512))
custom_hooks = [dict(type='SARLossHook', target_rate=0.6, loss_weight=0.5)]
