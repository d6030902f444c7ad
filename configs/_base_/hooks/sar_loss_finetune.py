# The SAR loss when fine-tuning an ImageNet-trained SAR backbone downstream
# (detection, segmentation): the backbone already runs at the target rate,
# so the target stays there from the start.
custom_hooks = [
    dict(
        type='SARLossHook',
        target_rate=0.5,
        loss_weight=0.5,
        schedule='constant')
]
