# DeepLab-v3 on VOC 2012 + aug with a SAR-ResNet50 (G2 s4 alpha1, deep
# stem, target 0.5, output stride 16) that starts from a dense ImageNet
# ResNet-50 with the deep stem instead of an ImageNet-trained SAR
# checkpoint, with the dense backbone as a distillation teacher on the four
# stage outputs (channel-wise KD, T 4, weight 0.5). Convert once:
#   python tools/model_converters/dense2sar.py \
#       data/pretrained/resnetv1c50_8xb32_in1k_20220214-3343eccd.pth \
#       work_dirs/dense2sar/sar-r50v1c-g2s4a1_seg.pth --config THIS_CONFIG
# (mmpretrain's ResNetV1c-50; timm's resnet50d works too. The older
# open-mmlab://resnet50_v1c file has mmcv's stem layout, which is not read.)
_base_ = [
    './deeplabv3_sar-r50-d16-g2s4a1-t0.5_4xb4-20k_voc12aug-512x512.py',
    '../_base_/hooks/sar_loss_from_dense.py',
]
dense = 'data/pretrained/resnetv1c50_8xb32_in1k_20220214-3343eccd.pth'
model = dict(
    backbone=dict(
        init_cfg=dict(
            checkpoint='work_dirs/dense2sar/sar-r50v1c-g2s4a1_seg.pth')))
custom_hooks = [
    _base_.sar_loss_from_dense,
    dict(
        type='DenseDistillHook',
        teacher=dict(
            type='mmpretrain.ResNetV1c',
            depth=50,
            strides=(1, 2, 2, 1),
            dilations=(1, 1, 1, 2),
            out_indices=(0, 1, 2, 3)),
        teacher_checkpoint=dense,
        distill='features',
        temperature=4.0,
        loss_weight=0.5)
]
