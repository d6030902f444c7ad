"""tools/train.py, tools/test.py and the dist_*.sh wrappers, run as the user
runs them (subprocesses in the repository root) on shrunken schedules."""
import pickle
import shutil
import socket

import pytest
import torch

import mmsar  # noqa: F401  (torch.load of runner checkpoints)
from tests.tool_runner import (FAST, TEST_CFGS, assert_ok,
                               assert_one_line_error, run)

DET_CFG = 'configs/faster_rcnn/faster-rcnn_r18_fpn_1xb8-12e_toy-coco.py'
# training always validates after the last epoch
DET_FAST = FAST + ['val_dataloader.dataset.indices=4']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _dist_port(monkeypatch):
    """A free port per test, so concurrent test runs do not collide."""
    monkeypatch.setenv('PORT', free_port())


@pytest.mark.parametrize('tool',
                         [['tools/train.py'], ['tools/test.py', 'x.pth']])
def test_missing_config(tool):
    proc = run(tool[0], 'configs/missing.py', *tool[1:])
    assert_one_line_error(proc, 'config file not found: configs/missing.py')


@pytest.mark.parametrize('tool', [['tools/test.py', DET_CFG],
                                  ['tools/train.py', DET_CFG, '--resume']])
def test_missing_checkpoint(tool):
    proc = run(*tool, 'work_dirs/missing.pth')
    assert_one_line_error(proc,
                          'checkpoint file not found: work_dirs/missing.pth')


@pytest.mark.parametrize(
    'tool', [['tools/train.py', DET_CFG], ['tools/test.py', DET_CFG, 'x.pth']])
def test_unknown_launcher(tool):
    proc = run(*tool, '--launcher', 'ssh')
    assert_one_line_error(proc, "invalid choice: 'ssh'")


def test_missing_toy_data(tmp_path, toy_data_root):
    proc = run('tools/train.py', DET_CFG, '--cfg-options',
               f'train_dataloader.dataset.data_root={tmp_path}/toy/coco/')
    assert_one_line_error(proc, f'toy data in {tmp_path}/toy is missing',
                          'python tools/misc/make_toy_data.py')


def test_corrupt_toy_data(tmp_path, toy_data_root):
    shutil.copytree(toy_data_root, tmp_path / 'toy')
    (tmp_path / 'toy/coco/train/000007.jpg').write_bytes(b'')
    proc = run('tools/test.py', DET_CFG, 'README.md', '--cfg-options',
               f'test_dataloader.dataset.data_root={tmp_path}/toy/coco/')
    assert_one_line_error(proc, f'toy data in {tmp_path}/toy is corrupt',
                          'python tools/misc/make_toy_data.py')


@pytest.mark.slow
def test_train_resume_test_detection(tmp_path, toy_data_root):
    work_dir = tmp_path / 'work'
    # 16 images at batch size 8: 2 iterations per epoch
    options = DET_FAST + ['train_dataloader.dataset.indices=16']
    proc = run('tools/train.py', DET_CFG, '--work-dir', str(work_dir),
               '--cfg-options', *options, 'train_cfg.max_epochs=1')
    assert_ok(proc)
    assert torch.load(work_dir / 'epoch_1.pth')['meta']['iter'] == 2

    # bare --resume picks up the latest checkpoint in the work dir
    proc = run('tools/train.py', DET_CFG, '--work-dir', str(work_dir),
               '--resume', '--cfg-options', *options, 'train_cfg.max_epochs=2')
    assert_ok(proc)
    assert 'resumed epoch: 1, iter: 2' in proc.stdout + proc.stderr
    assert 'Epoch(train) [1]' not in proc.stdout
    assert 'Epoch(train) [2][2/2]' in proc.stdout
    ckpt = torch.load(work_dir / 'epoch_2.pth')
    assert ckpt['meta']['iter'] == 4
    # iterations 3 and 4 were added to the resumed loss history
    assert len(ckpt['message_hub']['log_scalars']['train/loss'].data[0]) == 4

    out = tmp_path / 'preds.pkl'
    proc = run('tools/test.py',
               DET_CFG, str(work_dir / 'epoch_2.pth'), '--work-dir',
               str(work_dir), '--out', str(out), '--show-dir', 'vis',
               '--cfg-options', *FAST, 'test_dataloader.dataset.indices=4')
    assert_ok(proc)
    assert 'coco/bbox_mAP' in proc.stdout
    with open(out, 'rb') as f:
        assert len(pickle.load(f)) == 4
    assert len(list((work_dir / 'vis').glob('*.jpg'))) == 4


@pytest.mark.slow
def test_dist_train_test_detection(tmp_path, toy_data_root):
    work_dir = tmp_path / 'work'
    # 2 processes x batch size 8 x 2 iterations
    proc = run('tools/dist_train.sh', DET_CFG, '2', '--work-dir',
               str(work_dir), '--cfg-options', *DET_FAST,
               'train_dataloader.dataset.indices=32', 'train_cfg.max_epochs=1')
    assert_ok(proc)
    log = proc.stdout
    assert 'Distributed training: True' in log
    assert 'Epoch(train) [1][2/2]' in log
    ckpt = torch.load(work_dir / 'epoch_1.pth')
    assert ckpt['meta']['iter'] == 2

    proc = run('tools/dist_test.sh', DET_CFG, str(work_dir / 'epoch_1.pth'),
               '2', '--work-dir', str(work_dir), '--cfg-options', *FAST,
               'test_dataloader.dataset.indices=8')
    assert_ok(proc)
    assert 'coco/bbox_mAP' in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize('config, metric', [
    ('toy_seg_fcn_r18.py', 'mIoU'),
    ('toy_cls_resnet18.py', 'accuracy/top1'),
])
def test_train_resume_test_seg_cls(tmp_path, toy_data_root, config, metric):
    config = str(TEST_CFGS / config)
    work_dir = tmp_path / 'work'
    options = FAST + ['val_dataloader.dataset.indices=8']
    proc = run('tools/train.py', config, '--work-dir', str(work_dir),
               '--cfg-options', *options)
    assert_ok(proc)
    assert metric in proc.stdout

    # resume from an explicit checkpoint for 2 more iterations
    proc = run('tools/train.py', config,
               '--work-dir', str(work_dir), '--resume',
               str(work_dir / 'iter_2.pth'), '--cfg-options', *options,
               'train_cfg.max_iters=4')
    assert_ok(proc)
    assert 'resumed epoch: 0, iter: 2' in proc.stdout + proc.stderr
    assert torch.load(work_dir / 'iter_4.pth')['meta']['iter'] == 4

    proc = run('tools/test.py', config, str(work_dir / 'iter_4.pth'),
               '--work-dir', str(work_dir), '--show-dir', 'vis',
               '--cfg-options', *FAST, 'test_dataloader.dataset.indices=8')
    assert_ok(proc)
    assert metric in proc.stdout
    assert len(list((work_dir / 'vis').rglob('*.png'))) == 8
