"""Exported backbones run in ONNX Runtime and OpenVINO and equal the torch
eval forward, SAR with its learned, per-sample, data-dependent masks."""
import copy
import time

import pytest
import torch
from sparse_testing import assert_close, randomize_norms, sar_model

from mmsar.analysis.benchmark import calibrate_mask_rate
from mmsar.deploy.engines import BACKENDS, EngineBackbone, EngineError
from mmsar.deploy.export import export_onnx
from mmsar.models import SARMobileNetV2, SARResNet

# (depth, input (N, H, W), rate): Bottleneck and BasicBlock stages; inputs
# whose maps are multiples of the 7 x 7 grid, are not, and equal it in the
# second SAR stage (a map smaller than its grid is a ValueError).
CASES = [(50, (2, 64, 64), 0.5), (50, (3, 80, 72), 0.3),
         (18, (1, 96, 128), 0.6), (18, (2, 56, 64), 0.0)]


def tiny_sar(depth):
    return sar_model(
        SARResNet,
        depth=depth,
        stem_channels=16,
        base_channels=16,
        mask_grid=(7, 7, 2),
        out_indices=(0, 1, 2, 3))


def calibrated(model, images, rate):
    """``model`` (eval, masks calibrated to ``rate`` on ``images``) and a
    patch-sparse copy of it."""
    calibrate_mask_rate(model, images, rate)
    sparse = copy.deepcopy(model)
    sparse.switch_to_sparse()
    return model, sparse


def assert_engine_equals_masked(engine, model, images):
    """The engine output equals the masked eval forward on ``images``, then
    on an input the masks were not calibrated on: the same file follows
    each input's own masks. Returns that input's mask rates (blocks, N)."""
    for x in (images, torch.randn_like(images)):
        with torch.no_grad():
            refs = model(x)
        for out, ref in zip(engine(x), refs):
            assert out.shape == ref.shape
            assert_close(out, ref)
    return torch.stack([r.rates for r in model.mask_records])


@pytest.fixture(scope='module', params=CASES, ids=str)
def exported(request, tmp_path_factory):
    """A calibrated masked model, an input, and the ONNX file of its
    sparse version."""
    depth, (n, h, w), rate = request.param
    torch.manual_seed(1)
    images = torch.randn(n, 3, h, w)
    model, sparse = calibrated(tiny_sar(depth), images, rate)
    path = str(tmp_path_factory.mktemp('onnx') / 'sar.onnx')
    export_onnx(sparse, images, path)
    return model, images, path, rate


@pytest.mark.parametrize('backend', BACKENDS)
def test_sar_export_equals_masked_forward(exported, backend):
    model, images, path, rate = exported
    rates = assert_engine_equals_masked(
        EngineBackbone(path, backend), model, images)
    if 0 < rate < 1 and len(images) > 1:
        assert (rates.std(1) > 0).any(), 'masks should differ per sample'


def scatter_reductions(path):
    """The ``reduction`` of every ScatterND node of an ONNX file."""
    import onnx
    return [
        next((a.s.decode() for a in node.attribute if a.name == 'reduction'),
             'none') for node in onnx.load(path).graph.node
        if node.op_type == 'ScatterND'
    ]


@pytest.mark.parametrize('case', [CASES[1], CASES[2]], ids=str)
def test_update_scatter_export_equals_masked_forward(case, tmp_path):
    """The residuals added by Gather + Add + ScatterND without reduction
    (``residual_scatter='update'``): exact in both engines, also where
    cells are not full (80 x 72: patch pixels outside their cell must not
    write, as no index may repeat)."""
    depth, (n, h, w), rate = case
    torch.manual_seed(1)
    images = torch.randn(n, 3, h, w)
    model, sparse = calibrated(tiny_sar(depth), images, rate)
    paths = {}
    for scatter in ('add', 'update'):
        paths[scatter] = str(tmp_path / f'{scatter}.onnx')
        export_onnx(sparse, images, paths[scatter], residual_scatter=scatter)
    assert set(scatter_reductions(paths['add'])) == {'none', 'add'}
    assert set(scatter_reductions(paths['update'])) == {'none'}
    for backend in BACKENDS:
        assert_engine_equals_masked(
            EngineBackbone(paths['update'], backend), model, images)


def test_unknown_residual_scatter_is_a_value_error(tmp_path):
    model = tiny_sar(18)
    model.switch_to_sparse()
    with pytest.raises(ValueError, match="unknown residual scatter 'sum'"):
        export_onnx(model, torch.randn(1, 3, 64, 64),
                    str(tmp_path / 'sar.onnx'), residual_scatter='sum')


@pytest.mark.parametrize('backend', BACKENDS)
def test_dense_resnet_export_equals_eager(backend, tmp_path):
    from mmpretrain.models import ResNetV1c
    torch.manual_seed(0)
    model = ResNetV1c(depth=18, base_channels=16, out_indices=(0, 3))
    randomize_norms(model)
    model.eval()
    x = torch.randn(2, 3, 64, 96)
    path = str(tmp_path / 'dense.onnx')
    export_onnx(model, x, path)
    with torch.no_grad():
        refs = model(x)
    for out, ref in zip(EngineBackbone(path, backend)(x), refs):
        assert_close(out, ref)


@pytest.mark.parametrize('backend', BACKENDS)
def test_sar_mobilenet_v2_export_equals_masked_forward(backend, tmp_path):
    """Inverted-residual refine blocks, stride 2 included, on maps whose
    input cells are not twice the output ones (96 x 80)."""
    torch.manual_seed(1)
    images = torch.randn(2, 3, 96, 80)
    model, sparse = calibrated(
        sar_model(SARMobileNetV2, widen_factor=0.5, out_indices=(2, 4)),
        images, 0.5)
    path = str(tmp_path / 'sar_mobilenet_v2.onnx')
    export_onnx(sparse, images, path)
    assert_engine_equals_masked(EngineBackbone(path, backend), model, images)


def test_onnxruntime_threads_idle_after_a_run(tmp_path):
    """Two intra-op threads spin during a run and stop when it returns:
    they must take no CPU time from whatever runs next."""
    model = tiny_sar(18)
    model.switch_to_sparse()
    x = torch.randn(1, 3, 64, 64)
    path = str(tmp_path / 'sar.onnx')
    export_onnx(model, x, path)
    engine = EngineBackbone(path, 'onnxruntime', num_threads=2)
    for _ in range(3):
        engine(x)
    start = time.process_time()
    time.sleep(0.2)
    # A spinning pool burns tens of ms of CPU in these 200 ms.
    assert time.process_time() - start < 0.01


def test_openvino_bf16_is_within_bf16_rounding(openvino_runs_bf16, tmp_path):
    """OpenVINO's bf16 inference (its default on CPUs with bf16) runs the
    exported SAR path close to the f32 masked forward, but not equal to it
    (the precision really applies); a CPU without bf16 gets an EngineError.
    All cells are on: bf16 may flip the decisions of cells near the
    threshold, which changes the output there by far more than rounding."""
    torch.manual_seed(1)
    images = torch.randn(2, 3, 64, 64)
    model, sparse = calibrated(tiny_sar(50), images, 1.0)
    path = str(tmp_path / 'sar.onnx')
    export_onnx(sparse, images, path)
    if not openvino_runs_bf16:
        with pytest.raises(EngineError, match="precision 'bf16' needs"):
            EngineBackbone(path, 'openvino', precision='bf16')
        return
    engine = EngineBackbone(path, 'openvino', precision='bf16')
    with torch.no_grad():
        refs = model(images)
    errors = [(out - ref).abs().max() / ref.abs().max()
              for out, ref in zip(engine(images), refs)]
    assert 1e-4 < max(errors) < 2e-2


@pytest.mark.parametrize('backend, precision', [('onnxruntime', 'bf16'),
                                                ('openvino', 'fp16'),
                                                ('openvino', 'float32')])
def test_unsupported_precision_is_an_engine_error(backend, precision,
                                                  tmp_path):
    with pytest.raises(
            EngineError,
            match=f"unsupported precision '{precision}' for {backend}; "
            'expected one of f32'):
        EngineBackbone(str(tmp_path / 'sar.onnx'), backend,
                       precision=precision)
