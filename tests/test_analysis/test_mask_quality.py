import math

import pytest
import torch

from mmsar.analysis.mask_quality import (MaskQuality, boxes_to_objects,
                                         measure_mask_quality, object_cells)
from mmsar.models import SARResNetCifar
from mmsar.models.utils.mask_record import MaskRecord


def test_object_cells_map_input_boxes_to_feature_cells():
    # Input 32x32, feature 16x16 (stride 2), K = 4: cells of 8 input pixels.
    objects = boxes_to_objects([torch.tensor([[9., 1., 12., 6.]])], (32, 32))
    cells = object_cells(objects, (16, 16), 4)
    expected = torch.zeros(1, 4, 4, dtype=torch.bool)
    expected[0, 0, 1] = True
    assert torch.equal(cells, expected)


def test_lift_counts_by_hand():
    objects = torch.zeros(2, 8, 8, dtype=torch.bool)
    objects[:, :4, :4] = True  # cell (0, 0) of a 2x2 grid
    masks = torch.zeros(2, 1, 2, 2)
    masks[:, 0, 0, 0] = 1  # the object cell, both images
    masks[0, 0, 1, 1] = 1  # one of the six background cells
    record = MaskRecord(0, 0, masks, (8, 8))
    quality = MaskQuality()
    quality.update([record], objects, [torch.full_like(masks, 0.5)])
    stage = quality.summary()['stage0']
    assert stage['p_on_object'] == 1.0
    assert stage['p_on_background'] == pytest.approx(1 / 6)
    assert stage['lift'] == pytest.approx(6.0)
    assert stage['eval_rate'] == pytest.approx(3 / 8)
    assert quality.summary()['all']['train_eval_gap'] == pytest.approx(
        0.5 - 3 / 8)


def test_measure_on_a_backbone_whose_masks_follow_the_object():
    torch.manual_seed(0)
    backbone = SARResNetCifar(depth=20).eval()
    backbone.init_weights()
    images = torch.zeros(2, 3, 32, 32)
    boxes = [torch.tensor([[0., 0., 15., 15.]])] * 2
    samples = [dict(inputs=images,
                    data_samples=[_Sample(b) for b in boxes])]
    report = measure_mask_quality(None, backbone, samples, {}).summary()
    # Fresh masks are all on: no preference, lift 1, no train-eval gap
    # beyond the Gumbel noise of the initial logit gap.
    assert report['stage0']['lift'] == pytest.approx(1.0)
    assert report['all']['eval_rate'] == 1.0
    assert 0.9 < report['all']['train_rate'] < 1.0


class _Sample(dict):
    """A minimal mmdet-like data sample with ``gt_instances.bboxes``."""

    def __init__(self, boxes):
        super().__init__(gt_instances=None)
        self.gt_instances = type('Instances', (), dict(bboxes=boxes))()


def test_lift_is_nan_without_background_cells():
    objects = torch.ones(1, 4, 4, dtype=torch.bool)
    masks = torch.ones(1, 1, 2, 2)
    quality = MaskQuality()
    quality.update([MaskRecord(0, 0, masks, (4, 4))], objects, [masks])
    assert math.isnan(quality.summary()['stage0']['lift'])


def test_fixed_masks_are_their_own_training_masks():
    objects = torch.zeros(1, 4, 4, dtype=torch.bool)
    objects[:, :2, :2] = True
    masks = torch.zeros(1, 1, 2, 2)
    masks[0, 0, 0, 0] = 1
    quality = MaskQuality()
    quality.update([MaskRecord(0, 0, masks, (4, 4))], objects, [])
    report = quality.summary()
    assert report['stage0']['lift'] == float('inf')
    assert report['all']['train_rate'] == report['all']['eval_rate'] == 0.25
