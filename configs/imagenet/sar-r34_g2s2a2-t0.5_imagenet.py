# Tables V and VI: SAR-ResNet34 G2 s2 alpha2, target 0.5.
_base_ = '../sar_r50_imagenet.py'
model = dict(
    backbone=dict(depth=34), head=dict(in_channels=512))
