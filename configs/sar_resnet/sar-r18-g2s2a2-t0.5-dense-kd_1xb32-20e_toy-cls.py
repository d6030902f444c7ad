# The dense-initialised toy SAR-ResNet18 (see the -dense-init config) with
# the dense ResNet-18 as a distillation teacher on the logits (T 4, weight
# 0.5, as LAUDNet).
_base_ = './sar-r18-g2s2a2-t0.5-dense-init_1xb32-20e_toy-cls.py'
dense = 'work_dirs/resnet18_1xb32-40e_toy-cls/epoch_40.pth'
custom_hooks = [
    *_base_.custom_hooks,
    dict(
        type='DenseDistillHook',
        teacher=dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=3, in_channels=512)),
        teacher_checkpoint=dense,
        distill='logits',
        temperature=4.0,
        loss_weight=0.5)
]
