"""SAR-ResNeXt: ResNeXts whose first stages are SAR modules."""
from typing import Optional

from mmengine.registry import MODELS

from ...utils.args import invalid_argument
from ..layers.res_blocks import Bottleneck
from .sar_resnet import SARResNet, SARResNetCifar


@MODELS.register_module()
class SARResNeXt(SARResNet):
    """SAR-ResNeXt backbone (Table VII): a :class:`SARResNet` of ResNeXt
    bottlenecks.

    Every bottleneck has a 3x3 conv of ``groups`` groups and an inner width
    of ``groups * width_per_group`` at output width 256 (mmpretrain's
    ``ResNeXt``; 32 x 4d: 128, 256, 512 and 1024); in the refinement branch
    its 1x1 convs are split into G mask groups too and its 3x3 conv into
    ``lcm(groups, G)``. Stage outputs are those of the ResNeXt.

    Args:
        depth (int): 50, 101 or 152.
        groups (int): Cardinality of the 3x3 convs. Default: 32.
        width_per_group (int): Width of each group at output width 256.
            Default: 4.
        **kwargs: The other arguments of :class:`SARResNet`.

    Example:
        >>> import torch
        >>> from mmsar.models import SARResNeXt
        >>> model = SARResNeXt(depth=50, out_indices=(0, 1, 2, 3)).eval()
        >>> for out in model(torch.rand(1, 3, 224, 224)):
        ...     print(tuple(out.shape))
        (1, 256, 56, 56)
        (1, 512, 28, 28)
        (1, 1024, 14, 14)
        (1, 2048, 7, 7)
    """

    arch_settings = {
        depth: SARResNet.arch_settings[depth]
        for depth in (50, 101, 152)
    }

    def __init__(self,
                 depth: int,
                 groups: int = 32,
                 width_per_group: int = 4,
                 **kwargs):
        for name, value in (('groups', groups),
                            ('width_per_group', width_per_group)):
            if not isinstance(value, int) or value < 1:
                raise invalid_argument(name, value,
                                       'expected a positive integer')
        self.groups = groups
        self.width_per_group = width_per_group
        self.block_cfg = dict(
            cardinality=groups, width_per_group=width_per_group)
        super().__init__(depth, **kwargs)

    def dense_cfg(self) -> Optional[dict]:
        """mmpretrain's ``ResNeXt`` of the same depth and cardinality."""
        return dict(
            super().dense_cfg(),
            type='ResNeXt',
            groups=self.groups,
            width_per_group=self.width_per_group)


@MODELS.register_module()
class SARResNeXtCifar(SARResNeXt, SARResNetCifar):
    """SAR-ResNeXt for 32x32 images (Table IV): ResNeXt-29 8 x 32d.

    The authors' CIFAR ResNeXt: a 64-channel 3x3 stem and three stages of
    three ResNeXt bottlenecks with outputs of 256, 512 and 1024 channels,
    all SAR stages (see :class:`SARResNetCifar`); at 8 x 32d the inner
    width equals the output width.

    Args:
        depth (int): 29. Default: 29.
        groups (int): Cardinality. Default: 8.
        width_per_group (int): Default: 32.
        stem_channels (int): Default: 64.
        base_channels (int): Default: 64.
        **kwargs: The other arguments of :class:`SARResNetCifar`.

    Example:
        >>> import torch
        >>> from mmsar.models import SARResNeXtCifar
        >>> model = SARResNeXtCifar(width_per_group=4).eval()
        >>> tuple(model(torch.rand(1, 3, 32, 32))[-1].shape)
        (1, 1024, 8, 8)
    """

    arch_settings = {29: (Bottleneck, (3, 3, 3))}

    def __init__(self,
                 depth: int = 29,
                 groups: int = 8,
                 width_per_group: int = 32,
                 stem_channels: int = 64,
                 base_channels: int = 64,
                 **kwargs):
        super().__init__(
            depth,
            groups=groups,
            width_per_group=width_per_group,
            stem_channels=stem_channels,
            base_channels=base_channels,
            **kwargs)

    def dense_cfg(self) -> Optional[dict]:
        """None: mmpretrain has no CIFAR ResNeXt."""
        return None
