# The quick-start model: toy Faster R-CNN with a SAR-ResNet18 backbone
# (G2 s2 alpha2) trained from scratch with the SAR loss (target 0.5). Same
# recipe as the dense faster-rcnn_r18_fpn_1xb8-12e_toy-coco.py, only the
# backbone swapped and the loss hook (with its bias learning rate) added.
# K = (4, 4, 2) gives 8, 4 and 4 pixel patches on the 32, 16 and 8 pixel
# maps of 128x128 images.
#
# The SAR loss is the hook's defaults with the selections' on-off biases at
# 10x the AdamW learning rate (_base_/hooks/sar_loss_adamw_short.py): the
# training rate follows the target to 0.50, the eval rate is 0.47. Toy val
# bbox mAP 0.385 after 6 epochs, 0.660 after 12 (one thread, shared machine;
# dense 0.528 and 0.817; the paper's estimator at loss weight 10: 0.670).
_base_ = [
    './faster-rcnn_r18_fpn_1xb8-12e_toy-coco.py',
    '../_base_/backbones/sar-r18_toy.py',
    '../_base_/hooks/sar_loss_adamw_short.py',
]

model = dict(
    backbone=dict(
        _delete_=True, **_base_.sar_backbone, out_indices=(0, 1, 2, 3)))
optim_wrapper = dict(paramwise_cfg=_base_.sar_paramwise_cfg)
