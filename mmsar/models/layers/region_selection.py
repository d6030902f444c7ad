"""Region selection: the patches each channel group of a refine block runs."""
from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor

from ...utils.args import invalid_argument

# Default initial bias gap between the "on" and "off" logits. Any positive
# gap makes every mask start at 1 in eval mode (the paper: "each region
# selection module is initialized to select the whole feature maps"); 3
# keeps them on with probability sigmoid(3) = 0.95 under Gumbel noise and
# the straight-through gradient (the logistic density at the gap, 0.045)
# large enough for the rate loss to act in short schedules. The authors'
# code uses 9 (density 0.0001); pass ``init_gap=9`` for it.
INIT_ON_LOGIT_GAP = 3.0
# The ``'center'`` ablation: the central 6/8 of each side of the map (75% x
# 75% = 56% of the area, the paper's "approximately 1/2 of the areas at the
# center" and the authors' crop), laid on its own 8 x 8 grid so that the
# crop does not depend on K.
CENTER_GRID, CENTER_CELLS = 8, 6


def gumbel_hard_mask(logits: Tensor,
                     tau: float,
                     noise_scale: float = 1.0) -> Tensor:
    """Straight-through Gumbel-softmax over (off, on) (Eqs. 8 and 9).

    Args:
        logits (Tensor): Logits of shape (..., 2), last dim = (off, on).
        tau (float): Softmax temperature of the backward relaxation.
        noise_scale (float): Scale of the Gumbel noise: 1 samples "on" with
            probability sigmoid(on - off) (paper); ``tau`` samples it with
            probability sigmoid((on - off) / tau), which tends to the eval
            argmax as tau decays.

    Returns:
        Tensor: Hard 0/1 "on" decisions of shape (...), whose gradient is
        that of the soft "on" probability.
    """
    gumbels = -torch.empty_like(logits).exponential_().log()
    perturbed = logits + noise_scale * gumbels
    soft = torch.softmax(perturbed / tau, dim=-1)[..., 1]
    hard = (perturbed[..., 1] > perturbed[..., 0]).to(soft.dtype)
    # soft - soft.detach() is exactly zero: values stay exact 0/1.
    return hard + (soft - soft.detach())


class RegionSelection(BaseModule):
    """Predicts G binary K x K masks from a base-branch feature map (Eq. 2).

    grouped 3x3 conv (C -> 4G) - norm - ReLU - adaptive avg pool (K x K) -
    grouped 1x1 conv with bias (4G -> 2G logits, (off, on) per group).
    Training samples hard masks with straight-through Gumbel-softmax at
    temperature ``tau`` and Gumbel noise of scale ``noise_scale`` (paper: 1;
    :class:`~mmsar.engine.SARLossHook` sets both every iteration, see
    :func:`~mmsar.engine.schedules.mask_noise_scale`); evaluation is
    deterministic (on iff "on" wins). See :func:`gumbel_hard_mask`.

    Args:
        in_channels (int): Channels of the base feature map.
        groups (int): G, the number of masks (channel groups).
        grid (int): K, masks are K x K.
        norm_cfg (dict): Norm after the 3x3 conv.
        init_gap (float): Initial bias of the "on" logit minus that of
            "off" (``init_weights``); positive, so that every mask starts
            at 1. Default: 3 (see ``INIT_ON_LOGIT_GAP``; the authors use 9).
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int,
                 groups: int,
                 grid: int,
                 norm_cfg: dict = dict(type='BN'),
                 init_gap: float = INIT_ON_LOGIT_GAP,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if not init_gap > 0:
            raise invalid_argument('init_gap', init_gap,
                                   'expected a positive number (masks start '
                                   'on)')
        self.groups = groups
        self.grid = grid
        self.init_gap = init_gap
        self.tau = 1.0
        self.noise_scale = 1.0
        self.forced_rate: Optional[float] = None
        self.conv = nn.Conv2d(
            in_channels, 4 * groups, 3, padding=1, groups=groups, bias=False)
        self.norm = build_norm_layer(norm_cfg, 4 * groups)[1]
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.logits = nn.Conv2d(4 * groups, 2 * groups, 1, groups=groups)

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.normal_(self.logits.weight, std=0.01)
        with torch.no_grad():
            bias = self.logits.bias.view(self.groups, 2)
            bias[:, 0] = 0.
            bias[:, 1] = self.init_gap

    def on_logit_gap(self) -> Tensor:
        """Bias of the "on" logit minus that of "off", per group (G,).

        It is the threshold the data-dependent part of the logits must
        beat; :class:`~mmsar.engine.SARLossHook` can train it alone with the
        rate loss (``rate_estimator='threshold'``).
        """
        bias = self.logits.bias.view(self.groups, 2)
        return bias[:, 1] - bias[:, 0]

    def forward_logits(self, x: Tensor) -> Tensor:
        """(off, on) logits (N, G, K, K, 2) of Eq. 2 for features x."""
        logits = self.logits(self.pool(self.relu(self.norm(self.conv(x)))))
        logits = logits.view(logits.shape[0], self.groups, 2, self.grid,
                             self.grid)
        return logits.permute(0, 1, 3, 4, 2)

    def forward(self, x: Tensor) -> Tensor:
        """Masks (N, G, K, K) of 0/1 floats for features x (N, C, h, w)."""
        logits = self.forward_logits(x)
        n = logits.shape[0]
        if self.forced_rate is not None:
            masks = self.forced_masks().to(logits)
            return masks.expand(n, -1, -1, -1).contiguous()
        if self.training:
            return gumbel_hard_mask(logits, self.tau, self.noise_scale)
        return (logits[..., 1] > logits[..., 0]).to(logits.dtype)

    def forced_masks(self) -> Tensor:
        """Masks (1, G, K, K) with ``round(rate * K * K)`` cells on in every
        group, for ``forced_rate = rate``.

        The cells are a fixed pseudo-random choice per group, the same for
        every sample, so that benchmarks and FLOPs counts of randomly
        initialised models can be run at a chosen activation rate.
        """
        cells = self.grid * self.grid
        num_on = round(self.forced_rate * cells)
        generator = torch.Generator().manual_seed(cells * 1000 + self.groups)
        order = torch.stack([
            torch.randperm(cells, generator=generator)
            for _ in range(self.groups)
        ])
        return (order < num_on).float().view(1, self.groups, self.grid,
                                             self.grid)


def fixed_masks(kind: str, groups: int, grid: int) -> Tensor:
    """Data-independent masks of the Table I ablations.

    ``'center'``: (1, G, 8, 8), the central 6 x 6 cells of an 8 x 8 grid
    whatever K is (see ``CENTER_GRID``); ``'uniform'``: (1, G, K, K), every
    other cell of the K x K grid (a checkerboard).
    """
    if kind == 'center':
        idx = torch.arange(CENTER_GRID)
        margin = (CENTER_GRID - CENTER_CELLS) // 2
        inside = (idx >= margin) & (idx < CENTER_GRID - margin)
        cells = inside[:, None] & inside[None, :]
    elif kind == 'uniform':
        idx = torch.arange(grid)
        cells = (idx[:, None] + idx[None, :]) % 2 == 0
    else:
        raise invalid_argument('kind', kind, "expected 'center' or "
                               "'uniform'")
    size = cells.shape[-1]
    return cells.float().expand(1, groups, size, size).contiguous()
