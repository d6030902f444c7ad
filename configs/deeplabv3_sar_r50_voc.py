# The README's name for Table IX's DeepLab-v3 with SAR-ResNet50.
_base_ = ('./deeplabv3/'
          'deeplabv3_sar-r50-d16-g2s4a1-t0.5_4xb4-20k_voc12aug-512x512.py')
