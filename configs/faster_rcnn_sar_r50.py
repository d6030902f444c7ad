# The README's name for Table VIII's Faster R-CNN with SAR-ResNet50.
_base_ = './faster_rcnn/faster-rcnn_sar-r50-g2s2a2-t0.5_fpn_1x_coco.py'
