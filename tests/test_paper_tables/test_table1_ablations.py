"""Table I: CIFAR-100 ablations of the two branches and of the region
selection, on SAR-ResNet32x2 G2 s2 alpha2 beta1 (modes: see
``paper_counts``)."""
import pytest

from .paper_counts import check_row

C = 'sar_resnet/sar-resnet32x2-{}_1xb128-300e_cifar100.py'
ROWS = [
    # config, count, paper GFLOPs
    (C.format('base-only'), 'fixed', 0.082),
    (C.format('refine-only'), 'above-target', 0.125),
    (C.format('center-mask'), 'fixed', 0.105),
    (C.format('uniform-mask'), 'fixed', 0.098),
    (C.format('g2s2a2b1-t0.3'), 'above-target', 0.091),
    (C.format('g2s2a2b1-t0.5'), 'above-target', 0.102),
]


@pytest.mark.parametrize('config, mode, paper', ROWS)
def test_table1_flops(config, mode, paper):
    check_row(config, mode, paper, (32, 32))
