# The README's name for Table VIII's RetinaNet with SAR-ResNet50.
_base_ = './retinanet/retinanet_sar-r50-g2s2a2-t0.5_fpn_1x_coco.py'
