# SAR-ResNet32 G2 s2 alpha2 beta1, target 0.5, CIFAR-100, 300 epochs
# (Tables I and II), loss weight 1 as on CIFAR in the paper.
_base_ = [
    '../_base_/models/sar-resnet_cifar.py',
    '../_base_/datasets/cifar100_bs128.py',
    '../_base_/schedules/cifar_bs128_coslr_300e.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(backbone=dict(depth=32))
custom_hooks = [dict(type='SARLossHook', target_rate=0.5, loss_weight=1.0)]
