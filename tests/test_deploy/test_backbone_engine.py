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
