"""Table II: CIFAR-100, SAR-ResNet32x2 s2 alpha2 beta1 at G = 1, 2, 4 and
targets 0.3, 0.5, 0.7 (modes: see ``paper_counts``)."""
import pytest

from .paper_counts import check_row

C = 'sar_resnet/sar-resnet32x2-g{}s2a2b1-t{}_1xb128-300e_cifar100.py'
A = 'above-target'
ROWS = [
    (C.format(1, 0.3), A, 0.138),
    (C.format(1, 0.5), A, 0.173),
    (C.format(1, 0.7), A, 0.213),
    (C.format(2, 0.3), A, 0.091),
    (C.format(2, 0.5), A, 0.102),
    (C.format(2, 0.7), 'target', 0.121),
    (C.format(4, 0.3), A, 0.065),
    (C.format(4, 0.5), 'target', 0.074),
    (C.format(4, 0.7), 'target', 0.084),
]


@pytest.mark.parametrize('config, mode, paper', ROWS)
def test_table2_flops(config, mode, paper):
    check_row(config, mode, paper, (32, 32))
