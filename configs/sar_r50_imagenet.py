# The README's name for Table V's SAR-ResNet50 G2 s2 alpha2 on ImageNet.
_base_ = './sar_resnet/sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py'
