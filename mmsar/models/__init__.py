from .backbones import SARResNet, SARResNetCifar
from .utils import MaskRecord

__all__ = ['SARResNet', 'SARResNetCifar', 'MaskRecord']
