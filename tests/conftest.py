from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='session')
def toy_data_root():
    """``<repo>/data/toy``, generated if missing or corrupt; the configs
    refer to it as ``data/toy`` relative to the repository root."""
    from mmsar.datasets import ensure_toy_data

    root = REPO_ROOT / 'data' / 'toy'
    ensure_toy_data(str(root))
    return root
