# Table I ablation: the base branch alone, uncompressed (alpha 1).
_base_ = './sar-resnet32x2-g2s2a2b1-t0.5_1xb128-300e_cifar100.py'
model = dict(backbone=dict(branches='base', base_reduction=1))
custom_hooks = []
