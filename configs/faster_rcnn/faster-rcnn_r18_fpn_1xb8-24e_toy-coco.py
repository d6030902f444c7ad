# The dense twin of faster-rcnn_sar-r18-g2s2a2-t0.5_fpn_1xb8-24e_toy-coco.py:
# the toy Faster R-CNN ResNet-18 on a 2x schedule (24 epochs). Toy val bbox
# mAP 0.889 / 0.892 (seeds 0 / 1; 0.775 / 0.780 after 12 epochs of this
# schedule; one thread).
_base_ = './faster-rcnn_r18_fpn_1xb8-12e_toy-coco.py'

max_epochs = 24
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], T_max=max_epochs, end=max_epochs),
]
