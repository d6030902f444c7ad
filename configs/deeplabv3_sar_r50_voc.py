# DeepLab-v3 on PASCAL VOC 2012 + aug with SAR-ResNet50 (G2 s4 alpha1,
# target 0.5), output stride 16: Table IX of the paper. mmseg's stock VOC
# config with the backbone swapped.
#
# Output stride 16: stage 4 keeps stride 1 and dilates by 2 (the SAR stages
# keep the ResNet strides), so ASPP uses the OS-16 rates (1, 6, 12, 18).
# The backbone starts from an ImageNet-trained SAR-ResNet50 with the deep
# stem (configs/imagenet/sar-r50-d_g2s4a1-t0.5_imagenet.py).
_base_ = 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py'
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
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    decode_head=dict(dilations=(1, 6, 12, 18)))

custom_hooks = [
    dict(
        type='SARLossHook',
        target_rate=0.5,
        loss_weight=0.5,
        schedule='constant')
]
