"""Build a model from a config and feed it images, for the analysis tools."""
import logging
import os.path as osp
from typing import Iterator, List, Optional

import mmcv
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import DATASETS, MODELS, init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import ProgressBar
from torch import Tensor

from mmsar.models.utils.sar_backbone import is_sar_backbone


class AnalysisInputError(ValueError):
    """A bad input of an analysis tool: its message is the whole report."""


def load_config(path: str) -> Config:
    """Read a config file, importing its ``custom_imports``."""
    if not osp.isfile(path):
        raise AnalysisInputError(f'config not found: {path}')
    cfg = Config.fromfile(path)
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    return cfg


def find_sar_backbone(model: nn.Module,
                      source: str = 'the model') -> nn.Module:
    """``model.backbone`` (or the first SAR module inside ``model``).

    Raises:
        AnalysisInputError: When ``model`` holds no SAR backbone.
    """
    backbone = getattr(model, 'backbone', model)
    if is_sar_backbone(backbone):
        return backbone
    for module in model.modules():
        if is_sar_backbone(module):
            return module
    raise AnalysisInputError(
        f'the backbone of {source} is {type(backbone).__name__}, not a SAR '
        'backbone (SARResNet or a subclass)')


def _quiet_init_weights(model: nn.Module) -> None:
    """``init_weights`` without its log line for every parameter."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)


def build_model(cfg: Config, checkpoint: Optional[str] = None) -> nn.Module:
    """The config's model in eval mode, with weights from ``checkpoint``
    (a missing checkpoint is an error) or its random initialisation."""
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise AnalysisInputError(f'checkpoint not found: {checkpoint}')
    model_cfg = cfg.model.copy()
    # As mmengine's Runner does: mmpretrain configs set the normalisation
    # in a top-level data_preprocessor, not in the model.
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    if checkpoint is None:
        _quiet_init_weights(model)
    else:
        load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    return model.eval()


def build_val_dataset(cfg: Config):
    """The dataset of ``cfg.val_dataloader`` (test pipeline included)."""
    if 'val_dataloader' not in cfg:
        raise AnalysisInputError('the config has no val_dataloader')
    try:
        return DATASETS.build(cfg.val_dataloader.dataset)
    except FileNotFoundError as error:
        raise AnalysisInputError(
            f'cannot build the validation set: {error}') from error


def image_pipeline(cfg: Config) -> Compose:
    """The test pipeline without annotation loading, for image files."""
    loader = cfg.get('test_dataloader', cfg.get('val_dataloader'))
    steps = [
        step for step in loader.dataset.pipeline
        if 'LoadAnnotations' not in step['type']
    ]
    return Compose(steps)


def check_images(paths: List[str]) -> None:
    """Raise :class:`AnalysisInputError` for the first unreadable image."""
    for path in paths:
        try:
            image = mmcv.imread(path)
        except (OSError, ValueError) as error:
            raise AnalysisInputError(
                f'cannot read image {path}: {error}') from error
        if image is None:
            raise AnalysisInputError(f'cannot read image {path}')


def preprocess(model: nn.Module, samples: list) -> dict:
    """Collate pipeline outputs and run the model's data preprocessor.

    Returns:
        dict: ``inputs`` (N, C, H, W) normalised and padded as the model
        sees them, and ``data_samples``.
    """
    return model.data_preprocessor(pseudo_collate(samples), False)


def val_inputs(model: nn.Module,
               dataset,
               num_images: int,
               progress: bool = True) -> Iterator[Tensor]:
    """Preprocessed images (1, C, H, W) of the first ``num_images`` samples
    of ``dataset``, one at a time, optionally with a progress bar."""
    num_images = min(num_images, len(dataset))
    bar = ProgressBar(num_images) if progress else None
    for index in range(num_images):
        yield preprocess(model, [dataset[index]])['inputs']
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.file.write('\n')
