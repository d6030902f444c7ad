# Table V: SAR-ResNet50 G2 s4 alpha1, target 0.5 (the detection backbone of
# Table VIII's second rows).
_base_ = '../sar_r50_imagenet.py'
model = dict(backbone=dict(base_stride=4, base_reduction=1))
