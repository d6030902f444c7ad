# Toy DeepLab-v3 with a SAR-ResNet18 backbone (deep stem, G2 s4 alpha1,
# output stride 16) on the toy VOC set, a few minutes on 2 CPU cores.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    '../_base_/datasets/toy_voc_segmentation.py',
    'mmseg::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=(128, 128)),
    backbone=dict(
        _delete_=True,
        type='SARResNet',
        depth=18,
        deep_stem=True,
        mask_groups=2,
        base_stride=4,
        base_reduction=1,
        mask_grid=(4, 4, 2),
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=512,
        channels=64,
        dilations=(1, 6, 12, 18),
        num_classes=4,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=256, channels=32, num_classes=4, norm_cfg=norm_cfg))

train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=150)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    clip_grad=None)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=300,
        by_epoch=False)
]
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=150,
        max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
custom_hooks = [dict(type='SARLossHook', target_rate=0.5, loss_weight=1.0)]
