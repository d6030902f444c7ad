# Dense ResNet-18 on the toy classification set (64x64 shapes, 3 classes),
# from scratch: AdamW, cosine decay, 40 epochs of 15 iterations. The dense
# network that the warm-started SAR-ResNet18 recipes start from and distil
# (README, "Starting from a dense ResNet").
_base_ = [
    '../_base_/datasets/toy_classification.py',
    'mmpretrain::_base_/default_runtime.py',
]
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=3,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))

max_epochs = 40
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.))
param_scheduler = dict(
    type='CosineAnnealingLR',
    T_max=max_epochs,
    by_epoch=True,
    begin=0,
    end=max_epochs,
    convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=15), checkpoint=dict(interval=10, max_keep_ckpts=1))
randomness = dict(seed=0)
