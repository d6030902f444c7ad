# SAR-ResNet18 warm-started from the dense toy ResNet-18: half the epochs of
# the from-scratch sar-r18-g2s2a2-t0.5_1xb32-40e_toy-cls.py, same recipe
# otherwise. The weights come from the dense checkpoint converted for this
# config:
#   python tools/train.py configs/resnet/resnet18_1xb32-40e_toy-cls.py
#   python tools/model_converters/dense2sar.py \
#       work_dirs/resnet18_1xb32-40e_toy-cls/epoch_40.pth \
#       work_dirs/dense2sar/sar-r18-g2s2a2_toy-cls.pth --config THIS_CONFIG
_base_ = './sar-r18-g2s2a2-t0.5_1xb32-40e_toy-cls.py'
load_from = 'work_dirs/dense2sar/sar-r18-g2s2a2_toy-cls.pth'

max_epochs = 20
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs)
