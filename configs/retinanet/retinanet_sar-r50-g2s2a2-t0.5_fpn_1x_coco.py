# RetinaNet + FPN on COCO with SAR-ResNet50 (G2 s2 alpha2, target 0.5),
# 1x schedule, 800x1333: Table VIII of the paper. mmdet's stock config with
# the backbone swapped and the SAR loss added (see the Faster R-CNN config).
_base_ = [
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    '../_base_/backbones/sar-r50_det.py',
    '../_base_/hooks/sar_loss_finetune.py',
]
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(backbone=dict(_delete_=True, **_base_.sar_backbone))
