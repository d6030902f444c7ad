"""`make demo`'s script end to end, with a two-iteration training."""
import json
import sys

import pytest

from tests.tool_runner import FAST, assert_ok, run


@pytest.mark.slow
def test_demo_runs_every_step_and_prints_the_summary(tmp_path, toy_data_root):
    work_dir = tmp_path / 'demo'
    train_options = FAST + [
        'train_dataloader.dataset.indices=16', 'train_cfg.max_epochs=1'
    ]
    proc = run('bash',
               'tools/demo.sh',
               env=dict(PYTHON=sys.executable,
                        WORK_DIR=str(work_dir),
                        TRAIN_ARGS=' '.join(['--cfg-options', *train_options]),
                        BENCH_RUNS='2'))
    assert_ok(proc)
    for step in range(1, 7):
        assert f'[demo {step}/6]' in proc.stdout
    assert '(test)' in proc.stdout

    summary = proc.stdout.split('=== mmsar demo summary ===')[1]
    flops = json.loads((work_dir / 'flops' / 'flops.json').read_text())
    rate = flops['activation_rate']
    assert (f"mean activation rate: {rate['mean']:.3f} (target 0.5, "
            f"per image {rate['min']:.2f}-{rate['max']:.2f})") in summary
    assert f"vs {flops['dense']['gmacs']:.4f} for the dense ResNet-18" in (
        summary)
    # two iterations may leave every box below the score threshold
    assert 'COCO bbox mAP (toy val): ' in summary
    bench = json.loads(
        (work_dir / 'benchmark' / 'benchmark.json').read_text())['records']
    assert [record['rate'] for record in bench] == [round(rate['mean'], 3)]
    assert len(list((work_dir / 'masks').glob('*.png'))) == 4
