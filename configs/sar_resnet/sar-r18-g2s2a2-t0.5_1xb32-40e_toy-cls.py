# SAR-ResNet18 (G2 s2 alpha2, K = 4/4/2) on the toy classification set from
# scratch, target rate 0.5: the recipe of the dense
# resnet/resnet18_1xb32-40e_toy-cls.py with the backbone swapped and the SAR
# loss of the toy recipes (the paper's estimator at loss weight 10, which
# moves the masks under AdamW in a few hundred iterations).
_base_ = [
    '../resnet/resnet18_1xb32-40e_toy-cls.py',
    '../_base_/hooks/sar_loss_paper_short.py',
]
model = dict(
    backbone=dict(
        _delete_=True,
        type='SARResNet',
        depth=18,
        mask_groups=2,
        base_stride=2,
        base_reduction=2,
        mask_grid=(4, 4, 2),
        out_indices=(3, )))
