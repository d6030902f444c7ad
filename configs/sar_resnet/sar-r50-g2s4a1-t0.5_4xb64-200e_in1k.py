# Table V: SAR-ResNet50 G2 s4 alpha1, target 0.5 (the detection backbone of
# Table VIII's second rows).
_base_ = './sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py'
model = dict(backbone=dict(base_stride=4, base_reduction=1))
