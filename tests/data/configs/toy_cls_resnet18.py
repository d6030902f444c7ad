# The dense toy classification recipe cut to two iterations, for tool tests.
_base_ = '../../../configs/resnet/resnet18_1xb32-40e_toy-cls.py'

optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
param_scheduler = None
train_cfg = dict(
    _delete_=True, type='IterBasedTrainLoop', max_iters=2, val_interval=2)
default_hooks = dict(
    logger=dict(interval=1), checkpoint=dict(by_epoch=False, interval=2))
