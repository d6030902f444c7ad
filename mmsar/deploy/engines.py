"""Run exported backbones in ONNX Runtime or OpenVINO on the CPU.

Both engines are set up for latency measurements that share a process with
other models: a fixed thread count and no thread pool left spinning after a
call (which would steal the next model's time). ONNX Runtime's spinning is
turned off; OpenVINO 2026.4 exposes no such setting (its TBB workers
yield), so it gets the thread count and the latency hint only.

Both compute in f32 by default, where the exported SAR path equals the torch
one. OpenVINO can also run in bf16 (``precision='bf16'``), its own default
on CPUs with bf16 instructions: much faster convs, features within about
1e-2 of f32, but cells whose mask logits lie within bf16 rounding of the
threshold may switch, which changes the output there by more.
"""
import importlib
from types import ModuleType
from typing import Callable, Tuple

import numpy as np
import torch
from torch import Tensor

BACKENDS = ('onnxruntime', 'openvino')
# Inference precisions each engine is run in (the CPU must support bf16).
PRECISIONS = dict(onnxruntime=('f32', ), openvino=('f32', 'bf16'))


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


def check_precision(backend: str, precision: str) -> None:
    """Raise EngineError unless ``backend`` can run in ``precision`` here
    (bf16: OpenVINO on a CPU it runs bf16 on)."""
    if precision not in PRECISIONS[backend]:
        raise EngineError(
            f'unsupported precision {precision!r} for {backend}; '
            f'expected one of {", ".join(PRECISIONS[backend])}')
    if precision == 'bf16':
        ov = import_engine(backend)
        capabilities = ov.Core().get_property('CPU',
                                              'OPTIMIZATION_CAPABILITIES')
        if 'BF16' not in capabilities:
            raise EngineError(
                f"precision 'bf16' needs a CPU that {backend} runs bf16 on; "
                f'this one offers {", ".join(capabilities)}')


def _openvino_request(path: str, num_threads: int, precision: str) -> Callable:
    ov = import_engine('openvino')
    core = ov.Core()
    config = {
        'INFERENCE_NUM_THREADS': num_threads,
        'PERFORMANCE_HINT': 'LATENCY',
        'INFERENCE_PRECISION_HINT': precision,
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
        precision (str): ``'f32'``, or ``'bf16'`` (OpenVINO only, on a CPU
            with bf16 support).

    Example:
        >>> engine = EngineBackbone('r50.onnx', 'onnxruntime', 1)
        >>> outs = engine(torch.randn(1, 3, 224, 224))  # tuple of tensors
    """

    def __init__(self,
                 path: str,
                 backend: str,
                 num_threads: int = 1,
                 precision: str = 'f32'):
        import_engine(backend)
        check_precision(backend, precision)
        self.backend = backend
        self.num_threads = num_threads
        self.precision = precision
        try:
            self._run = (_onnxruntime_session(path, num_threads)
                         if backend == 'onnxruntime' else _openvino_request(
                             path, num_threads, precision))
        except Exception as error:  # the engines raise their own types
            first_line = str(error).strip().splitlines()[0]
            raise EngineError(f'{backend} cannot load {path}: '
                              f'{first_line}') from None

    def __call__(self, images: Tensor) -> Tuple[Tensor, ...]:
        """Feature maps (N, C_i, H_i, W_i) of images (N, 3, H, W)."""
        array = np.ascontiguousarray(images.detach().cpu().numpy())
        return tuple(torch.from_numpy(out) for out in self._run(array))
