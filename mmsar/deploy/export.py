"""Export of backbones to ONNX (and OpenVINO IR) for the CPU engines.

A SAR backbone is exported after ``switch_to_sparse()`` with its exact,
data-dependent sparse path: the graph computes the masks, turns each
group's into row tables (NonZero, Gather), runs the group's convs of a
refine block on a variable number of patches (1x1 convs as Gemms) and
scatters them back (ScatterND), so one file serves every input. Dense
ResNets are exported as they are (the engines fold their norms). Exports
are per input shape and batch size.
"""
import os
import os.path as osp
import tempfile
import warnings
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from .engines import (EngineBackbone, EngineError, check_precision,
                      import_engine)
from .sparse_patches import traced_residual_scatter

OPSET = 17
# Named engine runs (as the tools call them): engine, inference precision
# and how the SAR export adds its residuals (see export_onnx).
ENGINE_RUNS = {
    'onnxruntime': ('onnxruntime', 'f32', 'add'),
    'openvino': ('openvino', 'f32', 'add'),
    'openvino-bf16': ('openvino', 'bf16', 'update'),
}
# The smallest input side: ResNets downsample by 32.
MIN_SIZE = 32


def check_shape(shape: Sequence[int]) -> Tuple[int, int]:
    """(H, W) of an input the exported backbone can serve."""
    if len(shape) != 2 or min(shape) < MIN_SIZE:
        raise EngineError(f'input shape {"x".join(map(str, shape))} cannot '
                          f'be served: expected H W, each >= {MIN_SIZE}')
    return tuple(shape)


def export_onnx(backbone: nn.Module,
                images: Tensor,
                path: str,
                opset: int = OPSET,
                residual_scatter: str = 'add') -> None:
    """Trace ``backbone(images)`` into the ONNX file ``path``.

    Args:
        backbone (nn.Module): In eval mode; a SAR backbone after
            ``switch_to_sparse()`` keeps its data-dependent sparse path.
        images (Tensor): Example input (N, 3, H, W); N, H and W are fixed.
        path (str): Output file.
        opset (int): ONNX opset.
        residual_scatter (str): How refine blocks add their residuals,
            ``'add'`` or ``'update'`` (for OpenVINO in bf16); see
            :func:`~mmsar.deploy.sparse_patches.add_rows`.
    """
    with torch.no_grad(), warnings.catch_warnings(), \
            traced_residual_scatter(residual_scatter):
        warnings.simplefilter('ignore')  # tracer notes on constant shapes
        outputs = backbone(images)
        names = [f'out{i}' for i in range(len(outputs))]
        torch.onnx.export(
            backbone, (images, ),
            path,
            opset_version=opset,
            dynamo=False,
            input_names=['images'],
            output_names=names)


def _write_for_engine(onnx_path: str, backend: str, out: str) -> None:
    """Move the ONNX file to ``out``, or convert it to OpenVINO IR when
    ``out`` ends in ``.xml`` (the weights go next to it, ``.bin``)."""
    if not (backend == 'openvino' and out.endswith('.xml')):
        os.replace(onnx_path, out)
        return
    ov = import_engine('openvino')
    xml = osp.join(osp.dirname(onnx_path), 'model.xml')
    ov.save_model(ov.convert_model(onnx_path), xml, compress_to_fp16=False)
    os.replace(xml[:-4] + '.bin', out[:-4] + '.bin')
    os.replace(xml, out)


def relative_error(outputs: Sequence[Tensor],
                   references: Sequence[Tensor]) -> float:
    """Largest ``max|out - ref| / max(max|ref|, 1)`` over the outputs."""
    return max(((out - ref).abs().max() / ref.abs().max().clamp(min=1)).item()
               for out, ref in zip(outputs, references))


def export_backbone(backbone: nn.Module,
                    shape: Sequence[int],
                    backend: str,
                    out: str,
                    batch: int = 1,
                    opset: int = OPSET,
                    residual_scatter: str = 'add') -> float:
    """Export ``backbone`` for ``backend`` and check it in the engine.

    The file is written to a temporary name, loaded by the engine, run on a
    random input and compared with the torch forward, and only then moved
    to ``out``: a failed export leaves nothing at ``out``.

    Args:
        backbone (nn.Module): As for :func:`export_onnx`.
        shape (Sequence[int]): Input (H, W).
        backend (str): ``'onnxruntime'`` (writes ONNX) or ``'openvino'``
            (ONNX, or IR when ``out`` ends in ``.xml``).
        out (str): Output file.
        batch (int): Batch size N.
        opset (int): ONNX opset.
        residual_scatter (str): As for :func:`export_onnx`.

    Returns:
        float: Relative max error of the engine against torch.
    """
    import_engine(backend)
    shape = check_shape(shape)
    images = torch.randn(batch, 3, *shape)
    backbone.eval()
    with tempfile.TemporaryDirectory(dir=osp.dirname(osp.abspath(out))) as tmp:
        path = osp.join(tmp, 'model.onnx')
        try:
            export_onnx(backbone, images, path, opset, residual_scatter)
        except Exception as error:  # tracing and symbolic errors vary
            first_line = str(error).strip().splitlines()[0]
            raise EngineError(f'ONNX export (opset {opset}) failed: '
                              f'{first_line}') from None
        with torch.inference_mode():
            references = backbone(images)
        error = relative_error(
            EngineBackbone(path, backend)(images), references)
        _write_for_engine(path, backend, out)
    return error


class ExportedBackbone(nn.Module):
    """A backbone that runs in a CPU engine, a drop-in for
    ``model.backbone`` at test time.

    Each new input shape (N, H, W) is exported once (into a temporary
    folder that lives as long as this module) and then served by an
    :class:`EngineBackbone`.

    Args:
        backbone (nn.Module): The torch backbone in eval mode; a SAR
            backbone after ``switch_to_sparse()``.
        backend (str): ``'onnxruntime'`` or ``'openvino'``.
        num_threads (int, optional): Engine threads; default torch's.
        precision (str): The engine's inference precision (see
            :class:`EngineBackbone`).
        residual_scatter (str): As for :func:`export_onnx`.
    """

    def __init__(self,
                 backbone: nn.Module,
                 backend: str,
                 num_threads: Optional[int] = None,
                 precision: str = 'f32',
                 residual_scatter: str = 'add'):
        super().__init__()
        import_engine(backend)
        check_precision(backend, precision)
        self.backbone = backbone.eval()
        self.backend = backend
        self.num_threads = num_threads or torch.get_num_threads()
        self.precision = precision
        self.residual_scatter = residual_scatter
        self._engines: Dict[Tuple[int, ...], EngineBackbone] = {}
        self._work_dir = tempfile.TemporaryDirectory()

    def forward(self, images: Tensor) -> Tuple[Tensor, ...]:
        """Feature maps of images (N, 3, H, W), computed by the engine."""
        key = tuple(images.shape)
        if key not in self._engines:
            check_shape(key[2:])
            path = osp.join(self._work_dir.name,
                            'x'.join(map(str, key)) + '.onnx')
            export_onnx(self.backbone, images.cpu(), path,
                        residual_scatter=self.residual_scatter)
            self._engines[key] = EngineBackbone(path, self.backend,
                                                self.num_threads,
                                                self.precision)
        outputs = self._engines[key](images)
        return tuple(out.to(images.device) for out in outputs)
