# Toy classification with SAR-ResNet20 (CIFAR-style, G2 s2 alpha2) on the
# 64x64 toy shapes, trained from scratch with the SAR loss (target 0.5, the
# hook's defaults; under SGD they need no learning-rate multiplier).
_base_ = [
    '../_base_/datasets/toy_classification.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='SARResNetCifar', depth=20),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=3,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

max_epochs = 8
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    type='CosineAnnealingLR',
    T_max=max_epochs,
    by_epoch=True,
    begin=0,
    end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=2)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=5), checkpoint=dict(interval=2, max_keep_ckpts=2))
custom_hooks = [dict(type='SARLossHook', target_rate=0.5)]
