# SAR-ResNet50 (G2 s2 alpha2 beta1, target 0.5) on ImageNet, Table V and
# Appendix B: SGD, lr 0.1 x batch / 256 with a 5-epoch linear warm-up then
# cosine decay, 200 epochs, weight decay 1e-4, label smoothing 0.1, loss
# weight 0.5, Gumbel temperature 1 -> 0.01 and the stepped target schedule
# of SARLossHook. 4 GPUs x 64 images = batch 256 as in the paper.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64.py',
    'mmpretrain::_base_/schedules/imagenet_bs256_200e_coslr_warmup.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='SARResNet',
        depth=50,
        mask_groups=2,
        base_stride=2,
        base_reduction=2,
        refine_expansion=1,
        out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=2048,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=195, by_epoch=True, begin=5, end=200)
]

custom_hooks = [
    dict(type='SARLossHook', target_rate=0.5, loss_weight=0.5)
]
