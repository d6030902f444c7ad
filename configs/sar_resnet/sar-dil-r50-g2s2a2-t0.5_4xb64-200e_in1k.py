# Table V: SAR-dil-ResNet50 G2 s2 alpha2, target 0.5: the base branch keeps
# the resolution and dilates its 3x3 convs by 2.
_base_ = './sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py'
model = dict(backbone=dict(base_dilated=True))
