"""Every config under configs/ builds and trains one step on a random batch.

No dataset is needed: the model is built from the config, fed a random batch
of the size the config's training pipeline produces, and one loss step +
backward is run on CPU. Configs that differ only outside the model (a
target rate, a schedule, a hook, where the weights come from) would repeat
the same step: it runs once per distinct model and input size.
"""
import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import PixelData

from mmsar.models.utils.sar_backbone import is_sar_backbone

CONFIG_ROOT = Path(__file__).parents[2] / 'configs'
CONFIGS = sorted(
    str(p.relative_to(CONFIG_ROOT)) for p in CONFIG_ROOT.rglob('*.py')
    if '_base_' not in p.parts)
# The dense calibration models of the toy recipes, and the dense baselines.
DENSE_CONFIGS = {
    'faster_rcnn/faster-rcnn_r18_fpn_1xb8-12e_toy-coco.py',
    'faster_rcnn/faster-rcnn_r18_fpn_1xb8-24e_toy-coco.py',
    'resnet/resnet18_1xb32-40e_toy-cls.py',
    'mobilenet_v2/mobilenet-v2-x0.75_4xb64-200e_in1k.py',
}


def train_input_size(cfg: Config) -> tuple:
    """(H, W) of the images the training pipeline produces."""
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset:  # ConcatDataset, RepeatDataset
        dataset = dataset.get('dataset') or dataset.datasets[0]
    for transform in dataset.pipeline:
        for key in ('crop_size', 'scale'):
            size = transform.get(key)
            if size is None:
                continue
            if isinstance(size, int):
                return size, size
            # mmdet scales are (long side, short side) = (W, H).
            return (size[1], size[0]) if key == 'scale' else tuple(size)
    return tuple(cfg.get('crop_size', (64, 64)))


def random_batch(cfg: Config, size: tuple) -> dict:
    height, width = size
    image = torch.randint(0, 256, (3, height, width), dtype=torch.uint8)
    scope = cfg.default_scope
    if scope == 'mmdet':
        from mmdet.testing import demo_mm_inputs
        num_classes = cfg.model.get('roi_head', cfg.model).get(
            'bbox_head', cfg.model.get('bbox_head')).num_classes
        return demo_mm_inputs(
            batch_size=1,
            image_shapes=[(3, height, width)],
            num_items=[3],
            num_classes=num_classes)
    if scope == 'mmseg':
        from mmseg.structures import SegDataSample
        samples = []
        # Two images: PSP's 1x1 pooled BN needs more than one value.
        for _ in range(2):
            sample = SegDataSample(
                metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size))
            sample.gt_sem_seg = PixelData(
                data=torch.randint(0, cfg.model.decode_head.num_classes,
                                   (1, height, width)))
            samples.append(sample)
        return dict(inputs=[image, image.clone()], data_samples=samples)
    from mmpretrain.structures import DataSample
    return dict(
        inputs=[image, image.clone()],
        data_samples=[DataSample().set_gt_label(i) for i in (0, 1)])


# (scope, model config, input size) of the training steps run so far
_TRAINED_STEPS = set()


def without_init_cfg(cfg):
    """A model config without its ``init_cfg``\ s: where the weights come
    from does not change the one training step run here."""
    if isinstance(cfg, dict):
        return {k: without_init_cfg(v) for k, v in cfg.items()
                if k != 'init_cfg'}
    if isinstance(cfg, (list, tuple)):
        return [without_init_cfg(v) for v in cfg]
    return cfg


@pytest.mark.slow
@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_and_trains_one_step(config):
    cfg = Config.fromfile(str(CONFIG_ROOT / config))
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    if config not in DENSE_CONFIGS:
        assert is_sar_backbone(model.backbone)
    size = train_input_size(cfg)
    step = (cfg.default_scope,
            json.dumps(without_init_cfg(cfg.model.to_dict()), sort_keys=True,
                       default=str),
            size)
    if step in _TRAINED_STEPS:
        return
    _TRAINED_STEPS.add(step)
    torch.manual_seed(0)
    model.train()
    data = model.data_preprocessor(random_batch(cfg, size), True)
    losses = model(**data, mode='loss')
    total, _ = model.parse_losses(losses)
    total.backward()
    assert torch.isfinite(total)


def test_paper_configs_exist_at_documented_paths():
    for path in ('faster_rcnn_sar_r50.py', 'retinanet_sar_r50.py',
                 'deeplabv3_sar_r50_voc.py', 'pspnet_sar_r50_voc.py',
                 'sar_r50_imagenet.py'):
        assert path in CONFIGS


@pytest.mark.parametrize('config, expected', [
    ('faster_rcnn_sar_r50.py', dict(mask_groups=2, base_stride=2,
                                    base_reduction=2)),
    ('faster_rcnn/faster-rcnn_sar-r50-g2s4a1-t0.5_fpn_1x_coco.py',
     dict(mask_groups=2, base_stride=4, base_reduction=1)),
    ('deeplabv3_sar_r50_voc.py', dict(mask_groups=2, base_stride=4,
                                      base_reduction=1, deep_stem=True)),
    ('sar_resnet/sar-r50-g8s2a2-t0.5_4xb64-200e_in1k.py',
     dict(mask_groups=8)),
])
def test_paper_settings(config, expected):
    cfg = Config.fromfile(str(CONFIG_ROOT / config))
    backbone = cfg.model.backbone
    assert {key: backbone[key] for key in expected} == expected
    hooks = [h for h in cfg.custom_hooks if h.type == 'SARLossHook']
    assert len(hooks) == 1 and hooks[0].target_rate == 0.5
