# Toy PSPNet with a SAR-ResNet18 backbone, same recipe as
# deeplabv3_sar_r18_toy.py with the PSP head.
_base_ = './deeplabv3_sar_r18_toy.py'
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
