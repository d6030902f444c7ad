# The SAR-ResNet50 (G2 s2 alpha2 beta1) of the detection configs, to replace
# the ResNet50 of an mmdet config: the four stage outputs for the FPN, stem
# and first stage frozen and BN in eval mode as in mmdet's ResNet50 configs,
# weights from an ImageNet-trained SAR-ResNet50 (train one with
# sar_resnet/sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py). Used as
# `model = dict(backbone=dict(_delete_=True, **_base_.sar_backbone))`.
pretrained = 'work_dirs/sar-r50-g2s2a2-t0.5_4xb64-200e_in1k/epoch_200.pth'
sar_backbone = dict(
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
        type='Pretrained', checkpoint=pretrained, prefix='backbone.'))
