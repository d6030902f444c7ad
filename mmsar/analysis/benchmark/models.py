"""The backbones a latency benchmark compares, built from a config."""
import copy
import os.path as osp
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.registry import MODELS
from mmengine.runner import load_checkpoint
from torch import Tensor

from ...deploy import deploy_backbone
from ...models.layers.region_selection import RegionSelection
from ..flops import dense_counterpart
from ..model_inputs import AnalysisInputError, load_config

DENSE, STOCK = 'optimised dense', 'stock dense'


def build_sar_backbone(config: str,
                       checkpoint: Optional[str] = None) -> nn.Module:
    """The config's SAR backbone in eval mode.

    Args:
        config (str): Any mmengine config whose ``model.backbone`` is a SAR
            backbone (mmpretrain, mmdet or mmseg model).
        checkpoint (str, optional): Weights of the whole model or of the
            backbone alone; a ``backbone.`` prefix is stripped.
    """
    cfg = load_config(config)
    if 'backbone' not in cfg.get('model', {}):
        raise AnalysisInputError(f'{config} has no model.backbone')
    sar = MODELS.build(cfg.model.backbone)
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise AnalysisInputError(f'checkpoint not found: {checkpoint}')
        load_checkpoint(sar,
                        checkpoint,
                        map_location='cpu',
                        logger='silent',
                        revise_keys=[(r'^backbone\.', '')])
    sar.eval()
    return sar


def dense_resnet(sar: nn.Module) -> nn.Module:
    """The stock dense ResNet a SAR backbone replaces, in eval mode (random
    weights: latency does not depend on them)."""
    stock = dense_counterpart(sar)
    if stock is None:
        raise AnalysisInputError(
            f'{type(sar).__name__} has no dense ResNet counterpart')
    stock.eval()  # mmpretrain's train() does not return the module
    return stock


def build_backbones(config: str,
                    checkpoint: Optional[str] = None) -> Dict[str, nn.Module]:
    """The config's SAR backbone and its dense counterparts (eval mode).

    Args:
        config (str): See :func:`build_sar_backbone`.
        checkpoint (str, optional): Weights of the SAR model.

    Returns:
        dict: ``'sar'`` (masked, as built), ``DENSE`` (deployed) and
        ``STOCK`` (eager) backbones.
    """
    sar = build_sar_backbone(config, checkpoint)
    stock = dense_resnet(sar)
    return {
        'sar': sar,
        DENSE: deploy_backbone(copy.deepcopy(stock)),
        STOCK: stock
    }


def _threshold(gaps: Tensor, rate: float) -> Tensor:
    """Per row of ``gaps`` (G, L), a value with ``round(rate * L)`` entries
    above it, midway between two neighbouring entries."""
    ordered = gaps.sort(1, descending=True).values
    k = round(rate * gaps.shape[1])
    upper = ordered[:, k - 1] if k > 0 else ordered[:, 0] + 1
    lower = ordered[:, k] if k < gaps.shape[1] else ordered[:, -1] - 1
    return (upper + lower) / 2


def calibrate_mask_rate(backbone: nn.Module, images: Tensor,
                        rate: float) -> None:
    """Shift the "on" logit bias of every region selection in place so that
    its eval-mode masks on ``images`` turn on ``round(rate * N * K * K)``
    cells per group.

    Unlike :meth:`~mmsar.models.SARResNet.force_activation_rate`, the
    masks stay learned: computed from the features, different per sample
    and group, in torch and in an exported graph alike. The threshold lies
    midway between two logit gaps, so float rounding (another engine, the
    sparse path) does not flip a cell on these images. One forward pass;
    selectors are calibrated in forward order, each on its real input.

    Args:
        backbone (nn.Module): A SAR backbone (masked or sparse), eval mode.
        images (Tensor): (N, 3, H, W) the masks are calibrated on.
        rate (float): Target activation rate in [0, 1].
    """
    handles = []

    def shift_on_logit(selector):

        def hook(conv, args, logits):
            n, groups = logits.shape[0], selector.groups
            pairs = logits.view(n, groups, 2, -1)
            gaps = (pairs[:, :, 1] - pairs[:, :, 0]).transpose(0, 1)
            threshold = _threshold(gaps.reshape(groups, -1), rate)
            conv.bias.data.view(groups, 2)[:, 1] -= threshold
            shift = torch.stack([torch.zeros_like(threshold), threshold], 1)
            return logits - shift.view(1, 2 * groups, 1, 1)

        return hook

    for module in backbone.modules():
        if isinstance(module, RegionSelection):
            handles.append(
                module.logits.register_forward_hook(shift_on_logit(module)))
    try:
        with torch.no_grad():
            backbone(images)
    finally:
        for handle in handles:
            handle.remove()
