# Faster R-CNN + FPN on COCO, 1x, with a SAR-ResNet50 (G2 s2 alpha2, target
# 0.5) that starts from a dense ImageNet ResNet-50 instead of an
# ImageNet-trained SAR checkpoint, with the dense backbone as a
# distillation teacher on the four stage outputs (channel-wise KD, T 4,
# weight 0.5). Convert the dense weights once for this config:
#   python tools/model_converters/dense2sar.py \
#       data/pretrained/resnet50-0676ba61.pth \
#       work_dirs/dense2sar/sar-r50-g2s2a2_det.pth --config THIS_CONFIG
# (torchvision's ResNet50_Weights.IMAGENET1K_V1, the weights of mmdet's
# torchvision://resnet50; timm and mmpretrain ResNet-50s work too).
_base_ = [
    './faster-rcnn_sar-r50-g2s2a2-t0.5_fpn_1x_coco.py',
    '../_base_/hooks/sar_loss_from_dense.py',
]
dense = 'data/pretrained/resnet50-0676ba61.pth'
converted = 'work_dirs/dense2sar/sar-r50-g2s2a2_det.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=converted)))
custom_hooks = [
    _base_.sar_loss_from_dense,
    dict(
        type='DenseDistillHook',
        teacher=dict(type='ResNet', depth=50, out_indices=(0, 1, 2, 3)),
        teacher_checkpoint=dense,
        distill='features',
        temperature=4.0,
        loss_weight=0.5)
]
