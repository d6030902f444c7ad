# Table V: SAR-ResNet50 G4 s2 alpha2, target 0.5.
_base_ = '../sar_r50_imagenet.py'
model = dict(backbone=dict(mask_groups=4))
