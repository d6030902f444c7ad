"""tools/test.py --backbone-engine gives the predictions of the torch
model with its SAR backbone exported to an engine."""
import pickle

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, init_default_scope

from tests.tool_runner import FAST, assert_ok, run


@pytest.fixture
def checkpoint(sar_cls_config, tmp_path):
    """Random weights with learned-looking masks (per-sample, mixed) and a
    head whose scores depend on the features. The "on" bias is 1 above
    "off", so that cells whose pooled features are all zero are not ties
    that float rounding decides differently in torch and the engine."""
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(sar_cls_config).model)
    model.init_weights()
    for name, module in model.named_modules():
        if name.endswith('logits'):
            torch.nn.init.normal_(module.weight, std=1)
            torch.nn.init.zeros_(module.bias)
            module.bias.data.view(-1, 2)[:, 1] = 1
    torch.nn.init.normal_(model.head.fc.weight, std=1)
    path = tmp_path / 'random.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return path


def scores(path):
    with open(path, 'rb') as f:
        return torch.stack(
            [torch.as_tensor(p['pred_score']) for p in pickle.load(f)])


@pytest.mark.slow
def test_backbone_engine_matches_torch(sar_cls_config, checkpoint, tmp_path,
                                       toy_data_root):
    outs = {}
    for engine in (None, 'onnxruntime'):
        outs[engine] = tmp_path / f'{engine}.pkl'
        extra = ['--backbone-engine', engine] if engine else []
        assert_ok(
            run('tools/test.py', sar_cls_config, checkpoint, '--work-dir',
                tmp_path / str(engine), '--out', outs[engine], *extra,
                '--cfg-options', *FAST))
    reference, engine = scores(outs[None]), scores(outs['onnxruntime'])
    assert reference.std(0).max() > 0.01  # the scores depend on the images
    assert torch.equal(engine.argmax(1), reference.argmax(1))
    # Float rounding: the engine sums in another order (1.0e-4 seen here).
    assert (engine - reference).abs().max() < 1e-3


@pytest.mark.slow
def test_backbone_engine_in_bf16(sar_cls_config, checkpoint, tmp_path,
                                 toy_data_root, openvino_runs_bf16):
    """``openvino-bf16`` runs the backbone exported with the update scatter
    in OpenVINO bf16: scores near torch's, not equal (bf16 rounding); a CPU
    without bf16 gets a one-line error."""
    outs = {}
    for engine in (None, 'openvino-bf16'):
        outs[engine] = tmp_path / f'{engine}.pkl'
        extra = ['--backbone-engine', engine] if engine else []
        result = run('tools/test.py', sar_cls_config, checkpoint,
                     '--work-dir', tmp_path / str(engine), '--out',
                     outs[engine], *extra, '--cfg-options', *FAST)
        if engine and not openvino_runs_bf16:
            assert result.returncode != 0
            assert "precision 'bf16' needs" in result.stderr
            return
        assert_ok(result)
    reference, engine = scores(outs[None]), scores(outs['openvino-bf16'])
    assert 1e-5 < (engine - reference).abs().max() < 5e-2
