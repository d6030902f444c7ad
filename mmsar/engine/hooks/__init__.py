from .mask_vis_hook import SARMaskVisHook  # noqa: F401
