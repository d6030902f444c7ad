"""Table VII: ImageNet, SAR on ResNeXt50 32x4d and MobileNet-v2 at
224 x 224, and the networks they are compared with (modes: see
``paper_counts``).

The paper gives no target rate for these rows. ResNeXt: the configs use
its default 0.5, and the printed FLOPs lie above that count (they imply a
rate of 0.74). MobileNet-v2: the baseline is mmpretrain's x0.75; the SAR
row is x1.0 (the authors' SAR-MobileNet-v2 has no x0.75, and SAR at x0.75
costs 0.19 GFLOPs with every mask on, below the printed 0.21); its config
targets 0.3 (0.20 GFLOPs) and the printed figure implies a rate of about
0.38. Its 2 x 2 masks of stages 3 and 4 (7 of its 12 refine blocks) take
rates in steps of 0.25, so no forced rate counts 0.21 within 2%: 0.204 at
0.37, 0.217 at 0.375."""
import pytest
from mmpretrain.models import MobileNetV2

from mmsar.analysis import count_at_rate

from .paper_counts import build_backbone, check_row, count

C = 'sar_resnext/sar-resnext50-32x4d-{}_4xb64-200e_in1k.py'
M = 'sar_mobilenet_v2/sar-mobilenet-v2-g2s2a1-t0.3_4xb64-200e_in1k.py'
M_DENSE = 'mobilenet_v2/mobilenet-v2-x0.75_4xb64-200e_in1k.py'
ROWS = [
    (C.format('g2s2a1-t0.5'), 'dense', 4.23),
    (C.format('g2s2a1-t0.5'), 'above-target', 3.23),
    (C.format('g2s4a1-t0.5'), 'above-target', 2.96),
    (M_DENSE, 'fixed', 0.21),
    (M, 'above-target', 0.21),
]


@pytest.mark.parametrize('config, mode, paper', ROWS)
def test_table7_flops(config, mode, paper):
    check_row(config, mode, paper, (224, 224))


def test_table7_sar_mobilenet_v2_is_not_x0_75():
    """SAR on the x0.75 baseline cannot cost the printed 0.21 GFLOPs."""
    sar = build_backbone(M)
    assert sar.widen_factor == 1.0
    assert type(build_backbone(M_DENSE)) is MobileNetV2
    sar_x075 = type(sar)(widen_factor=0.75)
    fc = 1280 * 1000
    on = (count_at_rate(sar_x075, 1.0).macs.item() + fc) / 1e9
    assert on < 0.21 * 0.95
    # At x1.0 every mask on costs more, none less: 0.21 is in between.
    assert count(M, 'on', (224, 224))['gmacs'] > 0.21 * 1.2
