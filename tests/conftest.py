"""Fixtures shared by the test modules."""
import pytest

from .tool_runner import REPO_ROOT, TEST_CFGS

SAR_CLS_CONFIG = """
_base_ = ['{base}']
model = dict(backbone=dict(_delete_=True, type='SARResNet', depth=18))
"""


@pytest.fixture(scope='session')
def toy_data_root():
    """``<repo>/data/toy``, generated if missing or corrupt; the configs
    refer to it as ``data/toy`` relative to the repository root."""
    from mmsar.datasets import ensure_toy_data

    root = REPO_ROOT / 'data' / 'toy'
    ensure_toy_data(str(root))
    return root


@pytest.fixture
def sar_cls_config(tmp_path):
    """An mmpretrain classifier on the toy set with a SAR-ResNet-18: the
    config file ``TEST_CFGS / 'toy_cls_resnet18.py'`` with the backbone
    swapped."""
    config = tmp_path / 'sar_cls.py'
    config.write_text(SAR_CLS_CONFIG.format(base=TEST_CFGS /
                                            'toy_cls_resnet18.py'))
    return config


@pytest.fixture(scope='session')
def openvino_runs_bf16():
    """Whether OpenVINO runs bf16 inference on this CPU."""
    from mmsar.deploy.engines import EngineError, check_precision
    try:
        check_precision('openvino', 'bf16')
    except EngineError:
        return False
    return True
