# RetinaNet + FPN on COCO with SAR-ResNet50 (G2 s2 alpha2, target 0.5),
# 1x schedule, 800x1333: Table VIII of the paper. Everything but the backbone
# and the SAR loss hook is mmdet's stock config.
#
# The backbone starts from an ImageNet-trained SAR-ResNet50 (train one with
# configs/sar_r50_imagenet.py); point `pretrained` at its checkpoint.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)

pretrained = 'work_dirs/sar_r50_imagenet/epoch_200.pth'
model = dict(
    backbone=dict(
        _delete_=True,
        type='SARResNet',
        depth=50,
        mask_groups=2,
        base_stride=2,
        base_reduction=2,
        refine_expansion=1,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

custom_hooks = [
    dict(
        type='SARLossHook',
        target_rate=0.5,
        loss_weight=0.5,
        schedule='constant')
]
