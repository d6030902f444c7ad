# Toy PSPNet with a SAR-ResNet18 backbone, same recipe as the toy DeepLab-v3
# with the PSP head.
_base_ = '../deeplabv3/deeplabv3_sar-r18-d16-g2s4a1-t0.5_1xb8-300it_toy-voc.py'
model = dict(
    decode_head=dict(
        _delete_=True,
        type='PSPHead',
        in_channels=512,
        in_index=3,
        channels=64,
        pool_scales=(1, 2, 3, 6),
        dropout_ratio=0.1,
        num_classes=4,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
