# Table VIII, second SAR row: G2 s4 alpha1, target 0.5.
_base_ = '../retinanet_sar_r50.py'

pretrained = 'work_dirs/sar-r50_g2s4a1-t0.5_imagenet/epoch_200.pth'
model = dict(
    backbone=dict(
        base_stride=4,
        base_reduction=1,
        init_cfg=dict(checkpoint=pretrained)))
