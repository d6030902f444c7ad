"""mmsar: Spatially Adaptive feature Refinement backbones for OpenMMLab."""
from . import engine  # noqa: F401  (registers SARLossHook)
from . import models  # noqa: F401  (registers the backbones)
from .utils import filter_upstream_warnings, register_checkpoint_safe_globals
from .version import __version__

filter_upstream_warnings()
register_checkpoint_safe_globals()

__all__ = ['__version__']
