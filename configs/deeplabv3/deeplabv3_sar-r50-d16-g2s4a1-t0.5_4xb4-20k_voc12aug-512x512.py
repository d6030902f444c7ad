# DeepLab-v3 on PASCAL VOC 2012 + aug with SAR-ResNet50 (G2 s4 alpha1,
# target 0.5), output stride 16: Table IX of the paper. mmseg's stock VOC
# config with the backbone swapped and the SAR loss added; ASPP uses the
# OS-16 rates (1, 6, 12, 18).
_base_ = [
    'mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py',
    '../_base_/backbones/sar-r50-d16_seg.py',
    '../_base_/hooks/sar_loss_finetune.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(
    pretrained=None,
    backbone=dict(_delete_=True, **_base_.sar_backbone),
    decode_head=dict(dilations=(1, 6, 12, 18)))
