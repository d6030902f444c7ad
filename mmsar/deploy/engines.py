"""Run exported backbones in ONNX Runtime or OpenVINO on the CPU.

Both engines are set up for latency measurements that share a process with
other models: a fixed thread count and no thread pool left spinning after a
call (which would steal the next model's time). ONNX Runtime's spinning is
turned off; OpenVINO 2026.4 exposes no such setting (its TBB workers
yield), so it gets the thread count and the latency hint only.
"""
import importlib
from types import ModuleType
from typing import Callable, Tuple

import numpy as np
import torch
from torch import Tensor

BACKENDS = ('onnxruntime', 'openvino')


class EngineError(ValueError):
    """A backend, engine package, shape or file that cannot be served; the
    message is one line that names the bad value."""


def import_engine(backend: str) -> ModuleType:
    """The engine package of ``backend``, with a one-line error if it is
    unknown or not installed."""
    if backend not in BACKENDS:
        raise EngineError(f'unsupported backend {backend!r}; expected one '
                          f'of {", ".join(BACKENDS)}')
    try:
        return importlib.import_module(backend)
    except ImportError as error:
        raise EngineError(
            f'engine package {backend!r} is not installed ({error}); '
            'pip install -r requirements/deploy.txt') from None


def onnxruntime_options(num_threads: int):
    """ONNX Runtime session options: ``num_threads`` intra-op threads,
    sequential execution.

    The threads spin while a run lasts (waking a sleeping thread for each
    of a sparse graph's many small ops costs it about 8% at 2 threads) and
    stop when it returns, so that they take no time from what runs next.
    """
    ort = import_engine('onnxruntime')
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry('session.intra_op.allow_spinning', '1')
    options.add_session_config_entry('session.force_spinning_stop', '1')
    options.add_session_config_entry('session.inter_op.allow_spinning', '0')
    return options


def _onnxruntime_session(path: str, num_threads: int) -> Callable:
    ort = import_engine('onnxruntime')
    session = ort.InferenceSession(
        path,
        onnxruntime_options(num_threads),
        providers=['CPUExecutionProvider'])
    name = session.get_inputs()[0].name
    return lambda images: session.run(None, {name: images})


def _openvino_request(path: str, num_threads: int) -> Callable:
    ov = import_engine('openvino')
    core = ov.Core()
    config = {
        'INFERENCE_NUM_THREADS': num_threads,
        'PERFORMANCE_HINT': 'LATENCY',
        'INFERENCE_PRECISION_HINT': 'f32',
    }
    request = core.compile_model(path, 'CPU', config).create_infer_request()

    def run(images):
        request.infer({0: images})
        return [t.data.copy() for t in request.output_tensors]

    return run


class EngineBackbone:
    """An exported backbone run by an engine, called like the torch one.

    Args:
        path (str): ONNX file (either engine) or OpenVINO IR ``.xml``.
        backend (str): ``'onnxruntime'`` or ``'openvino'``.
        num_threads (int): Threads of the engine's pool.

    Example:
        >>> engine = EngineBackbone('r50.onnx', 'onnxruntime', 1)
        >>> outs = engine(torch.randn(1, 3, 224, 224))  # tuple of tensors
    """

    def __init__(self, path: str, backend: str, num_threads: int = 1):
        open_engine = dict(
            onnxruntime=_onnxruntime_session, openvino=_openvino_request)
        import_engine(backend)
        self.backend = backend
        self.num_threads = num_threads
        try:
            self._run = open_engine[backend](path, num_threads)
        except Exception as error:  # the engines raise their own types
            first_line = str(error).strip().splitlines()[0]
            raise EngineError(f'{backend} cannot load {path}: '
                              f'{first_line}') from None

    def __call__(self, images: Tensor) -> Tuple[Tensor, ...]:
        """Feature maps (N, C_i, H_i, W_i) of images (N, 3, H, W)."""
        array = np.ascontiguousarray(images.detach().cpu().numpy())
        return tuple(torch.from_numpy(out) for out in self._run(array))
