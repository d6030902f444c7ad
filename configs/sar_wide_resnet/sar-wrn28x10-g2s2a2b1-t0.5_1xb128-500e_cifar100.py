# Table IV: SAR on WRN-28x10 (stages 160/320/640 wide), G2 s2 alpha2 beta1,
# target 0.5, CIFAR-100, 500 epochs (Appendix B), loss weight 1.
_base_ = [
    '../_base_/models/sar-resnet_cifar.py',
    '../_base_/datasets/cifar100_bs128.py',
    '../_base_/schedules/cifar_bs128_coslr_500e.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(
    backbone=dict(type='SARWideResNet', depth=28, widen_factor=10),
    head=dict(in_channels=640))
custom_hooks = [dict(type='SARLossHook', target_rate=0.5, loss_weight=1.0)]
