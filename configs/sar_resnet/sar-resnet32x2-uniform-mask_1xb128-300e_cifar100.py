# Table I ablation: both branches, fixed checkerboard masks (every other
# cell), so no region-selection loss.
_base_ = './sar-resnet32x2-g2s2a2b1-t0.5_1xb128-300e_cifar100.py'
model = dict(backbone=dict(mask_mode='uniform'))
custom_hooks = []
