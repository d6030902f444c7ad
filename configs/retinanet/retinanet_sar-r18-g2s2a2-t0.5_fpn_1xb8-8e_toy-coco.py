# Toy RetinaNet with a SAR-ResNet18 backbone on the toy COCO set, trained
# from scratch in a few minutes on 2 CPU cores.
_base_ = [
    'mmdet::_base_/models/retinanet_r50_fpn.py',
    '../_base_/datasets/toy_coco_detection.py',
    '../_base_/schedules/toy_detection_12e.py',
    'mmdet::_base_/default_runtime.py',
    '../_base_/backbones/sar-r18_toy.py',
]
default_scope = 'mmdet'
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True, **_base_.sar_backbone, out_indices=(0, 1, 2, 3)),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=128),
    bbox_head=dict(num_classes=3, in_channels=128, feat_channels=128))

# 8 epochs, validated every 2, with SGD
max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], T_max=max_epochs, end=max_epochs)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=2))
custom_hooks = [dict(type='SARLossHook', target_rate=0.5, loss_weight=1.0)]
