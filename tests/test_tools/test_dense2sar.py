"""tools/model_converters/dense2sar.py run as users run it."""
import pytest
import torch
import torchvision
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

import mmsar  # noqa: F401  (torch.load of the converted checkpoint)
from tests.tool_runner import REPO_ROOT, assert_one_line_error, run

TOOL = 'tools/model_converters/dense2sar.py'
CONFIG = ('configs/sar_resnet/'
          'sar-r18-g2s2a2-t0.5-dense-init_1xb32-20e_toy-cls.py')


@pytest.fixture(scope='module')
def torchvision_r18(tmp_path_factory):
    path = tmp_path_factory.mktemp('dense') / 'resnet18.pth'
    model = torchvision.models.resnet18(num_classes=3)
    torch.save(model.state_dict(), path)
    return path


@pytest.mark.slow
def test_converts_and_loads_with_the_reported_keys_missing(
        tmp_path, torchvision_r18):
    dst = tmp_path / 'out' / 'sar.pth'
    proc = run(TOOL, torchvision_r18, dst, '--config', CONFIG)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '| layer1.0.refine_blocks.0 ' in proc.stdout
    assert 'sliced: block-diagonal, 2 groups' in proc.stdout
    assert 'layout: torchvision' in proc.stdout

    checkpoint = torch.load(dst)
    report = checkpoint['meta']['dense2sar']
    assert report['layout'] == 'torchvision'
    assert report['config'] == CONFIG
    cfg = Config.fromfile(str(REPO_ROOT / CONFIG))
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    missing, unexpected = model.load_state_dict(checkpoint['state_dict'],
                                                strict=False)
    assert unexpected == []
    assert sorted(missing) == sorted(report['new_keys'])
    torch.testing.assert_close(model.head.fc.weight,
                               torch.load(torchvision_r18)['fc.weight'])


@pytest.mark.slow
def test_bad_input_writes_nothing(tmp_path):
    """Another depth: one line naming the first differing key and its
    shapes, exit code 2, no DST (unreadable files: test_dense_to_sar)."""
    src = tmp_path / 'resnet34.pth'
    torch.save(torchvision.models.resnet34().state_dict(), src)
    dst = tmp_path / 'sar.pth'
    proc = run(TOOL, src, dst, '--config', CONFIG)
    assert proc.returncode == 2
    assert_one_line_error(proc, 'error: first differing key '
                          'layer1.2.conv1.weight', '(64, 64, 3, 3)')
    assert not dst.exists()
