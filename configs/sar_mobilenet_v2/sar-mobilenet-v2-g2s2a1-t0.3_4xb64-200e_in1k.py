# Table VII: SAR-MobileNet-v2 (x1.0), G2 s2 alpha1 beta1, against the x0.75
# baseline of the same FLOPs (../mobilenet_v2/). The paper gives neither the
# width nor the target. Width: the authors' code builds SAR-MobileNet-v2 at
# x1.0 (and 1.3, 1.4) only, and at x0.75 it costs at most 0.19 GFLOPs (every
# mask on), below the printed 0.21. Target: the printed 0.21 GFLOPs is the
# x1.0 network at a mean rate of about 0.38 (0.20 GFLOPs at rate 0.3, 0.27
# with every mask on); 0.3 is our choice, for a trained rate that ends above
# its target as in the paper's other ImageNet rows. Same recipe as the
# baseline; SARLossHook as for the other ImageNet SAR networks.
_base_ = '../mobilenet_v2/mobilenet-v2-x0.75_4xb64-200e_in1k.py'
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='SARMobileNetV2',
        widen_factor=1.0,
        mask_groups=2,
        base_stride=2,
        base_reduction=1,
        refine_expansion=1))

custom_hooks = [dict(type='SARLossHook', target_rate=0.3, loss_weight=0.5)]
