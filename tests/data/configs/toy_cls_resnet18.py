# Minimal mmpretrain config on the toy classification set for tool tests.
_base_ = [
    '../../../configs/_base_/datasets/toy_classification.py',
    'mmpretrain::_base_/default_runtime.py'
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
        loss=dict(type='CrossEntropyLoss')))

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(by_epoch=False, interval=2))
