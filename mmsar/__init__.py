"""mmsar: Spatially Adaptive feature Refinement (SAR) backbones for OpenMMLab."""
from . import engine  # noqa: F401  (registers SARLossHook)
from .version import __version__

__all__ = ['__version__']
