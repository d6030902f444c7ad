"""tools/analysis/get_flops.py end to end."""
import json

import pytest

from mmsar.analysis import count_at_rate
from mmsar.models import SARResNet
from tests.tool_runner import (REPO_ROOT, TEST_CFGS, assert_ok,
                               assert_one_line_error, run)

GET_FLOPS = REPO_ROOT / 'tools' / 'analysis' / 'get_flops.py'


def _gmacs_lines(stdout: str):
    return [
        line for line in stdout.splitlines()
        if line.startswith('backbone GMACs:')
    ]


@pytest.mark.slow
def test_get_flops_forced_rate(sar_cls_config, tmp_path):
    out_dir = tmp_path / 'out'
    proc = run(GET_FLOPS, sar_cls_config, '--rate', 0.5, '--shape', 64, 64,
               '--out-dir', out_dir)
    assert_ok(proc)
    lines = _gmacs_lines(proc.stdout)
    # mean, median, min, max and the dense ResNet-18
    assert len(lines) == 5 and 'ResNet-18' in lines[-1]
    expected = count_at_rate(SARResNet(depth=18), 0.5, (64, 64))
    assert float(lines[0].split()[2]) == pytest.approx(
        expected.macs.item() / 1e9, abs=1e-4)
    report = json.loads((out_dir / 'flops.json').read_text())
    assert report['num_images'] == 1 and report['forced_rate'] == 0.5
    assert (out_dir / 'flops_hist.png').stat().st_size > 0


@pytest.mark.slow
def test_get_flops_names_other_dense_baselines(tmp_path):
    config = REPO_ROOT / 'configs' / 'sar_mobilenet_v2' / (
        'sar-mobilenet-v2-g2s2a1-t0.3_4xb64-200e_in1k.py')
    proc = run(GET_FLOPS, config, '--rate', 0.5, '--shape', 112, 112,
               '--out-dir', tmp_path / 'out')
    assert_ok(proc)
    assert 'MobileNetV2 x1.0' in _gmacs_lines(proc.stdout)[-1]


@pytest.mark.slow
def test_get_flops_validation_images(sar_cls_config, tmp_path, toy_data_root):
    out_dir = tmp_path / 'out'
    proc = run(GET_FLOPS, sar_cls_config, '--num-images', 3, '--out-dir',
               out_dir)
    assert_ok(proc)
    report = json.loads((out_dir / 'flops.json').read_text())
    assert len(report['per_image']) == 3
    assert report['dense']['gmacs'] > report['backbone_gmacs']['max']
    assert (out_dir / 'flops_hist.png').stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize('case', ['not_sar', 'no_checkpoint', 'no_config'])
def test_get_flops_bad_input_is_one_line(sar_cls_config, tmp_path, case):
    args = {
        'not_sar': [TEST_CFGS / 'toy_cls_resnet18.py'],
        'no_checkpoint': [sar_cls_config, tmp_path / 'missing.pth'],
        'no_config': [tmp_path / 'missing.py'],
    }[case]
    proc = run(GET_FLOPS, *args, '--rate', 1, '--out-dir', tmp_path)
    assert_one_line_error(proc, 'error: ')
