# Table V: SAR-ResNet50 G8 s2 alpha2, target 0.5.
_base_ = './sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py'
model = dict(backbone=dict(mask_groups=8))
