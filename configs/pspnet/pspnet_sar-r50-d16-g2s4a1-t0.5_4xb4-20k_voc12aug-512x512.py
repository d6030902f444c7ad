# PSPNet on PASCAL VOC 2012 + aug with SAR-ResNet50 (G2 s4 alpha1, target
# 0.5), output stride 16: Table IX of the paper. mmseg's stock VOC config
# with the backbone swapped and the SAR loss added.
_base_ = [
    'mmseg::pspnet/pspnet_r50-d8_4xb4-20k_voc12aug-512x512.py',
    '../_base_/backbones/sar-r50-d16_seg.py',
    '../_base_/hooks/sar_loss_finetune.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(
    pretrained=None, backbone=dict(_delete_=True, **_base_.sar_backbone))
