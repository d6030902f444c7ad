"""Helpers of the sparse-path and export tests."""
import torch
import torch.nn as nn


def randomize_norms(model: nn.Module, seed: int = 0) -> None:
    """Non-trivial BN statistics: a BN shift leaking into unselected
    positions, or a missing BN, would show."""
    generator = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = torch.rand(c, generator=generator) + 0.5
            m.bias.data = torch.randn(c, generator=generator) * 0.2
            m.running_mean = torch.randn(c, generator=generator) * 0.2
            m.running_var = torch.rand(c, generator=generator) + 0.5


def assert_close(out, ref):
    scale = ref.abs().max().clamp(min=1)
    assert (out - ref).abs().max() <= 1e-4 * scale


def sar_model(cls, **kwargs):
    torch.manual_seed(0)
    model = cls(**kwargs)
    randomize_norms(model)
    return model.eval()
