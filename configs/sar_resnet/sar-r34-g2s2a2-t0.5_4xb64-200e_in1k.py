# Tables V and VI: SAR-ResNet34 G2 s2 alpha2, target 0.5.
_base_ = './sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py'
model = dict(
    backbone=dict(depth=34), head=dict(in_channels=512))
