# SAR-ResNet32x2 (stages 32/64/128 wide, 16-wide stem) G2 s2 alpha2 beta1,
# target 0.5, CIFAR-100, 300 epochs, loss weight 1 as on CIFAR in the paper:
# the network of Tables I-III (the authors' CIFAR ablation models are all
# ResNet32x2; width 1 counts a quarter of the paper's FLOPs).
_base_ = [
    '../_base_/models/sar-resnet_cifar.py',
    '../_base_/datasets/cifar100_bs128.py',
    '../_base_/schedules/cifar_bs128_coslr_300e.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(
    backbone=dict(depth=32, widen_factor=2), head=dict(in_channels=128))
custom_hooks = [dict(type='SARLossHook', target_rate=0.5, loss_weight=1.0)]
