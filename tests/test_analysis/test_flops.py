"""MACs of SAR backbones against the authors' counter and mmengine's."""
import pytest
import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer

from mmsar.analysis import (Complexity, count_at_rate, count_complexity,
                            dense_counterpart, layer_parts, selected_fraction)
from mmsar.models import SARResNet

# The authors' totals count the ImageNet head too: global pool + fc.
HEAD_MACS = 2048 * 7 * 7 + 2048 * 1000
# SAR-ResNet-50 G2 s2 alpha2 and ResNet-50 at 224x224, in GMACs.
REFERENCE = {1.0: 2.904, 0.0: 1.857, 0.5: 2.381}
REFERENCE_DENSE = 4.091
REFERENCE_PARTS = {
    'stem': 0.12,
    'base': 0.17,
    'selection': 0.02,
    'refine_masked': 1.047,
    'refine_shortcut': 0.26,
    'fusion_gate_align': 0.08,
    'fusion_blocks': 0.41,
    'plain_stages': 0.81,
}


@pytest.fixture(scope='module')
def sar50():
    return SARResNet(depth=50, mask_groups=2, base_stride=2,
                     base_reduction=2).eval()


@pytest.fixture(scope='module')
def sar50_counts(sar50):
    return {rate: count_at_rate(sar50, rate) for rate in REFERENCE}


def _gmacs(result: Complexity) -> float:
    return result.macs.item() / 1e9


@pytest.mark.parametrize('rate', sorted(REFERENCE))
def test_sar_resnet50_matches_reference(sar50_counts, rate):
    with_head = _gmacs(sar50_counts[rate]) + HEAD_MACS / 1e9
    assert with_head == pytest.approx(REFERENCE[rate], rel=0.01)
    # The backbone alone differs by the head's 0.07 %.
    assert _gmacs(sar50_counts[rate]) == pytest.approx(REFERENCE[rate],
                                                       rel=0.01)


def test_sar_resnet50_all_on_and_off_within_a_thousandth(sar50_counts):
    for rate in (0.0, 1.0):
        with_head = _gmacs(sar50_counts[rate]) + HEAD_MACS / 1e9
        assert with_head == pytest.approx(REFERENCE[rate], rel=1e-3)


def test_sar_resnet50_parts(sar50_counts):
    parts = {k: v.item() / 1e9 for k, v in sar50_counts[1.0].parts.items()}
    for part, expected in REFERENCE_PARTS.items():
        assert parts[part] == pytest.approx(expected, abs=0.01), part
    off = sar50_counts[0.0].parts
    assert off['refine_masked'].item() == 0
    fixed = sum(v for k, v in parts.items() if k != 'refine_masked')
    assert fixed == pytest.approx(_gmacs(sar50_counts[0.0]))


def test_sar_resnet50_params(sar50_counts):
    # The reference total 25.019 M includes the 2.049 M of the fc.
    assert sar50_counts[1.0].params / 1e6 == pytest.approx(22.970, abs=1e-3)


def test_dense_resnet50(sar50):
    dense = dense_counterpart(sar50)
    result = count_at_rate(dense, None)
    assert _gmacs(result) + HEAD_MACS / 1e9 == pytest.approx(REFERENCE_DENSE,
                                                             rel=1e-3)
    assert result.rates is None
    nonzero = {k for k, v in result.parts.items() if v.item() > 0}
    assert nonzero == {'stem', 'plain_stages'}


def test_macs_increase_with_rate():
    model = SARResNet(depth=18).eval()
    macs = [
        count_at_rate(model, rate, (64, 64)).macs.item()
        for rate in (0.0, 0.25, 0.5, 0.75, 1.0)
    ]
    assert macs == sorted(macs) and len(set(macs)) == len(macs)


def test_selected_fraction_uses_actual_cell_sizes():
    # 10 rows over 7 cells: sizes 2, 1, 2, 1, 2, 1, 1 (ceil boundaries).
    masks = torch.zeros(1, 2, 7, 7)
    masks[0, 0, 0, 0] = 1  # a 2 x 2 cell
    masks[0, 1, 1, 1] = 1  # a 1 x 1 cell
    fraction = selected_fraction(masks, (10, 10))
    assert fraction.tolist() == [[0.04, 0.01]]


def test_selected_fraction_with_empty_cells():
    # 3 rows over 7 cells: four cells are empty, every pixel is in one.
    masks = torch.ones(1, 1, 7, 7)
    assert selected_fraction(masks, (3, 5)).item() == pytest.approx(1.0)
    masks[0, 0, 1] = 0  # cell row 1 is empty at H = 3
    assert selected_fraction(masks, (3, 5)).item() == pytest.approx(1.0)


def test_refine_convs_counted_at_selected_area():
    """At 100x100 the 25x25 stage-1 map is cut into unequal 7x7 cells."""
    model = SARResNet(depth=18).eval()
    inputs = torch.rand(2, 3, 100, 100)
    result = count_complexity(model, inputs)
    parts, masked_by = layer_parts(model)
    records = {(r.stage, r.block): r for r in model.mask_records}
    full = count_at_rate(model, 1.0, (100, 100)).layers
    for name, key in masked_by.items():
        record = records[key]
        fraction = selected_fraction(record.masks, record.feature_size).mean(1)
        assert torch.allclose(result.layers[name], full[name] * fraction)
    # A batch counts each image as alone.
    single = count_complexity(model, inputs[1:])
    assert result.macs[1].item() == pytest.approx(single.macs.item())


def _mmengine_by_module(model: nn.Module, inputs: torch.Tensor) -> dict:
    analyzer = FlopAnalyzer(model, inputs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.by_module()


@pytest.mark.parametrize('rate', [1.0, 0.0])
def test_dense_layers_match_mmengine(rate):
    """mmengine counts every conv densely (masks are multiplications), so
    all-on equals it layer by layer and all-off on every unmasked layer.

    mmengine does not count ``avg_pool2d`` / ``max_pool2d`` (we count
    ``k * k`` per output), and counts norms (we do not); only layers are
    compared.
    """
    model = SARResNet(depth=50).eval()
    model.force_activation_rate(rate)
    inputs = torch.rand(1, 3, 64, 64)
    reference = _mmengine_by_module(model, inputs)
    result = count_complexity(model, inputs)
    _, masked_by = layer_parts(model)
    for name, macs in result.layers.items():
        layer = model.get_submodule(name)
        if isinstance(layer, (nn.AvgPool2d, nn.MaxPool2d)):
            assert reference[name] == 0
        elif name in masked_by:
            assert macs.item() == reference[name] * rate, name
        else:
            assert macs.item() == reference[name], name


@pytest.mark.parametrize('options, rate', [
    (dict(), 0.5),
    (dict(base_stride=4, base_reduction=1), 0.3),
    (dict(mask_mode='center'), None),
    (dict(branches='base'), None),
])
def test_meta_count_equals_a_real_forward(options, rate):
    """Forced and fixed masks are counted from a meta-device forward; a
    real forward with the same masks gives the same layers and totals."""
    model = SARResNet(depth=18, **options).eval()
    shape = (128, 132)  # stage maps 32x33, 16x17, 8x9: uneven cells
    counted = count_at_rate(model, rate, shape)
    # The model is left as it was: learned selection, real weights.
    assert all(s.forced_rate is None for s in model._selectors())
    assert next(model.parameters()).device.type == 'cpu'
    model.force_activation_rate(rate)
    real = count_complexity(model, torch.rand(1, 3, *shape))
    assert counted.layers.keys() == real.layers.keys()
    for name, macs in real.layers.items():
        assert counted.layers[name].item() == macs.item(), name
    assert counted.params == real.params
    if real.rates is not None:
        assert counted.rates.item() == pytest.approx(real.rates.item())
