# Table I ablation: the refinement branch alone, masks learned from its own
# input, target 0.5.
_base_ = './sar-resnet32x2-g2s2a2b1-t0.5_1xb128-300e_cifar100.py'
model = dict(backbone=dict(branches='refine'))
