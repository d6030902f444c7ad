"""Overlays of refined patches, the Fig. 5 histogram and their tools."""
from types import SimpleNamespace

import mmcv
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement
from mmengine.visualization import LocalVisBackend, Visualizer
from tool_runner import REPO_ROOT, assert_ok, assert_one_line_error, run

from mmsar.analysis import build_model, load_config
from mmsar.engine.hooks.mask_vis_hook import SARMaskVisHook
from mmsar.models import MaskRecord, SARResNet
from mmsar.visualization import (draw_mask_overlays, feature_stride,
                                 image_masks, plot_complexity_histogram,
                                 select_records)

VISUALIZE = REPO_ROOT / 'tools' / 'analysis' / 'visualize_masks.py'
SAR_CLS_CONFIG = """
_base_ = ['{base}']
model = dict(backbone=dict(_delete_=True, type='SARResNet', depth=18))
"""


@pytest.fixture
def visualizer():
    return Visualizer.get_instance('mmsar_test_overlay')


def _one_cell_record(feature_size=(25, 25), grid=7, cell=0) -> MaskRecord:
    """Group 0 selects cell (cell, cell), group 1 every cell."""
    masks = torch.zeros(1, 2, grid, grid)
    masks[0, 0, cell, cell] = 1
    masks[0, 1] = 1
    return MaskRecord(0, 0, masks, feature_size)


def test_feature_stride_absorbs_padding():
    assert feature_stride(128, 32) == 4
    assert feature_stride(100, 25) == 4
    assert feature_stride(100, 32) == 4  # 100 padded to 128 by the model
    assert feature_stride(224, 7) == 32


def test_image_masks_follow_cell_bounds():
    # 25 rows over 7 cells: the first cell is 4 feature rows = 16 pixels.
    masks = image_masks(_one_cell_record(), 0, (100, 100), (100, 90))
    assert masks.shape == (2, 100, 90)
    assert masks[0, :16, :16].all()
    assert masks[0].sum() == 16 * 16
    assert masks[1].all()


def test_overlay_dims_unselected_patches(visualizer):
    image = np.full((64, 64, 3), 200, dtype=np.uint8)
    # the last cell covers feature rows 14-15, pixels 56-63
    record = _one_cell_record((16, 16), cell=6)
    figure = draw_mask_overlays(visualizer,
                                image, [record],
                                0, (64, 64),
                                groups=[0],
                                min_size=64)
    # one row: the image, then group 0
    assert figure.shape == (64, 64 * 2 + 4, 3)
    group0 = figure[:, 68:].astype(int)
    assert (group0[60, 60] == 200).all()  # selected: untouched
    assert (group0[30, 30] < 100).all()  # unselected: dimmed


def test_overlay_enlarges_small_images(visualizer):
    image = np.zeros((32, 32, 3), dtype=np.uint8)
    figure = draw_mask_overlays(visualizer, image, [_one_cell_record((8, 8))],
                                0, (32, 32))
    assert figure.shape[0] == 192


def test_select_records_names_blocks():
    model = SARResNet(depth=18).eval()
    with torch.no_grad():
        model(torch.rand(1, 3, 64, 64))
    records = model.mask_records
    assert [r.name for r in select_records(records, None)
            ] == ['stage0.block0', 'stage1.block0', 'stage2.block0']
    with pytest.raises(ValueError, match='stage9.block0'):
        select_records(records, ['stage9.block0'])


def test_histogram_png(tmp_path):
    out = tmp_path / 'hist.png'
    plot_complexity_histogram(np.linspace(0.2, 0.5, 30), np.linspace(2, 3, 30),
                              str(out), 4.09, 'test')
    assert mmcv.imread(str(out)).shape[2] == 3


# visualize_masks.py end to end ----------------------------------------------


@pytest.fixture
def sar_cls(tmp_path):
    """A SAR classifier config, a random-init checkpoint and an image."""
    config = tmp_path / 'sar_cls.py'
    base = REPO_ROOT / 'tests' / 'data' / 'configs' / 'toy_cls_resnet18.py'
    config.write_text(SAR_CLS_CONFIG.format(base=base))
    model = build_model(load_config(str(config)))
    checkpoint = tmp_path / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    image = tmp_path / 'shapes.png'
    canvas = np.zeros((80, 96, 3), dtype=np.uint8)
    canvas[20:60, 30:70] = (0, 200, 255)
    mmcv.imwrite(canvas, str(image))
    return SimpleNamespace(config=config, checkpoint=checkpoint, image=image)


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


# SARMaskVisHook -------------------------------------------------------------


def test_hook_logs_overlays_to_local_backend(tmp_path):
    model = SimpleNamespace(backbone=SARResNet(depth=18).eval())
    visualizer = Visualizer(name='mmsar_test_hook',
                            vis_backends=[dict(type='LocalVisBackend')],
                            save_dir=str(tmp_path))
    runner = SimpleNamespace(model=model, visualizer=visualizer, iter=7)
    hook = SARMaskVisHook(num_images=3)
    hook.before_val_epoch(runner)
    for batch_idx in range(2):
        images = [
            torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
            for _ in range(2)
        ]
        with torch.no_grad():
            model.backbone(torch.stack(images).float())
        batch = dict(inputs=images, data_samples=[BaseDataElement()] * 2)
        hook.after_val_iter(runner, batch_idx, batch)
    saved = sorted(p.name for p in tmp_path.rglob('*.png'))
    assert saved == [f'sar_masks_{i}_7.png' for i in range(3)]
    assert isinstance(visualizer._vis_backends['LocalVisBackend'],
                      LocalVisBackend)
