# Table IV: SAR-WRN-28x10 G2 s2 alpha2 beta1, target 0.3, CIFAR-100.
_base_ = './sar-wrn28x10-g2s2a2b1-t0.5_1xb128-500e_cifar100.py'
custom_hooks = [dict(type='SARLossHook', target_rate=0.3, loss_weight=1.0)]
