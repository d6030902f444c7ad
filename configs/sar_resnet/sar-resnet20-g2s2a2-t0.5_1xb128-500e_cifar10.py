# Fig. 4: SAR-ResNet20 G2 s2 alpha2 beta1, target 0.5, CIFAR-10,
# 500 epochs as in the paper's CIFAR-10 comparison.
_base_ = [
    '../_base_/models/sar-resnet_cifar.py',
    '../_base_/datasets/cifar10_bs128.py',
    '../_base_/schedules/cifar_bs128_coslr_500e.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(backbone=dict(depth=20), head=dict(num_classes=10))
custom_hooks = [dict(type='SARLossHook', target_rate=0.5, loss_weight=1.0)]
