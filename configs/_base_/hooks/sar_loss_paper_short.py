# The SAR loss as the paper trains it (straight-through Gumbel-softmax into
# every logit, masks sampled with noise of scale 1, the masks' task gradient
# that of the masked forward), at the loss weight (10) that moves its masks
# in a short schedule from scratch. Not used by the ready configs, which
# keep the hook's defaults: add it to `_base_` (or copy the dict) to train a
# recipe the paper's way, as the "paper's settings" rows of the README were.
custom_hooks = [
    dict(
        type='SARLossHook',
        target_rate=0.5,
        loss_weight=10.0,
        rate_estimator='gumbel',
        mask_sampling='gumbel',
        mask_gradient='masked')
]
