"""SARResNet swapped into stock mmdet, mmseg and mmpretrain models.

Each test writes the config a user would write (an upstream base, the
custom import and the backbone swapped, nothing else changed), builds the
model from it and runs one loss step + backward on CPU.
"""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope
from mmengine.structures import PixelData

from mmsar.models import SARResNet

DETECTION_BACKBONE = """
model = dict(
    backbone=dict(
        _delete_=True,
        type='SARResNet',
        depth=50,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_eval=True,
        init_cfg=None))
"""

SEGMENTATION_BACKBONE = """
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(96, 96)),
    backbone=dict(
        _delete_=True,
        type='SARResNet',
        depth=50,
        deep_stem=True,
        mask_groups=2,
        base_stride=4,
        base_reduction=1,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        out_indices=(0, 1, 2, 3),
        norm_cfg=norm_cfg,
        init_cfg=None),
    decode_head=dict(norm_cfg=norm_cfg),
    auxiliary_head=dict(norm_cfg=norm_cfg))
"""

CLASSIFIER_BACKBONE = """
model = dict(backbone=dict(_delete_=True, type='SARResNet', depth=50))
"""


def build_from_user_config(tmp_path, base: str, body: str):
    path = tmp_path / 'user_config.py'
    path.write_text(f"_base_ = ['{base}']\n"
                    "custom_imports = dict(imports=['mmsar'])\n" + body)
    cfg = Config.fromfile(str(path))
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone, SARResNet)
    return model


def loss_step(model, data) -> dict:
    model.train()
    data = model.data_preprocessor(data, True)
    losses = model(**data, mode='loss')
    total, _ = model.parse_losses(losses)
    total.backward()
    grads = [p.grad for p in model.backbone.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    assert len(model.backbone.mask_records) == 10
    return losses


@pytest.mark.parametrize('base', [
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
])
def test_mmdet_detectors(tmp_path, base):
    from mmdet.testing import demo_mm_inputs
    model = build_from_user_config(tmp_path, base, DETECTION_BACKBONE)
    torch.manual_seed(0)
    data = demo_mm_inputs(
        batch_size=2, image_shapes=[(3, 160, 224), (3, 128, 192)],
        num_items=[3, 2], num_classes=80)
    losses = loss_step(model, data)
    assert any('bbox' in key for key in losses)


@pytest.mark.parametrize('base', [
    'mmseg::deeplabv3/deeplabv3_r50-d8_4xb4-20k_voc12aug-512x512.py',
    'mmseg::pspnet/pspnet_r50-d8_4xb4-20k_voc12aug-512x512.py',
])
def test_mmseg_segmentors(tmp_path, base):
    from mmseg.structures import SegDataSample
    model = build_from_user_config(tmp_path, base, SEGMENTATION_BACKBONE)
    torch.manual_seed(0)
    inputs, samples = [], []
    for _ in range(2):
        inputs.append(torch.randint(0, 256, (3, 96, 96), dtype=torch.uint8))
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(96, 96), ori_shape=(96, 96), pad_shape=(96, 96)))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, 21, (1, 96, 96)))
        samples.append(sample)
    losses = loss_step(model, dict(inputs=inputs, data_samples=samples))
    assert 'decode.loss_ce' in losses and 'aux.loss_ce' in losses
    # mmseg hands the model's `pretrained` to the backbone.
    assert model.backbone.init_cfg['type'] == 'Pretrained'
    # Output stride 16: stage 4 keeps the stage-3 resolution.
    outs = model.backbone(torch.rand(1, 3, 96, 96))
    assert [o.shape[-1] for o in outs] == [24, 12, 6, 6]


def test_mmpretrain_classifier(tmp_path):
    from mmpretrain.structures import DataSample
    model = build_from_user_config(
        tmp_path, 'mmpretrain::resnet/resnet50_8xb32_in1k.py',
        CLASSIFIER_BACKBONE)
    torch.manual_seed(0)
    inputs = [
        torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)
        for _ in range(2)
    ]
    samples = [DataSample().set_gt_label(label) for label in (3, 7)]
    losses = loss_step(model, dict(inputs=inputs, data_samples=samples))
    assert 'loss' in losses
