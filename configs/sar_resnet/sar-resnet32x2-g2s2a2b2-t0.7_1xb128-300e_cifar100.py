# Table XI (appendix C): SAR-ResNet32x2 G2 s2 alpha2 beta2,
# target 0.7, CIFAR-100.
_base_ = './sar-resnet32x2-g2s2a2b1-t0.5_1xb128-300e_cifar100.py'
model = dict(backbone=dict(refine_expansion=2))
custom_hooks = [dict(type='SARLossHook', target_rate=0.7, loss_weight=1.0)]
