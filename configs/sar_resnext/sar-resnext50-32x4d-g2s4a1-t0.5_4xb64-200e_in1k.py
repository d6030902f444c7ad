# Table VII: SAR-ResNeXt50 32x4d G2 s4 alpha1 beta1, target 0.5.
_base_ = './sar-resnext50-32x4d-g2s2a1-t0.5_4xb64-200e_in1k.py'
model = dict(backbone=dict(base_stride=4))
