# The toy SAR detector warm-started from the dense toy detector: half the
# epochs of the from-scratch faster-rcnn_sar-r18-g2s2a2-t0.5_fpn_1xb8-12e
# recipe, same recipe otherwise. The weights are the dense detector's
# converted for this config (backbone mapped onto SAR-ResNet18, FPN and
# heads copied):
#   python tools/train.py \
#       configs/faster_rcnn/faster-rcnn_r18_fpn_1xb8-12e_toy-coco.py
#   python tools/model_converters/dense2sar.py \
#       work_dirs/faster-rcnn_r18_fpn_1xb8-12e_toy-coco/epoch_12.pth \
#       work_dirs/dense2sar/faster-rcnn_sar-r18-g2s2a2_toy-coco.pth \
#       --config THIS_CONFIG
_base_ = './faster-rcnn_sar-r18-g2s2a2-t0.5_fpn_1xb8-12e_toy-coco.py'
load_from = 'work_dirs/dense2sar/faster-rcnn_sar-r18-g2s2a2_toy-coco.pth'

max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs,
        begin=0,
        end=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True)
]
