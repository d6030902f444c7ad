# Table IV: SAR on ResNeXt-29 8x32d (64-wide stem, stages 256/512/1024), G2
# s2 alpha1 beta1, target 0.5, CIFAR-100, 500 epochs (Appendix B), loss
# weight 1.
_base_ = [
    '../_base_/models/sar-resnet_cifar.py',
    '../_base_/datasets/cifar100_bs128.py',
    '../_base_/schedules/cifar_bs128_coslr_500e.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        type='SARResNeXtCifar',
        depth=29,
        groups=8,
        width_per_group=32,
        base_reduction=1),
    head=dict(in_channels=1024))
custom_hooks = [dict(type='SARLossHook', target_rate=0.5, loss_weight=1.0)]
