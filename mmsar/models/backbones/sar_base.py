"""The SAR backbone interface shared by every SAR backbone."""
from typing import List, Optional

from torch.nn.modules.batchnorm import _BatchNorm

from ...utils.args import invalid_argument
from ..layers.gated_residual import check_mask_gradient
from ..layers.region_selection import RegionSelection
from ..layers.sar_module import SARModule
from ..utils.mask_record import MaskRecord


class SARBackboneMixin:
    """``mask_records``, the temperature, the mask gradient and forced
    activation rates of a backbone made of :class:`SARModule`\\ s (see
    :mod:`mmsar.models.utils.sar_backbone`), and ``train`` with
    ``frozen_stages`` and ``norm_eval`` (the backbone provides
    ``_freeze_stages`` and ``norm_eval``)."""

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    @property
    def sar_modules(self) -> List[SARModule]:
        """The SAR modules, in forward order."""
        return [m for m in self.modules() if isinstance(m, SARModule)]

    @property
    def mask_records(self) -> List[MaskRecord]:
        """Masks of every refine block in the last forward, in order."""
        return [r for m in self.sar_modules for r in m.mask_records]

    @property
    def temperature(self) -> float:
        """Gumbel-softmax temperature of the region-selection modules."""
        selectors = self._selectors()
        return selectors[0].tau if selectors else 1.0

    def set_temperature(self, tau: float, noise_scale: float = 1.0) -> None:
        """Set the Gumbel-softmax temperature of every region selection, and
        the scale of the noise that samples its training masks (paper: 1;
        see :func:`~mmsar.engine.schedules.mask_noise_scale`)."""
        for selector in self._selectors():
            selector.tau = tau
            selector.noise_scale = noise_scale

    def set_mask_gradient(self, kind: str) -> None:
        """Choose the task gradient of the masks of every refine block:
        ``'masked'`` (the paper's: that of the masked forward) or
        ``'unmasked'`` (each cell's gate gets the gradient of the residual
        on the unmasked input); see :mod:`mmsar.models.layers.gated_residual`.
        """
        check_mask_gradient(kind)
        for module in self.sar_modules:
            for block in module.refine_blocks:
                block.mask_gradient = kind

    def force_activation_rate(self, rate: Optional[float]) -> None:
        """Make every mask turn on ``round(rate * K * K)`` fixed cells per
        group (for benchmarks and FLOPs of random-init models); ``None``
        restores the learned selection."""
        if rate is not None and not 0 <= rate <= 1:
            raise invalid_argument('rate', rate, 'expected a value in [0, 1]')
        for selector in self._selectors():
            selector.forced_rate = rate

    def _selectors(self) -> List[RegionSelection]:
        return [m for m in self.modules() if isinstance(m, RegionSelection)]
