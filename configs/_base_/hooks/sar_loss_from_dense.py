# The SAR loss when a SAR backbone starts from converted dense weights
# (tools/model_converters/dense2sar.py): its masks start all on, so the
# target steps down from 1 to 0.5 over the first half, as from scratch, at
# the paper's ImageNet loss weight. Used as
# `custom_hooks = [_base_.sar_loss_from_dense, ...]` in configs whose other
# bases already set custom_hooks.
sar_loss_from_dense = dict(
    type='SARLossHook', target_rate=0.5, loss_weight=0.5, schedule='step')
