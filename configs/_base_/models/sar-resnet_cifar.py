# SAR-ResNet (G2 s2 alpha2 beta1) classifier for CIFAR-100; a config using it
# sets the depth, e.g. `model = dict(backbone=dict(depth=32))`.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='SARResNetCifar',
        mask_groups=2,
        base_stride=2,
        base_reduction=2,
        refine_expansion=1),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
