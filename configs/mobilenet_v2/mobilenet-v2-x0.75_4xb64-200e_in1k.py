# Table VII baseline: mmpretrain's MobileNet-v2 x0.75 (0.21 GFLOPs, 69.8%)
# with the recipe of SAR-MobileNet-v2 (the authors' MobileNet-v2 settings):
# SGD with Nesterov momentum 0.9, lr 0.05 x batch / 256 with a 5-epoch
# linear warm-up then cosine decay, 200 epochs, weight decay 4e-5 on every
# parameter, label smoothing 0.1. 4 GPUs x 64 images = batch 256.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64.py',
    'mmpretrain::_base_/schedules/imagenet_bs256_200e_coslr_warmup.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(type='MobileNetV2', widen_factor=0.75),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=1280,
        loss=dict(
            type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)))

optim_wrapper = dict(
    optimizer=dict(lr=0.05, momentum=0.9, nesterov=True,
                   weight_decay=4e-5))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=195, by_epoch=True, begin=5, end=200)
]
