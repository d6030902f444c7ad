# The backbone benchmarked in benchmarks/README.md: SAR-ResNet50, G2 s2
# alpha2 beta1, mask grid (7, 7, 2) (the default when it was measured; the
# default is now the authors' (14, 7, 2)). Only model.backbone is read.
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(
    backbone=dict(
        type='SARResNet',
        depth=50,
        mask_groups=2,
        base_stride=2,
        base_reduction=2,
        refine_expansion=1,
        mask_grid=(7, 7, 2),
        out_indices=(3, )))
