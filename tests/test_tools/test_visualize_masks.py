"""tools/analysis/visualize_masks.py end to end."""
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch

from mmsar.analysis import build_model, load_config
from tests.tool_runner import REPO_ROOT, assert_ok, assert_one_line_error, run

VISUALIZE = REPO_ROOT / 'tools' / 'analysis' / 'visualize_masks.py'


@pytest.fixture
def sar_cls(sar_cls_config, tmp_path):
    """A SAR classifier config, a random-init checkpoint and an image."""
    model = build_model(load_config(str(sar_cls_config)))
    checkpoint = tmp_path / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    image = tmp_path / 'shapes.png'
    canvas = np.zeros((80, 96, 3), dtype=np.uint8)
    canvas[20:60, 30:70] = (0, 200, 255)
    mmcv.imwrite(canvas, str(image))
    return SimpleNamespace(config=sar_cls_config,
                           checkpoint=checkpoint,
                           image=image)


@pytest.mark.slow
def test_visualize_masks_writes_pngs(sar_cls, tmp_path):
    out_dir = tmp_path / 'vis'
    proc = run(VISUALIZE, sar_cls.config, sar_cls.checkpoint, sar_cls.image,
               '--blocks', 'stage0.block0', 'stage1.block0', '--groups', 1,
               '--out-dir', out_dir)
    assert_ok(proc)
    figure = mmcv.imread(str(out_dir / 'shapes.png'))
    # two rows (blocks) of two panels (image, group 1), each the 80 x 96
    # image enlarged 3 times to reach 192 pixels
    assert figure.shape == (2 * 240 + 4, 2 * 288 + 4, 3)


@pytest.mark.slow
@pytest.mark.parametrize('case', ['unreadable', 'no_checkpoint', 'block'])
def test_visualize_masks_bad_input_is_one_line(sar_cls, tmp_path, case):
    bad_image = tmp_path / 'broken.png'
    bad_image.write_text('not an image')
    args = {
        'unreadable': [sar_cls.checkpoint, bad_image],
        'no_checkpoint': [tmp_path / 'missing.pth', sar_cls.image],
        'block': [sar_cls.checkpoint, sar_cls.image, '--blocks', 'stage7'],
    }[case]
    proc = run(VISUALIZE, sar_cls.config, *args, '--out-dir', tmp_path)
    assert_one_line_error(proc, 'error: ')
