# Table IV: SAR-ResNeXt-29 8x32d G2 s2 alpha1, target 0.7, CIFAR-100.
_base_ = './sar-resnext29-8x32d-g2s2a1-t0.5_1xb128-500e_cifar100.py'
custom_hooks = [dict(type='SARLossHook', target_rate=0.7, loss_weight=1.0)]
