import torch

from mmsar.analysis import build_model, load_config, preprocess
from tests.tool_runner import TEST_CFGS


def test_build_model_normalises_as_the_runner_does():
    # mmpretrain configs set mean and std in a top-level data_preprocessor,
    # which the Runner (not the model) merges into the model; without it the
    # analysis tools fed raw 0-255 pixels to the network.
    cfg = load_config(str(TEST_CFGS / 'toy_cls_resnet18.py'))
    assert 'data_preprocessor' not in cfg.model
    model = build_model(cfg)
    image = torch.full((3, 8, 8), 200, dtype=torch.uint8)
    sample = dict(inputs=image, data_samples=None)
    inputs = preprocess(model, [sample])['inputs']
    mean = torch.tensor(cfg.data_preprocessor.mean)
    std = torch.tensor(cfg.data_preprocessor.std)
    expected = (200 - mean) / std  # the same in every channel order
    assert torch.allclose(inputs[0, :, 0, 0], expected)
