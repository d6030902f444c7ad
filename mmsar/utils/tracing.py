"""Helpers for code that is traced for export."""
from typing import Tuple

from torch import Tensor


def static_shape(x: Tensor) -> Tuple[int, ...]:
    """``x.shape`` as Python numbers, which a trace records as constants
    (exports serve one input shape) instead of Shape / Gather / Concat
    chains. Not for the data-dependent number of patches."""
    return tuple(int(size) for size in x.shape)
