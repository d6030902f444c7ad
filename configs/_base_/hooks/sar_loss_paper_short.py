# The SAR loss with the paper's gradient estimator and mask sampling, at the
# loss weight (10) that moves their masks in a short schedule from scratch.
# The toy recipes' figures in the README were measured with it; the hook's
# defaults ('threshold', 'tempered', weight 1) are not yet measured on them.
custom_hooks = [
    dict(
        type='SARLossHook',
        target_rate=0.5,
        loss_weight=10.0,
        rate_estimator='gumbel',
        mask_sampling='gumbel')
]
