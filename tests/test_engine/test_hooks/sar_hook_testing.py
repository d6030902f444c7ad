"""Small stand-ins for a SAR model, shared by the SARLossHook tests."""
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch import nn
from torch.utils.data import Dataset

from mmsar.models.utils.mask_record import MaskRecord


class FakeSARBackbone(nn.Module):
    """Exposes the SAR backbone interface the hook relies on.

    Two stages of two refine blocks each; every block draws hard masks
    (N, 2, 2, 2) from learnable logits shifted by the input, with
    straight-through gradients. The masks do not influence the features,
    so only ``loss_sar`` reaches ``mask_logits``.
    """

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.mask_logits = nn.Parameter(
            torch.linspace(-1, 1, 4 * 8).view(4, 2, 2, 2))
        self.mask_records = []
        self.temperature = None
        self.noise_scale = None

    def set_temperature(self, tau, noise_scale=1.0):
        self.temperature = tau
        self.noise_scale = noise_scale

    def forward(self, x):
        feat = self.conv(x)
        shift = x.mean(dim=(1, 2, 3)).view(-1, 1, 1, 1)
        self.mask_records = []
        for i, logits in enumerate(self.mask_logits):
            soft = torch.sigmoid(logits + shift)
            masks = (soft > 0.5).float() + soft - soft.detach()
            self.mask_records.append(
                MaskRecord(i // 2, i % 2, masks, tuple(feat.shape[-2:])))
        return feat


class FakeSARModel(BaseModel):
    """A regressor built on :class:`FakeSARBackbone`."""

    def __init__(self):
        super().__init__()
        self.backbone = FakeSARBackbone()
        self.head = nn.Linear(4, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.head(self.backbone(inputs).mean(dim=(2, 3)))
        if mode == 'loss':
            return {'loss_task': out.pow(2).mean()}
        return out


class RandomImages(Dataset):

    def __init__(self, length=8):
        generator = torch.Generator().manual_seed(0)
        self.images = torch.randn(length, 3, 8, 8, generator=generator)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return dict(inputs=self.images[index])


class RecordSAR(Hook):
    """Records, for every iteration, what the SAR hook did."""

    priority = 'LOWEST'

    def __init__(self):
        self.tau_at_start = None
        self.iters = {}

    def before_train(self, runner):
        self.tau_at_start = runner.model.backbone.temperature

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.iters[runner.iter] = dict(
            {
                key: value.item()
                for key, value in outputs.items()
            },
            backbone_tau=runner.model.backbone.temperature,
            rates=torch.stack([
                record.rates for record in runner.model.backbone.mask_records
            ]).detach())
