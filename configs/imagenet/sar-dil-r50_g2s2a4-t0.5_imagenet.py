# Table V: SAR-dil-ResNet50 G2 s2 alpha4, target 0.5.
_base_ = '../sar_r50_imagenet.py'
model = dict(backbone=dict(base_dilated=True, base_reduction=4))
