"""SAR-ResNet: ResNets whose first stages are SAR modules."""
import warnings
from typing import List, Optional, Sequence, Union

import torch.nn as nn
from mmcv.cnn import ConvModule, build_conv_layer, build_norm_layer
from mmengine.model import BaseModule, Sequential
from mmengine.model.weight_init import constant_init
from mmengine.registry import MODELS
from torch import Tensor

from ...deploy.sar import deploy_backbone
from ...utils.args import invalid_argument as _invalid
from ..layers.region_selection import INIT_ON_LOGIT_GAP
from ..layers.res_blocks import BasicBlock, Bottleneck, make_shortcut
from ..layers.sar_module import SARModule, check_stage_options
from .sar_base import SARBackboneMixin


@MODELS.register_module()
class SARResNet(SARBackboneMixin, BaseModule):
    """SAR-ResNet backbone (Han et al., "Spatially Adaptive feature
    Refinement for Efficient Inference", Sec. III and Table X).

    The first ``num_sar_stages`` stages of a ResNet are replaced by
    :class:`SARModule`\\ s; the last stage stays a plain ResNet stage. The
    fusion block that ends SAR stage i carries the stride to stage i + 1, so
    it opens the next layer, and the stage outputs are those of a ResNet:
    strides 4/8/16/32 and, for Bottleneck, 256/512/1024/2048 channels. FPN,
    the mmseg heads and mmpretrain necks work unchanged.

    Every stride-2 shortcut is a 3x3/2 average pool (then a 1x1 conv + norm
    where the width changes). ``mask_records`` holds the masks of the last
    forward (see :class:`MaskRecord`).

    Args:
        depth (int): 18, 34, 50, 101 or 152.
        mask_groups (int): G, channel groups of the refinement branch, each
            with its own mask. Default: 2.
        base_stride (int | Sequence[int]): s, downsampling of the base
            branch, 2 or 4 (4 adds a 3x3/2 average pool before the first
            base block); an int applies to every SAR stage but the third,
            which keeps 2 as in the authors' networks (see
            ``third_stage_base_stride``), a sequence gives one s per SAR
            stage. Default: 2.
        base_reduction (int): alpha, base width is C / alpha. Default: 2.
        refine_expansion (int): beta, refine width is C * beta. Default: 1.
        mask_grid (Sequence[int], optional): K of each SAR stage, at most
            the side of the stage's feature map. Default: ``(14, 7, 2)``
            (the authors' ImageNet networks: 4 x 4-pixel cells in stage 1
            at 224 x 224; first ``num_sar_stages`` entries).
        mask_init_gap (float): Initial on-minus-off logit bias of every
            region selection, positive so that all masks start on.
            Default: 3 (the authors' code: 9; see
            :class:`~mmsar.models.layers.RegionSelection`).
        num_sar_stages (int): Stages built as SAR modules, from the first.
            Default: 3.
        in_channels (int): Input image channels. Default: 3.
        stem_channels (int): Stem output width. Default: 64.
        base_channels (int): Width of the first stage before expansion.
            Default: 64.
        deep_stem (bool): Three 3x3 convs instead of the 7x7 conv (as in
            ResNetV1c, used by mmseg). Default: False.
        strides (Sequence[int]): Stride of each stage; for a SAR stage it is
            the stride of the fusion block opening it, so the first must be
            1. Default: ``(1, 2, 2, 2)``.
        dilations (Sequence[int]): Dilation of each stage; SAR stages take
            1. Default: ``(1, 1, 1, 1)``.
        out_indices (Sequence[int]): Stages whose outputs are returned.
            Default: ``(3, )``.
        frozen_stages (int): Stages to freeze (stop gradients and keep in
            eval mode, region selection included); -1 freezes nothing, 0 the
            stem only. Default: -1.
        conv_cfg (dict, optional): Conv layers config. Default: None.
        norm_cfg (dict): Norm layers config. Default: ``dict(type='BN')``.
        norm_eval (bool): Keep norm layers in eval mode while training.
            Default: False.
        with_cp (bool): Gradient checkpointing in the blocks.
            Default: False.
        zero_init_residual (bool): Zero-init the last norm of base, fusion
            and plain blocks. Default: True.
        branches (str): ``'both'``; ``'base'`` or ``'refine'`` keep one
            branch (Table I ablations). Default: ``'both'``.
        mask_mode (str): ``'learned'``; ``'center'`` or ``'uniform'`` use
            fixed masks (Table I ablations). Default: ``'learned'``.
        base_dilated (bool): SAR-dil: the base branch keeps the resolution
            and dilates its 3x3 convs by s (Table V). Default: False.
        pretrained (str, optional): Deprecated, use ``init_cfg``. Accepted
            because mmseg's ``EncoderDecoder`` passes its ``pretrained`` to
            the backbone; a path becomes a ``Pretrained`` init_cfg.
        init_cfg (dict or list[dict], optional): Initialization config.

    Example:
        >>> import torch
        >>> from mmsar.models import SARResNet
        >>> model = SARResNet(depth=50, out_indices=(0, 1, 2, 3)).eval()
        >>> model.init_weights()
        >>> for out in model(torch.rand(1, 3, 224, 224)):
        ...     print(tuple(out.shape))
        (1, 256, 56, 56)
        (1, 512, 28, 28)
        (1, 1024, 14, 14)
        (1, 2048, 7, 7)
        >>> [round(r.rates.item(), 2) for r in model.mask_records][:2]
        [1.0, 1.0]
    """

    arch_settings = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }
    default_mask_grid = (14, 7, 2)
    # Stages at the end that are never SAR modules.
    num_plain_tail_stages = 1
    # Further arguments of every block (ResNeXt: cardinality and width).
    block_cfg: dict = {}
    # The base stride of the third SAR stage when ``base_stride`` is an int:
    # the authors fix it to 2 in every network (its map, 14 x 14 at 224 x
    # 224 and 8 x 8 on CIFAR, would shrink to 4 x 4 / 2 x 2 at s = 4); the
    # paper gives one s per network.
    third_stage_base_stride = 2

    def __init__(self,
                 depth: int,
                 mask_groups: int = 2,
                 base_stride: Union[int, Sequence[int]] = 2,
                 base_reduction: int = 2,
                 refine_expansion: int = 1,
                 mask_grid: Optional[Sequence[int]] = None,
                 mask_init_gap: float = INIT_ON_LOGIT_GAP,
                 num_sar_stages: int = 3,
                 in_channels: int = 3,
                 stem_channels: int = 64,
                 base_channels: int = 64,
                 deep_stem: bool = False,
                 strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (3, ),
                 frozen_stages: int = -1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 zero_init_residual: bool = True,
                 branches: str = 'both',
                 mask_mode: str = 'learned',
                 base_dilated: bool = False,
                 pretrained: Optional[str] = None,
                 init_cfg=[
                     dict(type='Kaiming', layer=['Conv2d']),
                     dict(
                         type='Constant',
                         val=1,
                         layer=['_BatchNorm', 'GroupNorm'])
                 ]):
        if pretrained is not None:
            warnings.warn('SARResNet: `pretrained` is deprecated, use '
                          "init_cfg=dict(type='Pretrained', checkpoint=...)")
            init_cfg = dict(type='Pretrained', checkpoint=pretrained)
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise _invalid('depth', depth,
                           f'expected one of {sorted(self.arch_settings)}')
        self.block, self.stage_blocks = self.arch_settings[depth]
        num_stages = len(self.stage_blocks)
        self.num_stages = num_stages
        max_sar = num_stages - self.num_plain_tail_stages
        if not 1 <= num_sar_stages <= max_sar:
            raise _invalid('num_sar_stages', num_sar_stages,
                           f'expected 1 to {max_sar} (the last '
                           f'{self.num_plain_tail_stages} stage(s) stay '
                           'plain)' if self.num_plain_tail_stages else
                           f'expected 1 to {max_sar}')
        if mask_grid is None:
            mask_grid = self.default_mask_grid[:num_sar_stages]
        base_strides = self._base_strides(base_stride, num_sar_stages)
        self._check_arguments(mask_groups, base_strides, base_reduction,
                              refine_expansion, mask_grid, num_sar_stages,
                              strides, dilations, out_indices, frozen_stages,
                              branches, mask_mode)
        self.depth = depth
        self.mask_groups = mask_groups
        self.base_strides = base_strides
        self.base_reduction = base_reduction
        self.refine_expansion = refine_expansion
        self.mask_grid = tuple(mask_grid)
        self.num_sar_stages = num_sar_stages
        self.stem_channels = stem_channels
        self.base_channels = base_channels
        self.deep_stem = deep_stem
        self.strides = tuple(strides)
        self.dilations = tuple(dilations)
        self.out_indices = tuple(i % num_stages for i in out_indices)
        self.frozen_stages = frozen_stages
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual

        self._make_stem(in_channels, stem_channels)
        widths = [
            base_channels * 2**i * self.block.expansion
            for i in range(num_stages)
        ]
        self._check_groups(mask_groups, [stem_channels] + widths[:-1],
                           widths[:num_sar_stages])
        sar_options = dict(
            groups=mask_groups,
            base_reduction=base_reduction,
            refine_expansion=refine_expansion,
            branches=branches,
            mask_mode=mask_mode,
            base_dilated=base_dilated,
            mask_init_gap=mask_init_gap)
        self.res_layers = []
        in_width = stem_channels
        for i, (num_blocks, width) in enumerate(zip(self.stage_blocks,
                                                    widths)):
            if i < num_sar_stages:
                layer = self._make_sar_layer(i, in_width, width, num_blocks,
                                             **sar_options)
            else:
                layer = self._make_plain_layer(i, in_width, width,
                                               num_blocks)
            layer_name = f'layer{i + 1}'
            self.add_module(layer_name, layer)
            self.res_layers.append(layer_name)
            in_width = width
        if num_sar_stages == num_stages:
            # No plain stage follows the last SAR module: its fusion block
            # ends the last layer.
            layer.append(self._make_fusion_block(in_width, 1))
        self.feat_dim = in_width

    def _base_strides(self, base_stride, num_sar_stages: int) -> tuple:
        """One s per SAR stage (see ``base_stride``)."""
        if isinstance(base_stride, int):
            strides = [base_stride] * num_sar_stages
            if num_sar_stages > 2:
                strides[2] = self.third_stage_base_stride
            return tuple(strides)
        if len(base_stride) != num_sar_stages:
            raise _invalid('base_stride', base_stride,
                           f'expected an int or {num_sar_stages} values, one '
                           'per SAR stage')
        return tuple(base_stride)

    def _check_arguments(self, mask_groups, base_strides, base_reduction,
                         refine_expansion, mask_grid, num_sar_stages, strides,
                         dilations, out_indices, frozen_stages, branches,
                         mask_mode) -> None:
        num_stages = self.num_stages
        for name, value in (('mask_groups', mask_groups),
                            ('base_reduction', base_reduction),
                            ('refine_expansion', refine_expansion)):
            if not isinstance(value, int) or value < 1:
                raise _invalid(name, value, 'expected a positive integer')
        for base_stride in base_strides:
            check_stage_options(base_stride, branches, mask_mode)
        if (len(mask_grid) != num_sar_stages
                or not all(isinstance(k, int) and k >= 1
                           for k in mask_grid)):
            raise _invalid(
                'mask_grid', mask_grid,
                f'expected {num_sar_stages} positive integers, one K per '
                'SAR stage')
        if len(strides) != num_stages or len(dilations) != num_stages:
            raise _invalid('strides/dilations', (strides, dilations),
                           f'expected {num_stages} values each')
        if strides[0] != 1:
            raise _invalid('strides', strides,
                           'the first stage is a SAR stage and takes '
                           'stride 1 (the stem downsamples)')
        if any(d != 1 for d in dilations[:num_sar_stages]):
            raise _invalid('dilations', dilations,
                           'SAR stages take dilation 1; dilate plain stages')
        bad = [i for i in out_indices if not -num_stages <= i < num_stages]
        if bad or not out_indices:
            raise _invalid('out_indices', out_indices,
                           f'expected indices in [0, {num_stages})')
        if not -1 <= frozen_stages <= num_stages:
            raise _invalid('frozen_stages', frozen_stages,
                           f'expected -1 to {num_stages}')

    def _check_groups(self, groups: int, in_widths: List[int],
                      sar_widths: List[int]) -> None:
        """G must split every width of the refinement and selection convs."""
        for i, width in enumerate(sar_widths):
            refine = width * self.refine_expansion
            widths = {
                'stage input': in_widths[i],
                'refine width': refine,
                'refine inner width': self.block.inner_width(
                    refine, **self.block_cfg),
                'base width': width // self.base_reduction,
            }
            if width % self.base_reduction:
                raise _invalid(
                    'base_reduction', self.base_reduction,
                    f'must divide the width {width} of SAR stage {i}')
            for what, value in widths.items():
                if value % groups:
                    raise _invalid(
                        'mask_groups', groups,
                        f'must divide the {what} {value} of SAR stage {i}')

    def _make_stem(self, in_channels: int, stem_channels: int) -> None:
        if self.deep_stem:
            self.stem = nn.Sequential(*[
                ConvModule(
                    c_in,
                    c_out,
                    3,
                    stride=stride,
                    padding=1,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg,
                    inplace=True) for c_in, c_out, stride in (
                        (in_channels, stem_channels // 2, 2),
                        (stem_channels // 2, stem_channels // 2, 1),
                        (stem_channels // 2, stem_channels, 1))
            ])
        else:
            self.conv1 = build_conv_layer(
                self.conv_cfg,
                in_channels,
                stem_channels,
                7,
                stride=2,
                padding=3,
                bias=False)
            self.norm1_name, norm1 = build_norm_layer(
                self.norm_cfg, stem_channels, postfix=1)
            self.add_module(self.norm1_name, norm1)
            self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    def _stem_modules(self) -> List[nn.Module]:
        if self.deep_stem:
            return [self.stem]
        return [self.conv1, self.norm1]

    def _forward_stem(self, x: Tensor) -> Tensor:
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        return self.maxpool(x)

    def _block_options(self) -> dict:
        """Arguments of every block but its widths, stride and shortcut."""
        return dict(
            with_cp=self.with_cp,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            **self.block_cfg)

    def _make_fusion_block(self, width: int, stride: int) -> nn.Module:
        """The block after a SAR module; its stride shortcut is a pool."""
        return self.block(
            width,
            width,
            stride=stride,
            downsample=make_shortcut(width, width, stride),
            **self._block_options())

    def _make_sar_layer(self, index: int, in_width: int, width: int,
                        num_blocks: int, **sar_options) -> Sequential:
        blocks = []
        if index > 0:
            blocks.append(
                self._make_fusion_block(in_width, self.strides[index]))
        blocks.append(
            SARModule(
                self.block,
                in_width,
                width,
                num_blocks,
                grid=self.mask_grid[index],
                base_stride=self.base_strides[index],
                stage_index=index,
                block_cfg=self.block_cfg,
                with_cp=self.with_cp,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                **sar_options))
        return Sequential(*blocks)

    def _make_plain_layer(self, index: int, in_width: int, width: int,
                          num_blocks: int) -> Sequential:
        blocks = []
        if index == self.num_sar_stages:
            blocks.append(self._make_fusion_block(in_width, 1))
        stride, dilation = self.strides[index], self.dilations[index]
        for i in range(num_blocks):
            block_in = in_width if i == 0 else width
            block_stride = stride if i == 0 else 1
            blocks.append(
                self.block(
                    block_in,
                    width,
                    stride=block_stride,
                    dilation=dilation,
                    downsample=make_shortcut(block_in, width, block_stride,
                                             self.conv_cfg, self.norm_cfg),
                    **self._block_options()))
        return Sequential(*blocks)

    def dense_cfg(self) -> Optional[dict]:
        """Config of the mmpretrain backbone this one replaces (the FLOPs
        and latency baseline), or None when mmpretrain has none."""
        return dict(
            type='ResNet',
            depth=self.depth,
            stem_channels=self.stem_channels,
            base_channels=self.base_channels,
            deep_stem=self.deep_stem,
            strides=self.strides,
            dilations=self.dilations,
            out_indices=(self.num_stages - 1, ))

    def switch_to_sparse(self) -> None:
        """Convert in place for fast eval-mode CPU inference (one-way).

        Norms are folded into prepacked oneDNN convs with fused bias / ReLU /
        residual add, tensors are channels-last and refine blocks compute
        each group only on its selected cells; outputs equal those of the
        eval-mode model up to float rounding. See
        :func:`mmsar.deploy.deploy_backbone`, which gives dense ResNets the
        same treatment.
        """
        deploy_backbone(self)

    def init_weights(self) -> None:
        super().init_weights()
        if (isinstance(self.init_cfg, dict)
                and self.init_cfg['type'] == 'Pretrained'):
            return
        if self.zero_init_residual:
            refine_blocks = {
                id(b)
                for m in self.sar_modules for b in m.refine_blocks
            }
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)) and id(
                        m) not in refine_blocks:
                    constant_init(m.last_norm, 0)

    def _freeze_stages(self) -> None:
        frozen = []
        if self.frozen_stages >= 0:
            frozen += self._stem_modules()
        frozen += [
            getattr(self, name) for name in self.res_layers[:max(
                self.frozen_stages, 0)]
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def forward(self, x: Tensor) -> tuple:
        """Stage outputs for images x (N, C_in, H, W), as in ResNet."""
        x = self._forward_stem(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)


@MODELS.register_module()
class SARResNetCifar(SARResNet):
    """SAR-ResNet for 32x32 images (CIFAR, Tables I-III).

    A 3x3 stem without max pool and three stages of BasicBlocks of widths
    16, 32, 64 (times ``widen_factor``), all SAR stages by default; the
    last fusion block ends the last stage. The stem keeps 16 channels at
    every width, as in the authors' CIFAR networks.

    Args:
        depth (int): 20, 32, 56 or 110 (6n + 2).
        widen_factor (int): Width multiplier of the stages, 2 for the
            paper's ResNet32x2 (the network of Tables I-III). Default: 1.
        stem_channels (int): Default: 16.
        base_channels (int): Width of the first stage before widening and
            expansion. Default: 16.
        mask_grid (Sequence[int], optional): Default: ``(4, 4, 2)``, patches
            of 8, 4 and 4 pixels at 32x32 input.
        strides (Sequence[int]): Default: ``(1, 2, 2)``.
        dilations (Sequence[int]): Default: ``(1, 1, 1)``.
        out_indices (Sequence[int]): Default: ``(2, )``.
        **kwargs: The other arguments of :class:`SARResNet`.

    Example:
        >>> import torch
        >>> from mmsar.models import SARResNetCifar
        >>> model = SARResNetCifar(depth=32).eval()
        >>> model.init_weights()
        >>> tuple(model(torch.rand(2, 3, 32, 32))[-1].shape)
        (2, 64, 8, 8)
    """

    arch_settings = {
        depth: (BasicBlock, ((depth - 2) // 6, ) * 3)
        for depth in (20, 32, 56, 110)
    }
    default_mask_grid = (4, 4, 2)
    num_plain_tail_stages = 0

    def __init__(self,
                 depth: int,
                 widen_factor: int = 1,
                 stem_channels: int = 16,
                 base_channels: int = 16,
                 strides: Sequence[int] = (1, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1),
                 out_indices: Sequence[int] = (2, ),
                 **kwargs):
        if not isinstance(widen_factor, int) or widen_factor < 1:
            raise _invalid('widen_factor', widen_factor,
                           'expected a positive integer')
        super().__init__(
            depth,
            stem_channels=stem_channels,
            base_channels=base_channels * widen_factor,
            strides=strides,
            dilations=dilations,
            out_indices=out_indices,
            **kwargs)

    def dense_cfg(self) -> Optional[dict]:
        """None: mmpretrain has no ResNet of these depths for CIFAR."""
        return None

    def _make_stem(self, in_channels: int, stem_channels: int) -> None:
        self.conv1 = build_conv_layer(
            self.conv_cfg, in_channels, stem_channels, 3, padding=1,
            bias=False)
        self.norm1_name, norm1 = build_norm_layer(
            self.norm_cfg, stem_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.relu = nn.ReLU(inplace=True)

    def _stem_modules(self) -> List[nn.Module]:
        return [self.conv1, self.norm1]

    def _forward_stem(self, x: Tensor) -> Tensor:
        return self.relu(self.norm1(self.conv1(x)))


@MODELS.register_module()
class SARWideResNet(SARResNetCifar):
    """SAR on a Wide ResNet WRN-d-k for 32x32 images (Table IV).

    The authors' WRN: a 16-channel 3x3 stem and three stages of (d - 4) / 6
    conv-BN-ReLU BasicBlocks (not the pre-activation blocks of the WRN
    paper) of widths 16k, 32k, 64k, i.e. a :class:`SARResNetCifar` of other
    depths; WRN-28-10 has stage outputs of 160, 320 and 640 channels.

    Args:
        depth (int): 16, 22, 28 or 40 (6n + 4). Default: 28.
        widen_factor (int): k. Default: 10.
        **kwargs: The other arguments of :class:`SARResNetCifar`.

    Example:
        >>> import torch
        >>> from mmsar.models import SARWideResNet
        >>> model = SARWideResNet(depth=16, widen_factor=2).eval()
        >>> tuple(model(torch.rand(1, 3, 32, 32))[-1].shape)
        (1, 128, 8, 8)
    """

    arch_settings = {
        depth: (BasicBlock, ((depth - 4) // 6, ) * 3)
        for depth in (16, 22, 28, 40)
    }

    def __init__(self, depth: int = 28, widen_factor: int = 10, **kwargs):
        super().__init__(depth, widen_factor=widen_factor, **kwargs)
