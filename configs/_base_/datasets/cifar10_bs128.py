# CIFAR-10 with flip + pad-4 random crop, batch 128. The data must already
# be in data/cifar10 (nothing is downloaded at run time).
_base_ = 'mmpretrain::_base_/datasets/cifar10_bs16.py'
train_dataloader = dict(batch_size=128, dataset=dict(download=False))
val_dataloader = dict(batch_size=128, dataset=dict(download=False))
test_dataloader = val_dataloader
