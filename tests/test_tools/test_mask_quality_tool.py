"""tools/analysis/mask_quality.py end to end."""
import json
import math

import pytest

from tests.tool_runner import REPO_ROOT, assert_ok, assert_one_line_error, run

MASK_QUALITY = REPO_ROOT / 'tools' / 'analysis' / 'mask_quality.py'
DET_CONFIG = (REPO_ROOT / 'configs' / 'faster_rcnn' /
              'faster-rcnn_sar-r18-g2s2a2-t0.5_fpn_1xb8-12e_toy-coco.py')


@pytest.mark.slow
def test_detection_boxes(tmp_path, toy_data_root):
    proc = run(MASK_QUALITY, DET_CONFIG, '--num-images', 2, '--out-dir',
               tmp_path)
    assert_ok(proc)
    report = json.loads((tmp_path / 'mask_quality.json').read_text())
    assert report['num_images'] == 2
    # A fresh backbone refines everything: no preference for the objects.
    for stage in ('stage0', 'stage1'):
        assert report['stages'][stage]['lift'] == pytest.approx(1.0)
    # The 2 x 2 cells of the last stage all touch an object: no background.
    assert math.isnan(report['stages']['stage2']['lift'])
    assert report['stages']['all']['eval_rate'] == 1.0
    assert 'stage0: p_on_object 1.000' in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize('case', ['no_boxes_for_images', 'missing_boxes'])
def test_bad_input_is_one_line(sar_cls_config, tmp_path, toy_data_root,
                               case):
    extra = [] if case == 'no_boxes_for_images' else [
        '--boxes', tmp_path / 'missing.json'
    ]
    proc = run(MASK_QUALITY, sar_cls_config, '--num-images', 1, *extra,
               '--out-dir', tmp_path)
    assert_one_line_error(proc, 'error: ')
