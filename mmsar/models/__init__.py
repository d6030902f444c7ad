from .backbones import (SARResNet, SARResNetCifar, SARResNeXt,
                        SARResNeXtCifar, SARWideResNet)
from .utils import MaskRecord

__all__ = [
    'SARResNet', 'SARResNetCifar', 'SARWideResNet', 'SARResNeXt',
    'SARResNeXtCifar', 'MaskRecord'
]
