# Table VIII, second SAR row: G2 s4 alpha1, target 0.5.
_base_ = './faster-rcnn_sar-r50-g2s2a2-t0.5_fpn_1x_coco.py'

pretrained = 'work_dirs/sar-r50-g2s4a1-t0.5_4xb64-200e_in1k/epoch_200.pth'
model = dict(
    backbone=dict(
        base_stride=4,
        base_reduction=1,
        init_cfg=dict(checkpoint=pretrained)))
