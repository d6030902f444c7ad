# The CIFAR-10 schedule of the paper's Fig. 4: that of
# cifar_bs128_coslr_300e.py over 500 epochs.
_base_ = './cifar_bs128_coslr_300e.py'
param_scheduler = dict(T_max=500, end=500)
train_cfg = dict(max_epochs=500)
