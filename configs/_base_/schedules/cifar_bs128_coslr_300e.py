# CIFAR schedule of Appendix B: SGD, lr 0.1 x batch / 64, momentum 0.9,
# weight decay 1e-4, cosine decay over 300 epochs, batch 128 on one GPU.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=300, by_epoch=True, begin=0, end=300)
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
