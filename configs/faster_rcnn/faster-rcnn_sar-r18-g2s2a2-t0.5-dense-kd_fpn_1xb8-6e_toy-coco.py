# The dense-initialised toy SAR detector (see the -dense-init config) with
# the dense detector's ResNet-18 as a distillation teacher on the four
# backbone outputs (channel-wise KD, T 4, weight 0.5).
_base_ = './faster-rcnn_sar-r18-g2s2a2-t0.5-dense-init_fpn_1xb8-6e_toy-coco.py'
dense = 'work_dirs/faster-rcnn_r18_fpn_1xb8-12e_toy-coco/epoch_12.pth'
custom_hooks = [
    *_base_.custom_hooks,
    dict(
        type='DenseDistillHook',
        teacher=dict(type='ResNet', depth=18, out_indices=(0, 1, 2, 3)),
        teacher_checkpoint=dense,
        distill='features',
        temperature=4.0,
        loss_weight=0.5)
]
