import json
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmsar.datasets import (TOY_CLASSES, TOY_SEG_CLASSES, ToyDataError,
                            check_toy_data, ensure_toy_data, find_toy_roots,
                            generate_toy_data)
from tests.tool_runner import REPO_ROOT

BASE = REPO_ROOT / 'configs' / '_base_' / 'datasets'


@pytest.fixture(scope='module')
def fresh_toy(tmp_path_factory):
    root = tmp_path_factory.mktemp('gen') / 'toy'
    return root, generate_toy_data(str(root), seed=0)


def _dataset_cfg(base, split, data_root):
    cfg = Config.fromfile(str(BASE / base))
    dataset = cfg[f'{split}_dataloader'].dataset
    dataset.data_root = str(data_root) + '/'
    return cfg, dataset


def test_generation_is_deterministic(fresh_toy, tmp_path):
    _, manifest = fresh_toy
    # the manifest holds a digest of every file's path and bytes
    assert generate_toy_data(str(tmp_path / 'a'), seed=0) == manifest
    other = generate_toy_data(str(tmp_path / 'b'), seed=1)
    for name, info in other['datasets'].items():
        assert info['sha256'] != manifest['datasets'][name]['sha256']


def test_manifest_counts(fresh_toy):
    root, manifest = fresh_toy
    assert check_toy_data(str(root)) == manifest
    assert manifest['classes'] == list(TOY_CLASSES)
    coco = json.loads(
        (root / 'coco/annotations/instances_val.json').read_text())
    assert len(coco['images']) == manifest['datasets']['coco']['num_val']
    assert [c['name'] for c in coco['categories']] == list(TOY_CLASSES)
    for split, num in (('train', 480), ('val', 120)):
        counts = [
            len(list((root / 'cls' / split / c).iterdir()))
            for c in TOY_CLASSES
        ]
        assert counts == [num // 3] * 3


@pytest.mark.parametrize(
    'damage',
    ['remove_image', 'truncate_json', 'remove_manifest', 'edit_manifest'])
def test_check_detects_damage(fresh_toy, tmp_path, damage):
    root = tmp_path / 'toy'
    shutil.copytree(fresh_toy[0], root)
    if damage == 'remove_image':
        (root / 'voc/JPEGImages/val_000003.jpg').unlink()
    elif damage == 'truncate_json':
        ann = root / 'coco/annotations/instances_train.json'
        ann.write_text(ann.read_text()[:100])
    elif damage == 'remove_manifest':
        (root / 'MANIFEST.json').unlink()
    else:
        (root / 'MANIFEST.json').write_text('{"version": 1')
    with pytest.raises(ToyDataError, match='make_toy_data.py'):
        check_toy_data(str(root))


def test_ensure_regenerates_damaged_data(fresh_toy, tmp_path):
    root = tmp_path / 'toy'
    assert ensure_toy_data(str(root)) == fresh_toy[1]
    (root / 'cls/val/triangle/000000.png').unlink()
    assert ensure_toy_data(str(root)) == fresh_toy[1]
    assert (root / 'cls/val/triangle/000000.png').is_file()


def test_find_toy_roots():
    cfg = Config.fromfile(str(BASE / 'toy_coco_detection.py'))
    assert find_toy_roots(cfg) == ['data/toy']
    assert find_toy_roots(
        dict(
            a=[dict(data_root='/x/toy/voc/')],
            b=dict(data_root='data/coco/'))) == ['/x/toy']


def test_coco_detection_gt_map(toy_data_root):
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS, METRICS
    from mmdet.structures import DetDataSample

    cfg, dataset_cfg = _dataset_cfg('toy_coco_detection.py', 'val',
                                    toy_data_root / 'coco')
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 100
    assert dataset.metainfo['classes'] == TOY_CLASSES
    metric = METRICS.build(
        dict(
            cfg.val_evaluator,
            ann_file=str(toy_data_root /
                         'coco/annotations/instances_val.json')))
    metric.dataset_meta = dataset.metainfo
    for i in range(len(dataset)):
        sample = dataset[i]
        gt = sample['data_samples'].gt_instances
        assert sample['inputs'].shape == (3, 128, 128)
        assert len(gt) > 0
        assert (gt.bboxes.tensor[:, 2:] <= 128).all()
        pred = DetDataSample(metainfo=sample['data_samples'].metainfo)
        pred.pred_instances = gt.clone()
        pred.pred_instances.bboxes = gt.bboxes.tensor
        pred.pred_instances.scores = torch.ones(len(gt))
        metric.process({}, [pred.to_dict()])
    results = metric.evaluate(len(dataset))
    assert results['coco/bbox_mAP'] == pytest.approx(1.0)


def test_voc_segmentation_gt_miou(toy_data_root):
    init_default_scope('mmseg')
    from mmseg.registry import DATASETS, METRICS
    from mmseg.structures import SegDataSample

    cfg, dataset_cfg = _dataset_cfg('toy_voc_segmentation.py', 'val',
                                    toy_data_root / 'voc')
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 50
    assert dataset.metainfo['classes'] == TOY_SEG_CLASSES
    metric = METRICS.build(cfg.val_evaluator)
    metric.dataset_meta = dataset.metainfo
    seen = set()
    for i in range(len(dataset)):
        sample = dataset[i]
        gt = sample['data_samples'].gt_sem_seg
        seen.update(gt.data.unique().tolist())
        pred = SegDataSample(gt_sem_seg=gt, pred_sem_seg=gt)
        metric.process({}, [pred.to_dict()])
    assert seen == {0, 1, 2, 3}
    assert metric.evaluate(len(dataset))['mIoU'] == pytest.approx(100)


def test_classification_gt_accuracy(toy_data_root):
    init_default_scope('mmpretrain')
    from mmpretrain.registry import DATASETS, METRICS

    cfg, dataset_cfg = _dataset_cfg('toy_classification.py', 'val',
                                    toy_data_root / 'cls')
    dataset = DATASETS.build(dataset_cfg)
    assert len(dataset) == 120
    assert dataset.metainfo['classes'] == TOY_CLASSES
    labels = np.array([dataset.get_gt_labels()]).ravel()
    assert np.bincount(labels).tolist() == [40, 40, 40]
    metric = METRICS.build(cfg.val_evaluator)
    for i in range(len(dataset)):
        sample = dataset[i]
        assert sample['inputs'].shape == (3, 64, 64)
        label = sample['data_samples'].gt_label
        metric.process({}, [dict(pred_label=label, gt_label=label)])
    assert metric.evaluate(len(dataset))['accuracy/top1'] == pytest.approx(100)
