# SAR-ResNet18 (G2 s2 alpha2, K = 4/4/2) on the toy classification set from
# scratch, target rate 0.5: the recipe of the dense
# resnet/resnet18_1xb32-40e_toy-cls.py with the backbone swapped and the SAR
# loss of the toy recipes (the hook's defaults, the selections' on-off biases
# at 10x the AdamW learning rate). 79.2% top-1 at an eval rate of 0.49 (dense
# 50.0%; README, "Starting from a dense ResNet").
_base_ = [
    '../resnet/resnet18_1xb32-40e_toy-cls.py',
    '../_base_/backbones/sar-r18_toy.py',
    '../_base_/hooks/sar_loss_adamw_short.py',
]
model = dict(
    backbone=dict(_delete_=True, **_base_.sar_backbone, out_indices=(3, )))
optim_wrapper = dict(paramwise_cfg=_base_.sar_paramwise_cfg)
