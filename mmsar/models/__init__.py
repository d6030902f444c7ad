from .backbones import (SARMobileNetV2, SARResNet, SARResNetCifar, SARResNeXt,
                        SARResNeXtCifar, SARWideResNet)
from .utils import MaskRecord

__all__ = [
    'SARResNet', 'SARResNetCifar', 'SARWideResNet', 'SARResNeXt',
    'SARResNeXtCifar', 'SARMobileNetV2', 'MaskRecord'
]
