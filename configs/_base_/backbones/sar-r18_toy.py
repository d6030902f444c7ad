# The SAR-ResNet18 (G2 s2 alpha2, K = 4/4/2) of the toy recipes, trained from
# scratch or from a converted dense ResNet-18. Used as
# `model = dict(backbone=dict(_delete_=True, **_base_.sar_backbone,
# out_indices=...))`.
sar_backbone = dict(
    type='SARResNet',
    depth=18,
    mask_groups=2,
    base_stride=2,
    base_reduction=2,
    mask_grid=(4, 4, 2))
