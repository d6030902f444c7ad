"""The benchmark tool runs end to end; no timing is asserted."""
import json
import os
import time

import pytest
import torch
import torch.nn as nn
from tests.tool_runner import assert_ok, assert_one_line_error, run

from mmsar.analysis.benchmark import (DENSE, calibrate_mask_rate,
                                      format_profile, layer_type,
                                      profile_layer_types, time_in_processes,
                                      time_interleaved)
from mmsar.analysis.benchmark.runners import (SETTLE_SECONDS, EngineRunner,
                                              TorchRunner)

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
    for line in ('ratio vs optimised dense: ', 'ratio vs stock dense: ',
                 'ratio vs best dense engine: '):
        assert result.stdout.count(line) == 2
    data = json.loads((out_dir / 'benchmark.json').read_text())
    assert [r['rate'] for r in data['records']] == [0, 1]
    assert all(r['sar_ms'] > 0 for r in data['records'])
    layers = data['profiles']['torch, per layer type']
    assert 'refine blocks (sparse)' in next(iter(layers.values()))
    assert '| ratio vs best dense |' in (out_dir / 'benchmark.md').read_text()
    assert (out_dir / 'benchmark.png').stat().st_size > 0


@pytest.mark.slow
def test_benchmark_tool_times_every_backend(openvino_runs_bf16, tmp_path):
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_CONFIG)
    out_dir = tmp_path / 'out'
    engines = ['onnxruntime', 'openvino']
    if openvino_runs_bf16:
        engines.append('openvino-bf16')
    result = run('tools/analysis/benchmark.py', config, '--rate', 0.5,
                 '--threads', 1, '--shape', 64, 64, '--runs', 2, '--warmup', 1,
                 '--backends', 'torch', *engines, '--out-dir', out_dir)
    assert_ok(result)
    assert result.stdout.count('ratio vs best dense engine: ') == 1
    record = json.loads((out_dir / 'benchmark.json').read_text())['records'][0]
    assert set(record['ms']) == {
        'SAR@0.5 torch', 'optimised dense', 'stock dense',
        *(f'SAR@0.5 {e}' for e in engines), *(f'dense {e}' for e in engines)
    }
    if 'openvino-bf16' in engines:
        assert 'ratio vs best dense engine, f32 only: ' in result.stdout
    errors = record['max_rel_err']
    # Every engine's error is reported, bf16's too (not exact, and its
    # rounding may flip cells near the threshold: no bound here).
    assert set(errors) == set(engines)
    assert max(errors['onnxruntime'], errors['openvino']) <= 1e-4


@pytest.mark.slow
def test_benchmark_tool_times_models_in_processes(tmp_path):
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_CONFIG)
    out_dir = tmp_path / 'out'
    result = run('tools/analysis/benchmark.py', config, '--rate', 0.5,
                 '--threads', 1, '--shape', 64, 64, '--runs', 2, '--warmup', 1,
                 '--backends', 'torch', 'onnxruntime', '--isolation',
                 'processes', '--out-dir', out_dir)
    assert_ok(result)
    assert 'cpu, processes]' in result.stdout
    assert result.stdout.count('ratio vs best dense engine: ') == 1
    record = json.loads((out_dir / 'benchmark.json').read_text())['records'][0]
    assert record['isolation'] == 'processes'
    assert len(record['ms']) == 5 and min(record['ms'].values()) > 0
    assert record['max_rel_err']['onnxruntime'] <= 1e-4
    assert (out_dir / 'benchmark.md').read_text().startswith(
        'Models timed each alone in a process of its own')


def test_benchmark_tool_rejects_an_unknown_backend(tmp_path):
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_CONFIG)
    result = run('tools/analysis/benchmark.py', config, '--backends',
                 'tensorrt')
    assert_one_line_error(result, 'unsupported backend', 'tensorrt')


def test_benchmark_tool_rejects_processes_on_cuda(tmp_path):
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_CONFIG)
    result = run('tools/analysis/benchmark.py', config, '--device', 'cuda',
                 '--isolation', 'processes')
    assert_one_line_error(result, 'only interleaved torch models run on cuda',
                          "isolation 'processes'")


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
    # The fusion block of the last SAR stage opens layer4, which holds no
    # SAR module; the plain blocks after it are layer4's own.
    assert layer_type('layer4.0', model.layer4[0], {'layer4.0'}) == (
        'fusion blocks')
    assert layer_type('layer4.1', model.layer4[1], {'layer4.0'}) == (
        'layer4 (plain)')
    table = format_profile({'sar': profile, DENSE: {'stem': 1.0}})
    assert table.splitlines()[-1].startswith('| total |')


def test_calibrated_masks_hit_the_rate_and_differ_per_sample():
    from mmsar.models import SARResNet
    torch.manual_seed(0)
    model = SARResNet(depth=18, mask_grid=(4, 4, 2)).eval()
    images = torch.randn(3, 3, 64, 64)
    calibrate_mask_rate(model, images, 0.5)
    with torch.no_grad():
        model(images)
    for record in model.mask_records:
        masks = record.masks
        # Each group turns on half of the N * K * K cells.
        on = masks.transpose(0, 1).flatten(1).sum(1)
        assert on.tolist() == [masks[:, 0].numel() / 2] * masks.shape[1]
    rates = torch.stack([r.rates for r in model.mask_records])
    assert (rates.std(1) > 0).any()


def test_interleaved_timing_lets_each_pool_settle():
    """Each forward starts a pause after the previous one ends, whatever
    model ran before, so that no pool's idle spinning is timed."""
    events = []
    runners = {
        name: (lambda name=name: events.append(
            (name, time.perf_counter())))
        for name in ('a', 'b')
    }
    times = time_interleaved(runners, runs=2, warmup=1,
                             device=torch.device('cpu'))
    assert [name for name, _ in events] == ['a', 'b'] * 3
    assert {name: len(t) for name, t in times.items()} == {'a': 2, 'b': 2}
    gaps = [later - earlier for (_, earlier), (_, later) in zip(
        events, events[1:])]
    assert min(gaps) >= SETTLE_SECONDS


class LoggedForward(nn.Module):
    """Appends (name, process id, start, end) of each forward to a file."""

    def __init__(self, name: str, log: str):
        super().__init__()
        self.name, self.log = name, log

    def forward(self, x):
        start = time.time()
        time.sleep(0.005)
        with open(self.log, 'a') as f:
            f.write(f'{self.name} {os.getpid()} {start} {time.time()}\n')
        return x


def test_processes_time_each_model_alone_in_turns(tmp_path):
    log = str(tmp_path / 'log')
    runners = {n: TorchRunner(LoggedForward(n, log)) for n in ('a', 'b')}
    times = time_in_processes(runners, torch.zeros(1), num_threads=1,
                              runs=4, warmup=1, rounds=2)
    assert {name: len(t) for name, t in times.items()} == {'a': 4, 'b': 4}
    events = [line.split() for line in open(log)]
    # Warm-up forwards open each worker's first turn; blocks of 2 then.
    assert [name for name, *_ in events] == list('aaabbbaabb')
    pids = {name: {pid for n, pid, *_ in events if n == name}
            for name in 'ab'}
    assert all(len(p) == 1 for p in pids.values())
    assert pids['a'] != pids['b'] and str(os.getpid()) not in (
        pids['a'] | pids['b'])
    # One forward at a time.
    spans = sorted((float(start), float(end)) for *_, start, end in events)
    assert all(end <= next_start
               for (_, end), (next_start, _) in zip(spans, spans[1:]))


class ExitingForward(nn.Module):
    """A forward that ends its process, as a crash in an engine would."""

    def forward(self, x):
        os._exit(3)


def test_processes_report_a_worker_that_dies():
    runners = {'a': TorchRunner(nn.Identity()),
               'crashing': TorchRunner(ExitingForward())}
    with pytest.raises(RuntimeError,
                       match='crashing exited in its process with code 3'):
        time_in_processes(runners, torch.zeros(1), 1, runs=2, warmup=0)


def test_processes_report_a_runner_that_fails_in_its_worker(tmp_path):
    runners = {'dense onnxruntime': EngineRunner(
        str(tmp_path / 'missing.onnx'), 'onnxruntime', 1)}
    with pytest.raises(RuntimeError,
                       match='dense onnxruntime failed in its process: '
                       'EngineError: onnxruntime cannot load'):
        time_in_processes(runners, torch.zeros(1, 3, 8, 8), 1, runs=1,
                          warmup=0)


def test_record_keeps_the_f32_ratio_apart_from_bf16():
    """bf16 runs may be the fastest of all; the f32 ratio (exact paths
    only, the goals' ratio) and the ratios against torch ignore them."""
    from mmsar.analysis.benchmark.timing import _record
    medians = {
        'SAR@0.5 torch': 40.0, 'SAR@0.5 openvino': 30.0,
        'SAR@0.5 openvino-bf16': 20.0, 'optimised dense': 50.0,
        'dense openvino': 36.0, 'dense openvino-bf16': 10.0,
        'stock dense': 60.0
    }
    errors = {'SAR@0.5 openvino': 1e-6, 'SAR@0.5 openvino-bf16': 1e-2}
    record = _record(medians, errors, ['torch', 'openvino', 'openvino-bf16'],
                     dict(rate=0.5, batch=1))
    assert (record['sar_backend'], record['best_dense']) == (
        'openvino-bf16', 'dense openvino-bf16')
    assert record['ratio_vs_best_dense'] == pytest.approx(2.0)
    assert (record['f32_sar_backend'], record['f32_best_dense']) == (
        'openvino', 'dense openvino')
    assert record['ratio_f32_vs_best_f32_dense'] == pytest.approx(30 / 36)
    assert record['ratio_vs_dense'] == pytest.approx(30 / 50)
    assert record['ratio_vs_stock'] == pytest.approx(30 / 60)
