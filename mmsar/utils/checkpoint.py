"""Let ``torch.load(weights_only=True)`` read mmengine runner checkpoints.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``, which only
unpickles allowlisted globals. mmengine 0.10.7 calls it without
``weights_only``, so ``load_from`` and ``resume`` fail on the message hub state
in its own checkpoints: :class:`HistoryBuffer` objects holding numpy arrays
and scalars, whose statistics methods are pickled as
``getattr(HistoryBuffer, name)``.
"""
import pickle
from typing import Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct, scalar
except ImportError:  # numpy 1.x
    from numpy.core.multiarray import _reconstruct, scalar

# Loading a numpy array or scalar also checks the class of its dtype
# (numpy.dtypes.*DType). HistoryBuffer holds float64 values and int64 counts;
# metric values kept in the message hub (``eta``, ``best_score``) are float64
# or, from custom metrics, float32 scalars.
_NUMPY_DTYPES = ('int64', 'float32', 'float64')


def _history_buffer_getattr(obj, name: str):
    """``getattr`` restricted to the public attributes of HistoryBuffer."""
    if obj is not HistoryBuffer or name.startswith('_'):
        raise pickle.UnpicklingError(
            f'weights_only load only allows getattr(HistoryBuffer, name), '
            f'got getattr({obj!r}, {name!r})')
    return getattr(obj, name)


def checkpoint_safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The globals that mmengine writes into runner checkpoints."""
    return [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        _reconstruct,
        scalar,
        *(type(np.dtype(name)) for name in _NUMPY_DTYPES),
    ]


def register_checkpoint_safe_globals() -> None:
    """Allowlist :func:`checkpoint_safe_globals` for ``weights_only`` loads.

    Idempotent; a no-op for torch < 2.4, which has no allowlist (and loads
    with ``weights_only=False`` by default).
    """
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(checkpoint_safe_globals())
