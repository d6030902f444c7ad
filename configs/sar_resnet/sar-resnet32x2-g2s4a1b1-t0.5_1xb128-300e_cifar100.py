# Table XI (appendix C): SAR-ResNet32x2 G2 s4 alpha1 beta1,
# target 0.5, CIFAR-100.
_base_ = './sar-resnet32x2-g2s2a2b1-t0.5_1xb128-300e_cifar100.py'
model = dict(backbone=dict(base_stride=4, base_reduction=1))
custom_hooks = [dict(type='SARLossHook', target_rate=0.5, loss_weight=1.0)]
