"""SAR-MobileNet-v2: a MobileNet-v2 whose middle stages are SAR modules."""
from typing import Optional, Sequence

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, Sequential
from mmengine.registry import MODELS
from mmengine.utils import is_tuple_of
from torch import Tensor

from ...utils.args import invalid_argument
from ..layers.inverted_residual import InvertedResidual
from ..layers.region_selection import INIT_ON_LOGIT_GAP
from ..layers.sar_module import SARModule, check_stage_options
from .sar_base import SARBackboneMixin


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a width to a multiple of ``divisor``, never more than 10%
    down (the MobileNet-v2 rule, as in mmpretrain)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


@MODELS.register_module()
class SARMobileNetV2(SARBackboneMixin, BaseModule):
    """SAR-MobileNet-v2 backbone (Han et al., Table VII).

    The stages of MobileNet-v2 with 24, 32, 64 and 96 channels (times
    ``widen_factor``; ``layer2`` to ``layer5``) are SAR modules of inverted
    residuals, as in the authors' network: each keeps all the stage's
    blocks in both branches, strides like the stage, and ends with a 1x1
    conv + norm + ReLU6 after the (linear) fusion. The base branch is
    average-pooled by s = 2 first and has width C / alpha; the refine
    branch has grouped 1x1 convs and a 1x1 conv + norm shortcut (after a
    3x3/2 average pool when it strides) on its first block. The other
    stages, the stem and the last 1x1 conv are those of mmpretrain's
    ``MobileNetV2``, and so are the stage outputs (``out_indices`` 0-7,
    ``conv2`` being 7), so its necks and heads work unchanged.

    Args:
        widen_factor (float): Width multiplier (0.75 and 1.0 in the
            paper's Table VII). Default: 1.0.
        mask_groups (int): G, channel groups of the refinement branch.
            Default: 2.
        base_stride (int): s, 2 or 4. Default: 2.
        base_reduction (int): alpha, base width is C / alpha. Default: 1.
        refine_expansion (int): beta, refine width is C * beta.
            Default: 1.
        mask_grid (Sequence[int]): K of each SAR stage (of ``layer2`` to
            ``layer5``), at most the side of its output map (56, 28, 14
            and 14 at 224 x 224). Default: ``(14, 7, 2, 2)`` (the authors').
        mask_init_gap (float): Initial on-minus-off logit bias of every
            region selection. Default: 3.
        out_indices (Sequence[int]): Outputs of ``layer1`` - ``layer7``
            (0-6) and ``conv2`` (7) to return. Default: ``(7, )``.
        frozen_stages (int): Freeze the stem (0) and ``layer1`` to
            ``layer{frozen_stages}``; -1 freezes nothing. Default: -1.
        conv_cfg (dict, optional): Conv layers config. Default: None.
        norm_cfg (dict): Norm layers config. Default: ``dict(type='BN')``.
        act_cfg (dict): Activation config. Default:
            ``dict(type='ReLU6')``.
        norm_eval (bool): Keep norm layers in eval mode while training.
            Default: False.
        with_cp (bool): Gradient checkpointing in the blocks.
            Default: False.
        branches (str): ``'both'``; ``'base'`` or ``'refine'`` keep one
            branch. Default: ``'both'``.
        mask_mode (str): ``'learned'``; ``'center'`` or ``'uniform'`` use
            fixed masks. Default: ``'learned'``.
        init_cfg (dict or list[dict], optional): Initialization config.

    Example:
        >>> import torch
        >>> from mmsar.models import SARMobileNetV2
        >>> model = SARMobileNetV2(widen_factor=0.75,
        ...                        out_indices=range(8)).eval()
        >>> for out in model(torch.rand(1, 3, 224, 224)):
        ...     print(tuple(out.shape))
        (1, 16, 112, 112)
        (1, 24, 56, 56)
        (1, 24, 28, 28)
        (1, 48, 14, 14)
        (1, 72, 14, 14)
        (1, 120, 7, 7)
        (1, 240, 7, 7)
        (1, 1280, 7, 7)
    """

    # expand ratio t, channels c, blocks n, stride s of each stage
    arch_settings = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2),
                     (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                     (6, 320, 1, 1))
    # Stages (indices into ``arch_settings``) built as SAR modules.
    sar_stages = (1, 2, 3, 4)
    default_mask_grid = (14, 7, 2, 2)

    def __init__(self,
                 widen_factor: float = 1.0,
                 mask_groups: int = 2,
                 base_stride: int = 2,
                 base_reduction: int = 1,
                 refine_expansion: int = 1,
                 mask_grid: Sequence[int] = default_mask_grid,
                 mask_init_gap: float = INIT_ON_LOGIT_GAP,
                 out_indices: Sequence[int] = (7, ),
                 frozen_stages: int = -1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU6'),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 branches: str = 'both',
                 mask_mode: str = 'learned',
                 init_cfg=[
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(
                         type='Constant',
                         val=1,
                         layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        super().__init__(init_cfg=init_cfg)
        num_outputs = len(self.arch_settings) + 1
        if not isinstance(widen_factor, (int, float)) or widen_factor <= 0:
            raise invalid_argument('widen_factor', widen_factor,
                                   'expected a positive number')
        for name, value in (('mask_groups', mask_groups),
                            ('base_reduction', base_reduction),
                            ('refine_expansion', refine_expansion)):
            if not isinstance(value, int) or value < 1:
                raise invalid_argument(name, value,
                                       'expected a positive integer')
        check_stage_options(base_stride, branches, mask_mode)
        if (len(mask_grid) != len(self.sar_stages)
                or not is_tuple_of(tuple(mask_grid), int)
                or min(mask_grid) < 1):
            raise invalid_argument(
                'mask_grid', mask_grid,
                f'expected {len(self.sar_stages)} positive integers, one K '
                'per SAR stage')
        if not out_indices or any(not -num_outputs <= i < num_outputs
                                  for i in out_indices):
            raise invalid_argument('out_indices', out_indices,
                                   f'expected indices in [0, {num_outputs})')
        if not -1 <= frozen_stages < num_outputs:
            raise invalid_argument('frozen_stages', frozen_stages,
                                   f'expected -1 to {num_outputs - 1}')
        self.widen_factor = widen_factor
        self.mask_groups = mask_groups
        self.base_stride = base_stride
        self.base_reduction = base_reduction
        self.refine_expansion = refine_expansion
        self.mask_grid = tuple(mask_grid)
        self.out_indices = tuple(i % num_outputs for i in out_indices)
        self.frozen_stages = frozen_stages
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.sar_options = dict(
            groups=mask_groups,
            base_stride=base_stride,
            base_reduction=base_reduction,
            refine_expansion=refine_expansion,
            branches=branches,
            mask_mode=mask_mode,
            mask_init_gap=mask_init_gap)

        in_width = make_divisible(32 * widen_factor)
        self.conv1 = self._conv(3, in_width, 3, stride=2, padding=1)
        self.layers = []
        for i, (expand_ratio, channels, num_blocks,
                stride) in enumerate(self.arch_settings):
            width = make_divisible(channels * widen_factor)
            if i in self.sar_stages:
                layer = self._make_sar_layer(i, in_width, width, num_blocks,
                                             stride, expand_ratio)
            else:
                layer = self._make_plain_layer(in_width, width, num_blocks,
                                               stride, expand_ratio)
            self.add_module(f'layer{i + 1}', layer)
            self.layers.append(f'layer{i + 1}')
            in_width = width
        self.out_channel = (
            int(1280 * widen_factor) if widen_factor > 1.0 else 1280)
        self.conv2 = self._conv(in_width, self.out_channel, 1)
        self.layers.append('conv2')

    def _conv(self, in_channels: int, out_channels: int, kernel_size: int,
              **kwargs) -> ConvModule:
        """A conv + norm + activation."""
        return ConvModule(
            in_channels,
            out_channels,
            kernel_size,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            **kwargs)

    def _block_cfg(self, expand_ratio: int) -> dict:
        """Arguments of every inverted residual of a stage but its widths,
        stride, groups and shortcut, and the layer configs."""
        return dict(expand_ratio=expand_ratio, act_cfg=self.act_cfg)

    def _make_plain_layer(self, in_width: int, width: int, num_blocks: int,
                          stride: int, expand_ratio: int) -> Sequential:
        return Sequential(*[
            InvertedResidual(
                in_width if i == 0 else width,
                width,
                stride=stride if i == 0 else 1,
                with_cp=self.with_cp,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                **self._block_cfg(expand_ratio))
            for i in range(num_blocks)
        ])

    def _check_groups(self, index: int, in_width: int, width: int,
                      expand_ratio: int) -> None:
        """G must split every grouped conv of the SAR stage."""
        refine = width * self.refine_expansion
        widths = {
            'stage input': in_width,
            'refine width': refine,
            'refine inner width': InvertedResidual.inner_width(
                in_width, expand_ratio),
            'base width': width // self.base_reduction,
        }
        if width % self.base_reduction:
            raise invalid_argument(
                'base_reduction', self.base_reduction,
                f'must divide the width {width} of layer{index + 1}')
        for what, value in widths.items():
            if value % self.mask_groups:
                raise invalid_argument(
                    'mask_groups', self.mask_groups,
                    f'must divide the {what} {value} of layer{index + 1} '
                    f'(widen_factor {self.widen_factor})')

    def _make_sar_layer(self, index: int, in_width: int, width: int,
                        num_blocks: int, stride: int,
                        expand_ratio: int) -> Sequential:
        """The SAR module of a stage and the 1x1 conv that ends it."""
        self._check_groups(index, in_width, width, expand_ratio)
        stage = self.sar_stages.index(index)
        module = SARModule(
            InvertedResidual,
            in_width,
            width,
            num_blocks + 1,  # the stage's blocks in each branch
            grid=self.mask_grid[stage],
            stage_index=stage,
            stride=stride,
            base_downsample='pool',
            fuse_relu=False,
            block_cfg=self._block_cfg(expand_ratio),
            with_cp=self.with_cp,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            **self.sar_options)
        return Sequential(module, self._conv(width, width, 1))

    def dense_cfg(self) -> dict:
        """mmpretrain's ``MobileNetV2`` of the same width (the FLOPs and
        latency baseline)."""
        return dict(
            type='MobileNetV2',
            widen_factor=self.widen_factor,
            out_indices=(len(self.layers) - 1, ))

    def switch_to_sparse(self) -> None:
        """Convert every SAR module in place to the patch-sparse eval-mode
        path (see :meth:`SARModule.switch_to_sparse`); one-way and
        inference-only."""
        self.eval()
        for module in self.sar_modules:
            module.switch_to_sparse()

    def forward(self, x: Tensor) -> tuple:
        """Outputs of the stages in ``out_indices`` for images x
        (N, 3, H, W), as in MobileNetV2."""
        x = self.conv1(x)
        outs = []
        for i, name in enumerate(self.layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.conv1] + [
            getattr(self, name) for name in self.layers[:self.frozen_stages]
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False
