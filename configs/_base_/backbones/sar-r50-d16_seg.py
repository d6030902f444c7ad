# The SAR-ResNet50 (G2 s4 alpha1 beta1, deep stem) of the segmentation
# configs, to replace the ResNetV1c of an mmseg config, at output stride 16:
# stage 4 keeps stride 1 and dilates by 2 (the SAR stages keep the ResNet
# strides). SyncBN in training mode as in mmseg; weights from an
# ImageNet-trained SAR-ResNet50 with the deep stem (train one with
# sar_resnet/sar-r50v1c-g2s4a1-t0.5_4xb64-200e_in1k.py). Used as
# `model = dict(backbone=dict(_delete_=True, **_base_.sar_backbone))`.
pretrained = 'work_dirs/sar-r50v1c-g2s4a1-t0.5_4xb64-200e_in1k/epoch_200.pth'
sar_backbone = dict(
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
    # mmseg's SyncBN, written out: a reference to mmseg's `norm_cfg` would
    # carry its `_scope_` key into the norm layer's arguments.
    norm_cfg=dict(type='SyncBN', requires_grad=True),
    norm_eval=False,
    init_cfg=dict(
        type='Pretrained', checkpoint=pretrained, prefix='backbone.'))
