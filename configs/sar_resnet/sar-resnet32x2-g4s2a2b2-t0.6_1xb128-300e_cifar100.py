# Table III: SAR-ResNet32x2 G4 beta2, target 0.6, CIFAR-100.
_base_ = './sar-resnet32-g2s2a2-t0.5_1xb128-300e_cifar100.py'
model = dict(
    backbone=dict(widen_factor=2, mask_groups=4, refine_expansion=2),
    head=dict(in_channels=128))
custom_hooks = [dict(type='SARLossHook', target_rate=0.6, loss_weight=1.0)]
