# Table V: SAR-dil-ResNet50 G2 s2 alpha4, target 0.5.
_base_ = './sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py'
model = dict(backbone=dict(base_dilated=True, base_reduction=4))
