# Table I ablation: both branches, fixed centre-crop masks (the central
# 75% x 75% of every map, about half of the area), so no region-selection
# loss.
_base_ = './sar-resnet32x2-g2s2a2b1-t0.5_1xb128-300e_cifar100.py'
model = dict(backbone=dict(mask_mode='center'))
custom_hooks = []
