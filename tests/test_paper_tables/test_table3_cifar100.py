"""Table III: CIFAR-100, SAR-ResNet32x2 G4 s2 alpha2 with beta 1 and 2
(modes: see ``paper_counts``).

Not checked: the baselines (ResNet56, ResNet110, ResNet32x2 and the
competing methods), networks this code does not build."""
import pytest

from .paper_counts import check_row

C = 'sar_resnet/sar-resnet32x2-{}_1xb128-300e_cifar100.py'
ROWS = [
    (C.format('g4s2a2b1-t0.5'), 'target', 0.074),
    (C.format('g4s2a2b1-t0.7'), 'target', 0.084),
    (C.format('g4s2a2b2-t0.3'), 'above-target', 0.127),
    (C.format('g4s2a2b2-t0.6'), 'above-target', 0.182),
]


@pytest.mark.parametrize('config, mode, paper', ROWS)
def test_table3_flops(config, mode, paper):
    check_row(config, mode, paper, (32, 32))
