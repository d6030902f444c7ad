# Toy RetinaNet with a SAR-ResNet18 backbone on the toy COCO set, trained
# from scratch in a few minutes on 2 CPU cores.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    '../_base_/datasets/toy_coco_detection.py',
    'mmdet::_base_/default_runtime.py',
]
default_scope = 'mmdet'
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='SARResNet',
        depth=18,
        mask_grid=(4, 4, 2),
        out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128),
    bbox_head=dict(num_classes=3, in_channels=128, feat_channels=128))

max_epochs = 8
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        begin=0,
        end=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=2))
custom_hooks = [dict(type='SARLossHook', target_rate=0.5, loss_weight=1.0)]
