from .sar_mobilenet_v2 import SARMobileNetV2
from .sar_resnet import SARResNet, SARResNetCifar, SARWideResNet
from .sar_resnext import SARResNeXt, SARResNeXtCifar

__all__ = [
    'SARResNet', 'SARResNetCifar', 'SARWideResNet', 'SARResNeXt',
    'SARResNeXtCifar', 'SARMobileNetV2'
]
