"""Count the paper's networks from their configs, as its tables do.

Each ``test_table*.py`` module lists the rows of one table: the config that
builds the row's network, which count the paper prints and the paper's
figure. Counts (:func:`count`): ``'target'``, every mask at the config's
SARLossHook target rate; ``'on'``, every mask on; ``'fixed'``, the fixed
masks of the ablations (or none); ``'dense'``, the mmpretrain network the
SAR one replaces. These must be within ``REL`` of the paper.

``'above-target'`` rows are those where the paper prints the mean FLOPs of
its trained model over the validation set and that model refined more than
its target: the figure must lie between our count at the target and our
count with every mask on (README, "Model zoo", gives the rate it implies).

Classifier figures include the fc of the head, as the authors' counter
does (its global pool adds under 0.01%); detection and segmentation figures
are the backbone's.
"""
import functools
from pathlib import Path
from typing import Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.config import utils as config_utils
from mmengine.registry import MODELS, DefaultScope

import mmsar  # noqa: F401  (registers the backbones)
from mmsar.analysis import count_at_rate, dense_counterpart

CONFIG_ROOT = Path(__file__).parents[2] / 'configs'


def _no_metafile_for_bases(get_metainfo):
    """mmengine looks every ``mmpretrain::`` path up in all of mmpretrain's
    metafiles (about 170 YAML files, a second) before it falls back to the
    base-config path on ValueError; ``_base_/`` paths are never there."""

    @functools.wraps(get_metainfo)
    def wrapper(package_path: str, cfg_path: str) -> dict:
        if cfg_path.startswith('_base_/'):
            raise ValueError(f'{cfg_path} is a base config')
        return get_metainfo(package_path, cfg_path)

    return wrapper


config_utils._get_cfg_metainfo = _no_metafile_for_bases(
    config_utils._get_cfg_metainfo)
# Tolerance of every figure.
REL = 0.02


@functools.lru_cache(maxsize=None)
def load_config(config: str) -> Config:
    return Config.fromfile(str(CONFIG_ROOT / config))


@functools.lru_cache(maxsize=None)
def build_backbone(config: str):
    """The config's backbone, built on the meta device: shapes only, which
    is all that counting forced or fixed masks needs."""
    cfg = load_config(config)
    backbone = cfg.model.backbone.copy()
    backbone.pop('init_cfg', None)
    backbone.pop('_delete_', None)
    # The config's scope finds its upstream backbones (a dense baseline).
    with torch.device('meta'), DefaultScope.overwrite_default_scope(
            cfg.get('default_scope')):
        return MODELS.build(backbone)


def target_rate(config: str) -> float:
    """Target activation rate of the config's SARLossHook."""
    hooks = [
        h for h in load_config(config).get('custom_hooks', [])
        if h.type == 'SARLossHook'
    ]
    assert len(hooks) == 1, config
    return hooks[0].target_rate


def classifier_fc(config: str) -> Tuple[int, int]:
    """(MACs, params) of the fc of a classifier config; (0, 0) for other
    models."""
    model = load_config(config).model
    if model.type != 'ImageClassifier':
        return 0, 0
    weights = model.head.in_channels * model.head.num_classes
    return weights, weights + model.head.num_classes


@functools.lru_cache(maxsize=None)
def count(config: str, mode: str, shape: Tuple[int, int]) -> dict:
    """GMACs and M params (backbone + classifier fc) of a row's network."""
    backbone = build_backbone(config)
    if mode == 'dense':
        backbone = dense_counterpart(backbone)
    rate = dict(target=None, on=1.0, fixed=None, dense=None)[mode]
    if mode == 'target':
        rate = target_rate(config)
    result = count_at_rate(backbone, rate, shape)
    fc_macs, fc_params = classifier_fc(config)
    return dict(
        gmacs=(result.macs.item() + fc_macs) / 1e9,
        mparams=(result.params + fc_params) / 1e6)


def check_row(config: str, mode: str, paper: float,
              shape: Tuple[int, int]) -> None:
    """Assert that the row's count agrees with the paper's GFLOPs."""
    if mode == 'above-target':
        target = count(config, 'target', shape)['gmacs']
        on = count(config, 'on', shape)['gmacs']
        assert target < paper <= on * (1 + REL)
    else:
        assert count(config, mode, shape)['gmacs'] == pytest.approx(
            paper, rel=REL)
