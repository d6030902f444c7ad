# SAR-ResNet50 (G2 s2 alpha2, target 0.5) on ImageNet warm-started from a
# dense ResNet-50 and distilled from it on the logits (LAUDNet's recipe:
# T 4, weight 0.5, 100 epochs) instead of the 200 epochs from scratch of
# sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py; otherwise the same recipe.
# Convert the dense weights once for this config:
#   python tools/model_converters/dense2sar.py \
#       data/pretrained/resnet50-0676ba61.pth \
#       work_dirs/dense2sar/sar-r50-g2s2a2_in1k.pth --config THIS_CONFIG
# resnet50-0676ba61.pth is torchvision's ResNet50_Weights.IMAGENET1K_V1;
# any ResNet-50 checkpoint of torchvision, timm or mmpretrain serves as
# start and teacher (set `dense` to it).
_base_ = './sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py'
dense = 'data/pretrained/resnet50-0676ba61.pth'
load_from = 'work_dirs/dense2sar/sar-r50-g2s2a2_in1k.pth'

max_epochs = 100
# the 5-epoch warm-up of the base, then cosine over the remaining epochs
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], T_max=max_epochs - 5, end=max_epochs)
]
train_cfg = dict(max_epochs=max_epochs)
custom_hooks = [
    *_base_.custom_hooks,
    dict(
        type='DenseDistillHook',
        teacher=dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=50),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=1000, in_channels=2048)),
        teacher_checkpoint=dense,
        distill='logits',
        temperature=4.0,
        loss_weight=0.5)
]
