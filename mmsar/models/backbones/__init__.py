from .sar_resnet import SARResNet, SARResNetCifar

__all__ = ['SARResNet', 'SARResNetCifar']
