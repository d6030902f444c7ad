import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint

import mmsar  # noqa: F401  (registers the safe globals)
from mmsar.utils.checkpoint import _history_buffer_getattr


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets, mode='tensor'):
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=((out - targets)**2).mean())
        return [dict(error=(o - t).abs().item()) for o, t in zip(out, targets)]


class ToyMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.extend(s['error'] for s in data_samples)

    def compute_metrics(self, results):
        # numpy values end up in the message hub of the checkpoint
        return dict(error=np.float64(np.mean(results)))


def _dataloader(shuffle):
    dataset = [
        dict(inputs=torch.full((2, ), float(i)), targets=torch.ones(1))
        for i in range(8)
    ]
    return dict(
        dataset=dataset,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        batch_size=2,
        collate_fn=dict(type='default_collate'))


def _runner(work_dir, max_iters, **kwargs):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=_dataloader(True),
        val_dataloader=_dataloader(False),
        val_evaluator=dict(type=ToyMetric),
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=2),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        param_scheduler=dict(type='LinearLR', by_epoch=False, end=3),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook',
                interval=2,
                by_epoch=False,
                save_best='error',
                rule='less')),
        custom_hooks=[dict(type='EMAHook')],
        experiment_name=f'ckpt_{work_dir.name}_{max_iters}',
        **kwargs)


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('ckpt')
    _runner(work_dir, max_iters=2).train()
    return work_dir / 'iter_2.pth'


def test_torch_load_weights_only(runner_checkpoint):
    ckpt = torch.load(runner_checkpoint, weights_only=True)
    assert ckpt['meta']['iter'] == 2
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert buffer.current() == buffer.data[0][-1]


def test_without_mmsar_weights_only_load_fails(runner_checkpoint):
    """Documents why the fix exists: plain torch >= 2.6 refuses the file."""
    code = ('import torch; torch.load(%r)' % str(runner_checkpoint))
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert 'Weights only load failed' in proc.stderr


def test_load_checkpoint(runner_checkpoint):
    model = ToyModel()
    ckpt = load_checkpoint(model, str(runner_checkpoint), map_location='cpu')
    assert torch.equal(model.linear.weight,
                       ckpt['state_dict']['linear.weight'])


def test_runner_resume(runner_checkpoint, tmp_path):
    runner = _runner(
        tmp_path, max_iters=4, resume=True, load_from=str(runner_checkpoint))
    runner.train()
    assert runner.iter == 4
    ckpt = torch.load(tmp_path / 'iter_4.pth')
    assert ckpt['meta']['iter'] == 4
    # the loss history of the first two iterations was resumed
    assert len(ckpt['message_hub']['log_scalars']['train/loss'].data[0]) == 4


def test_getattr_is_restricted(tmp_path):
    assert _history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    for obj, name in ((str, 'join'), (HistoryBuffer, '__init__')):
        with pytest.raises(pickle.UnpicklingError):
            _history_buffer_getattr(obj, name)
    # so other methods, pickled as getattr(cls, name), are still refused
    torch.save(dict(method=str.upper), tmp_path / 'method.pth')
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / 'method.pth')
