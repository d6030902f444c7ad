# PSPNet on PASCAL VOC 2012 + aug with SAR-ResNet50 (G2 s4 alpha1, target
# 0.5), output stride 16: Table IX of the paper. mmseg's stock VOC config
# with the backbone swapped (see deeplabv3_sar_r50_voc.py).
_base_ = 'mmseg::pspnet/pspnet_r50-d8_4xb4-20k_voc12aug-512x512.py'
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)

# mmseg's SyncBN; a {{_base_.norm_cfg}} reference would carry mmseg's
# `_scope_` key into the norm layer's arguments.
norm_cfg = dict(type='SyncBN', requires_grad=True)

pretrained = 'work_dirs/sar-r50-d_g2s4a1-t0.5_imagenet/epoch_200.pth'
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='SARResNet',
        depth=50,
        deep_stem=True,
        mask_groups=2,
        base_stride=4,
        base_reduction=1,
        refine_expansion=1,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

custom_hooks = [
    dict(
        type='SARLossHook',
        target_rate=0.5,
        loss_weight=0.5,
        schedule='constant')
]
