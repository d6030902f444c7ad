# Table I ablation: both branches, fixed centre-crop masks (about half of
# the cells), so no region-selection loss.
_base_ = './sar-resnet32-g2s2a2-t0.5_1xb128-300e_cifar100.py'
model = dict(backbone=dict(mask_mode='center'))
custom_hooks = []
