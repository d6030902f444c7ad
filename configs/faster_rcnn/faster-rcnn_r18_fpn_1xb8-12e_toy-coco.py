# Dense calibration model for the toy COCO set: stock Faster R-CNN with a
# ResNet-18 FPN trained from scratch (no downloads), 12 epochs of 50
# iterations at batch size 8.
#
# The bases are those of mmdet's faster-rcnn_r50_fpn_1x_coco.py with its COCO
# dataset and 1x schedule replaced (mmengine forbids keys defined by two
# bases, so that config cannot be combined with another dataset base).
#
# Changes for training from scratch on 2 CPU cores: AdamW instead of SGD
# (stock SGD reached 0.04 bbox mAP after 4 epochs), 16-256 px anchors, BN in
# the FPN, a 128-channel FPN and heads and 500 RPN boxes per level before NMS
# in training (0.64 s per iteration instead of 1.37 s; the RoIAlign backward
# and the RPN NMS dominate on CPU). Toy val bbox mAP of this config: 0.557
# after 6 epochs, 0.816 after 12 (`tools/train.py` alone on 2 cores, 7 min;
# 0.513 and 0.798 in a one-thread run).
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    '../_base_/datasets/toy_coco_detection.py',
    '../_base_/schedules/toy_detection_12e.py',
    'mmdet::_base_/default_runtime.py',
]
default_scope = 'mmdet'
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(
        depth=18,
        # trained from scratch: no frozen stem, BN statistics are learned
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    neck=dict(
        in_channels=[64, 128, 256, 512], out_channels=128, norm_cfg=norm_cfg),
    # 16-256 pixel anchors: the stock 32 pixel ones overlap objects below
    # about 17 pixels with IoU < 0.3, which leaves them no positive anchor
    rpn_head=dict(
        in_channels=128, feat_channels=128,
        anchor_generator=dict(scales=[4])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=128),
        bbox_head=dict(
            in_channels=128, num_classes=3, fc_out_channels=256)),
    # the stock 512 RoIs and 1024-wide FCs cost 6x the time per iteration;
    # 300 test proposals (as in the Faster R-CNN paper) for at most 3 objects
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500), rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(max_per_img=300)))

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.))
auto_scale_lr = dict(enable=False, base_batch_size=8)

default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=2))
randomness = dict(seed=0)
