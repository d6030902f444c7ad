# CIFAR-100 with flip + pad-4 random crop, batch 128. The data must already
# be in data/cifar100 (nothing is downloaded at run time).
_base_ = 'mmpretrain::_base_/datasets/cifar100_bs16.py'
train_dataloader = dict(batch_size=128, dataset=dict(download=False))
val_dataloader = dict(batch_size=128, dataset=dict(download=False))
test_dataloader = val_dataloader
