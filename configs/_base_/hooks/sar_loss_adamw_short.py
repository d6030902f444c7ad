# The SAR loss with mmsar's defaults (threshold estimator, tempered mask
# sampling, loss weight 1) for short AdamW schedules such as the toy recipes.
# Under Adam a parameter moves by about lr per step whatever its gradient, so
# the region selections' on-off bias gaps, which the rate loss must move by
# several units within the first half of a few hundred iterations, get 10x
# the learning rate (and no weight decay). Used with
# `optim_wrapper = dict(paramwise_cfg=_base_.sar_paramwise_cfg)`.
custom_hooks = [dict(type='SARLossHook', target_rate=0.5)]
sar_paramwise_cfg = dict(
    custom_keys={'.logits.bias': dict(lr_mult=10.0, decay_mult=0.0)})
