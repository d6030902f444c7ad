"""DenseDistillHook: the KD loss and the frozen dense teacher."""
import socket
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmpretrain.models import ImageClassifier
from mmpretrain.structures import DataSample

from mmsar.engine.hooks import DenseDistillHook, soft_kl
from mmsar.models import SARResNet
from mmsar.models.utils import ConversionError
from tests.tool_runner import FAST, REPO_ROOT, assert_ok, run

TINY = dict(depth=18, stem_channels=8, base_channels=8)


def classifier(backbone: dict) -> ImageClassifier:
    return ImageClassifier(backbone=backbone,
                           neck=dict(type='mmpretrain.GlobalAveragePooling'),
                           head=dict(
                               type='mmpretrain.LinearClsHead',
                               num_classes=3,
                               in_channels=64,
                               loss=dict(type='mmpretrain.CrossEntropyLoss')))


def dense_checkpoint(tmp_path, model) -> str:
    torch.manual_seed(1)
    model.init_weights()
    path = str(tmp_path / 'dense.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def hooked(model, **kwargs) -> DenseDistillHook:
    hook = DenseDistillHook(**kwargs)
    hook.before_train(SimpleNamespace(model=model))
    return hook


def test_soft_kl_by_hand():
    student, teacher = torch.randn(4, 5), torch.randn(4, 5)
    p_teacher = F.softmax(teacher / 4, dim=1)
    by_hand = (p_teacher *
               (p_teacher.log() -
                F.log_softmax(student / 4, dim=1))).sum(1).mean() * 16
    torch.testing.assert_close(soft_kl(student, teacher, 4.0), by_hand)
    assert soft_kl(teacher, teacher, 4.0).abs() < 1e-6


def test_soft_kl_of_features_is_per_channel_over_positions():
    student, teacher = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5)
    rows = soft_kl(student.reshape(6, 20), teacher.reshape(6, 20), 2.0)
    torch.testing.assert_close(soft_kl(student, teacher, 2.0), rows)
    with pytest.raises(ValueError, match=r'\(2, 3, 4, 5\).*\(2, 3, 4, 4\)'):
        soft_kl(student, teacher[..., :4], 2.0)


@pytest.mark.parametrize('kwargs, message', [
    (dict(distill='outputs'), "unknown distill 'outputs'"),
    (dict(temperature=0), 'temperature must be a finite number > 0'),
    (dict(loss_weight=float('nan')), 'loss_weight must be'),
])
def test_invalid_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DenseDistillHook(teacher=dict(), teacher_checkpoint='x', **kwargs)


def test_logit_distillation(tmp_path):
    dense = classifier(dict(type='mmpretrain.ResNet', **TINY))
    path = dense_checkpoint(tmp_path, dense)
    student = classifier(dict(type='SARResNet', mask_grid=(2, 2, 1), **TINY))
    student.init_weights()
    hook = hooked(student,
                  teacher=dense_cfg(),
                  teacher_checkpoint=path,
                  temperature=2.0,
                  loss_weight=0.5)
    teacher = hook.teacher
    assert not teacher.training
    assert not any(p.requires_grad for p in teacher.parameters())

    inputs = torch.randn(2, 3, 32, 32)
    samples = [DataSample().set_gt_label(i) for i in (0, 1)]
    student.eval()  # deterministic masks, to compare with a second forward
    losses = student(inputs, samples, mode='loss')
    with torch.no_grad():
        expected = 0.5 * soft_kl(student(inputs, mode='tensor'),
                                 dense.eval()(inputs, mode='tensor'), 2.0)
    torch.testing.assert_close(losses['loss_kd'], expected)
    losses['loss_kd'].backward()
    assert student.backbone.conv1.weight.grad.abs().sum() > 0

    student.train()  # the runner's train() leaves the teacher in eval
    assert 'loss_kd' in student(inputs, samples, mode='loss')
    assert not teacher.training
    assert isinstance(student(inputs, samples, mode='predict'), list)
    hook.after_train(None)
    assert 'loss_kd' not in student(inputs, samples, mode='loss')


def dense_cfg() -> dict:
    return dict(type='mmpretrain.ImageClassifier',
                backbone=dict(type='mmpretrain.ResNet', **TINY),
                neck=dict(type='mmpretrain.GlobalAveragePooling'),
                head=dict(type='mmpretrain.LinearClsHead',
                          num_classes=3,
                          in_channels=64))


class FeatureModel(BaseModel):
    """A dense-prediction stand-in: the loss is on the backbone outputs."""

    def __init__(self):
        super().__init__()
        self.backbone = SARResNet(mask_grid=(2, 2, 1),
                                  out_indices=(0, 1, 2, 3),
                                  **TINY)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        feats = self.backbone(inputs)
        if mode == 'loss':
            return dict(loss_task=sum(f.mean() for f in feats))
        return feats


def test_feature_distillation(tmp_path):
    backbone = dict(type='mmpretrain.ResNet', out_indices=(0, 1, 2, 3), **TINY)
    dense = classifier(backbone)
    path = dense_checkpoint(tmp_path, dense)
    student = FeatureModel().eval()
    hooked(student,
           teacher=backbone,
           teacher_checkpoint=path,
           distill='features',
           feature_indices=(1, 3),
           loss_weight=2.0)
    inputs = torch.randn(2, 3, 32, 32)
    losses = student(inputs, mode='loss')
    dense.eval()
    with torch.no_grad():
        ours, theirs = student(inputs), dense.backbone(inputs)
    expected = 2.0 * (soft_kl(ours[1], theirs[1], 4.0) +
                      soft_kl(ours[3], theirs[3], 4.0)) / 2
    torch.testing.assert_close(losses['loss_kd'], expected)


def test_teacher_checkpoint_of_another_depth(tmp_path):
    path = dense_checkpoint(
        tmp_path,
        classifier(
            dict(type='mmpretrain.ResNet',
                 depth=34,
                 stem_channels=8,
                 base_channels=8)))
    with pytest.raises(ConversionError,
                       match=r'first differing key backbone\.layer1\.2\.'):
        hooked(FeatureModel(), teacher=dense_cfg(), teacher_checkpoint=path)


KD_CONFIG = """
_base_ = ['{base}']
tiny = dict(depth=18, stem_channels=8, base_channels=8)
model = dict(backbone=dict(mask_grid=(2, 2, 1), **tiny),
             head=dict(in_channels=64))
load_from = None
custom_hooks = [
    _base_.custom_hooks[0],
    dict(_base_.custom_hooks[1], teacher_checkpoint='{dense}',
         teacher=dict(_base_.custom_hooks[1].teacher,
                      backbone=dict(type='ResNet', **tiny),
                      head=dict(type='LinearClsHead', num_classes=3,
                                in_channels=64)))
]
train_dataloader = dict(batch_size=4)
"""


@pytest.mark.slow
def test_kd_trains_under_two_process_ddp(tmp_path, toy_data_root):
    """The toy KD recipe, shrunk, for 2 iterations on 2 gloo processes:
    the loss is in the logs and the teacher is not in the checkpoint."""
    dense = dense_checkpoint(
        tmp_path, classifier(dict(type='mmpretrain.ResNet', **TINY)))
    config = tmp_path / 'kd.py'
    config.write_text(
        KD_CONFIG.format(base=REPO_ROOT / 'configs/sar_resnet/'
                         'sar-r18-g2s2a2-t0.5-dense-kd_1xb32-20e_toy-cls.py',
                         dense=dense))
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = str(s.getsockname()[1])
    work_dir = tmp_path / 'work'
    proc = run('tools/dist_train.sh',
               str(config),
               '2',
               '--work-dir',
               str(work_dir),
               '--cfg-options',
               *FAST,
               'train_dataloader.dataset.indices=16',
               'val_dataloader.dataset.indices=4',
               'train_cfg.max_epochs=1',
               env=dict(PORT=port))
    assert_ok(proc)
    assert 'Distributed training: True' in proc.stdout
    lines = [
        line for line in proc.stdout.splitlines()
        if 'Epoch(train) [1][2/2]' in line
    ]
    assert lines and 'loss_kd: ' in lines[0]
    state = torch.load(work_dir / 'epoch_1.pth')['state_dict']
    assert state and not any('teacher' in key for key in state)
