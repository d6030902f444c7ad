# Table XIII (appendix D): SAR-ResNet32x2 G2 s2 alpha1 beta1, target 0.7,
# CIFAR-100, with the sample-target loss (Eq. 11).
_base_ = './sar-resnet32x2-g2s2a1b1-t0.7_1xb128-300e_cifar100.py'
custom_hooks = [
    dict(type='SARLossHook', target_rate=0.7, loss_weight=1.0, mode='sample')
]
