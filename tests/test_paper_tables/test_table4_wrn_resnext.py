"""Table IV: CIFAR-100, SAR on WRN-28x10 (G2 s2 alpha2 beta1) and on
ResNeXt-29 8x32d (G2 and G1, s2 alpha1 beta1), at the target rate.

Not checked: the dense baselines (5.24 G, 2.06 G), CIFAR networks that
mmpretrain does not have."""
import pytest

from .paper_counts import check_row

WRN = 'sar_wide_resnet/sar-wrn28x10-g2s2a2b1-t{}_1xb128-500e_cifar100.py'
RESNEXT = 'sar_resnext/sar-resnext29-8x32d-{}_1xb128-500e_cifar100.py'
ROWS = [
    (WRN.format(0.3), 1.59),
    (WRN.format(0.5), 1.97),
    (RESNEXT.format('g2s2a1-t0.5'), 1.28),
    (RESNEXT.format('g2s2a1-t0.7'), 1.44),
    (RESNEXT.format('g1s2a1-t0.5'), 1.46),
    (RESNEXT.format('g1s2a1-t0.8'), 1.81),
]


@pytest.mark.parametrize('config, paper', ROWS)
def test_table4_flops(config, paper):
    check_row(config, 'target', paper, (32, 32))
