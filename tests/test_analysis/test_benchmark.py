"""The benchmark tool runs end to end; no timing is asserted."""
import json

import torch
from tool_runner import assert_ok, assert_one_line_error, run

from mmsar.analysis.benchmark import (DENSE, format_profile, layer_type,
                                      profile_layer_types)

TINY_CONFIG = """
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='SARResNet', depth=18, mask_grid=(4, 4, 2)))
"""


def test_benchmark_tool_writes_results(tmp_path):
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_CONFIG)
    out_dir = tmp_path / 'out'
    result = run('tools/analysis/benchmark.py', config, '--rate', 0, 1,
                 '--threads', 1, '--shape', 64, 64, '--runs', 3, '--warmup', 1,
                 '--profile', '--out-dir', out_dir)
    assert_ok(result)
    assert result.stdout.count('ratio vs optimised dense: ') == 2
    assert result.stdout.count('ratio vs stock dense: ') == 2
    data = json.loads((out_dir / 'benchmark.json').read_text())
    assert [r['rate'] for r in data['records']] == [0, 1]
    assert all(r['sar_ms'] > 0 for r in data['records'])
    assert 'refine blocks (sparse)' in next(iter(data['profile'].values()))
    assert '| ratio vs optimised |' in (out_dir / 'benchmark.md').read_text()
    assert (out_dir / 'benchmark.png').stat().st_size > 0


def test_benchmark_tool_rejects_a_config_without_backbone(tmp_path):
    config = tmp_path / 'bad.py'
    config.write_text('model = dict(type="ImageClassifier")\n')
    result = run('tools/analysis/benchmark.py', config)
    assert_one_line_error(result, 'no model.backbone')


def test_layer_types_cover_a_deployed_sar_backbone():
    from mmsar.models import SARResNet
    model = SARResNet(depth=18, mask_grid=(4, 4, 2))
    model.switch_to_sparse()
    profile = profile_layer_types(model, torch.randn(1, 3, 64, 64), runs=2)
    assert {
        'stem', 'fusion blocks', 'base blocks', 'refine blocks (sparse)',
        'refine shortcuts (dense 1x1)', 'region selection',
        'SAR fusion (gate, align, blend)', 'layer4 (plain)'
    } <= set(profile)
    assert layer_type('layer2.1.refine_blocks.0.conv1', None, set()) == ''
    table = format_profile({'sar': profile, DENSE: {'stem': 1.0}})
    assert table.splitlines()[-1].startswith('| total |')
