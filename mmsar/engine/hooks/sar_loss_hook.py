"""Hook that trains the region-selection modules of SAR backbones."""
import logging
from typing import List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import Tensor, nn

from ...models.layers.gated_residual import check_mask_gradient
from ...models.utils import find_sar_backbones
from ...models.utils.mask_record import MaskRecord
from ...utils.args import check_choice
from ..schedules import (check_loss_weight, check_mask_sampling,
                         check_target_schedule, check_temperature,
                         gumbel_temperature, mask_noise_scale, target_rate)

LOSS_MODES = ('batch', 'sample')
RATE_ESTIMATORS = ('gumbel', 'threshold')
# d sigmoid / dx at x = 0: the largest slope of P(on) in the logit gap.
LOGISTIC_SLOPE = 0.25


def _check_loss_mode(mode: str) -> None:
    check_choice('SAR loss mode', mode, LOSS_MODES)


def loss_rates(records: List[MaskRecord],
               estimator: str = 'gumbel') -> Tensor:
    """Rates r_{b,n} (N, B) of N refine blocks as the rate loss sees them.

    Both estimators have the values of the hard rates (Eq. 7); they differ
    in where the gradient of the loss goes:

    - ``'gumbel'`` (paper): through the straight-through Gumbel-softmax
      masks into every logit. In expectation d r / d (logit gap) is the
      logistic density at the gap, whatever tau: 0.045 at the initial gap
      of 3, so with Eq. 10's 1/N and the 1/(G K^2) of Eq. 7 the loss barely
      moves masks that are nearly all on in a short schedule. Its push
      through the logit weights is also largest where the pooled features
      are strongest, i.e. it turns off the busiest cells first.
    - ``'threshold'``: only into the on-off bias gap of each mask
      (:attr:`MaskRecord.on_logit_gap`), each gap of block n receiving
      d L / d gap = 2 (r_n - t) / 4, the loss gradient of block n's own
      term at the logistic's largest slope 1/4. The rate loss then sets
      how many cells are on, and the task loss alone (through the
      straight-through masks) sets which.

    Records of fixed masks (no gap) keep their plain rates.
    """
    check_choice('SAR rate estimator', estimator, RATE_ESTIMATORS)
    rows = []
    for record in records:
        gap = record.on_logit_gap
        if estimator == 'gumbel' or gap is None:
            rows.append(record.rates)
            continue
        # x N undoes Eq. 10's mean over blocks for the gap's own block.
        shift = len(records) * LOGISTIC_SLOPE * (gap - gap.detach()).sum()
        rows.append(record.rates.detach() + shift)
    return torch.stack(rows)


def refine_loss(rates: Tensor, target: float, mode: str = 'batch') -> Tensor:
    """Activation-rate loss of SAR, unweighted.

    Args:
        rates (Tensor): Activation rates r_{b,n} of shape (N, B): N refine
            blocks, B samples.
        target (float): Target rate t.
        mode (str): ``'batch'`` (Eq. 10):
            (1/N) sum_n ((1/B) sum_b r_{b,n} - t)^2, or ``'sample'``
            (Eq. 11): (1/N) sum_n (1/B) sum_b (r_{b,n} - t)^2.

    Returns:
        Tensor: Scalar loss.
    """
    _check_loss_mode(mode)
    if mode == 'batch':
        return (rates.mean(dim=1) - target).pow(2).mean()
    return (rates - target).pow(2).mean()


@HOOKS.register_module()
class SARLossHook(Hook):
    """Adds the SAR activation-rate loss and schedules the SAR training.

    Works with any mmdet detector, mmseg segmentor or mmpretrain classifier
    whose backbone is a SAR backbone (see :func:`find_sar_backbones`):

    - In every ``mode='loss'`` forward of the model, adds
      ``loss_sar = loss_weight * L`` to the returned loss dict, with L of
      Eq. 10 (``mode='batch'``) or Eq. 11 (``mode='sample'``) over the
      refine blocks of all SAR backbones. The term is added inside the
      model's forward (a forward hook), so DistributedDataParallel sees it.
    - Sets the target rate t, the Gumbel temperature tau and the scale of
      the mask-sampling noise before every training iteration from the
      progress p = runner.iter / runner.max_iters (see
      :mod:`~mmsar.engine.schedules`). They depend only on p, so epoch- and
      iteration-based loops and resumed runs follow the same curves.
    - Logs, next to the losses: ``sar_rate`` (activation rate averaged over
      blocks and samples), ``sar_rate_stage{i}`` (the same per SAR stage),
      ``sar_target`` and ``sar_tau``.

    The schedules are evaluated at the start of each iteration, so the last
    one uses p = (max_iters - 1) / max_iters. Validation and testing do not
    use the loss; SAR backbones select regions deterministically in eval
    mode, so the temperature does not affect them. mmpretrain heads return
    their loss under the key ``loss``, which hides mmengine's total in the
    log; the optimised total still includes ``loss_sar``.

    Example:
        >>> custom_hooks = [
        ...     dict(type='SARLossHook', target_rate=0.5, loss_weight=1.0)
        ... ]

    Args:
        target_rate (float): Final target activation rate t, in [0, 1].
        loss_weight (float): Factor lambda of the loss, >= 0. The paper uses
            1.0 on CIFAR and 0.5 on ImageNet. Defaults to 1.0.
        mode (str): ``'batch'`` (Eq. 10, paper's) or ``'sample'`` (Eq. 11).
            Defaults to 'batch'.
        schedule (str): Target-rate schedule: ``'step'`` (paper's: 1.0, then
            three equal steps down to ``target_rate``, the last at
            ``step_end``), ``'linear'`` or ``'constant'``. Defaults to 'step'.
        step_end (float): Fraction of training, in (0, 1], at which the
            target rate reaches ``target_rate``. Defaults to 0.5.
        tau_start (float): Gumbel temperature at the start. Defaults to 1.0.
        tau_end (float): Gumbel temperature at the end, in
            (0, tau_start]. Defaults to 0.01.
        rate_estimator (str): Where the rate loss's gradient goes:
            ``'gumbel'`` (paper: through the straight-through masks into
            every logit) or ``'threshold'`` (into each mask's on-off bias
            gap only); see :func:`loss_rates`. Defaults to 'threshold'.
        mask_sampling (str): Noise of the training masks: ``'gumbel'``
            (paper: scale 1) or ``'tempered'`` (scale tau, so the sampled
            masks tend to the eval masks as tau decays); see
            :func:`~mmsar.engine.schedules.mask_noise_scale`.
            Defaults to 'tempered'.
        mask_gradient (str): Task gradient of the masks, set on the SAR
            backbones before training: ``'masked'`` (paper: that of the
            masked forward, which gives an off cell the gradient of a
            residual computed from zeros) or ``'unmasked'`` (each cell's
            gate gets the gradient of the residual on the unmasked input);
            see :mod:`mmsar.models.layers.gated_residual`.
            Defaults to 'unmasked'.

    The three defaults are not in the paper: with the paper's settings
    (``rate_estimator='gumbel', mask_sampling='gumbel',
    mask_gradient='masked'``) and its loss weight the rate barely moves in
    a short schedule, the eval masks drift from the sampled ones, and the
    cells that are off when the target falls tend to stay off whatever
    they hold (README, "Does SAR look at the right places?").
    """

    # No ordering constraint with the standard hooks: this hook only sets
    # the schedules before the iteration and acts inside the forward pass.
    priority = 'NORMAL'

    def __init__(self,
                 target_rate: float,
                 loss_weight: float = 1.0,
                 mode: str = 'batch',
                 schedule: str = 'step',
                 step_end: float = 0.5,
                 tau_start: float = 1.0,
                 tau_end: float = 0.01,
                 rate_estimator: str = 'threshold',
                 mask_sampling: str = 'tempered',
                 mask_gradient: str = 'unmasked') -> None:
        check_target_schedule(schedule, target_rate, step_end)
        check_temperature(tau_start, tau_end)
        _check_loss_mode(mode)
        check_choice('SAR rate estimator', rate_estimator, RATE_ESTIMATORS)
        check_mask_sampling(mask_sampling)
        check_mask_gradient(mask_gradient)
        check_loss_weight(loss_weight)
        self.target_rate = target_rate
        self.loss_weight = loss_weight
        self.mode = mode
        self.rate_estimator = rate_estimator
        self.mask_sampling = mask_sampling
        self.mask_gradient = mask_gradient
        self.schedule = schedule
        self.step_end = step_end
        self.tau_start = tau_start
        self.tau_end = tau_end
        self._backbones: List[nn.Module] = []
        self._handle: Optional[torch.utils.hooks.RemovableHandle] = None
        self._target = 1.0
        self._tau = tau_start

    def before_train(self, runner) -> None:
        """Find the SAR backbones, hook the model and set the schedules."""
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        self._backbones = find_sar_backbones(model)
        if not self._backbones:
            raise RuntimeError(
                f'SARLossHook needs a SAR backbone (e.g. SARResNet), but '
                f'the model {type(model).__name__} has none. Use a SAR '
                'backbone in the model config or remove SARLossHook from '
                'custom_hooks.')
        self._warn_if_duplicated(runner)
        for backbone in self._backbones:
            if hasattr(backbone, 'set_mask_gradient'):
                backbone.set_mask_gradient(self.mask_gradient)
        if self._handle is not None:
            self._handle.remove()
        self._handle = model.register_forward_hook(self._add_sar_terms,
                                                   with_kwargs=True)
        self._apply_schedules(runner)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        """Set target rate and temperature for this iteration."""
        self._apply_schedules(runner)

    def after_train(self, runner) -> None:
        """Unhook the model."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _apply_schedules(self, runner) -> None:
        progress = min(runner.iter / max(runner.max_iters, 1), 1.0)
        self._target = target_rate(progress, self.target_rate, self.schedule,
                                   self.step_end)
        self._tau = gumbel_temperature(progress, self.tau_start, self.tau_end)
        noise = mask_noise_scale(self.mask_sampling, self._tau)
        for backbone in self._backbones:
            backbone.set_temperature(self._tau, noise)

    def _warn_if_duplicated(self, runner) -> None:
        mine = [hook for hook in runner.hooks if isinstance(hook, SARLossHook)]
        if len(mine) > 1 and mine[0] is self:
            print_log(
                f'{len(mine)} SARLossHook instances are registered; each one '
                'writes loss_sar and sets the Gumbel temperature, so the last '
                'one overrides the others. Keep a single SARLossHook in '
                'custom_hooks.',
                logger='current',
                level=logging.WARNING)

    def _add_sar_terms(self, module: nn.Module, args, kwargs, output):
        """Forward hook: add ``loss_sar`` and the rate logs in loss mode."""
        if kwargs.get('mode') != 'loss':
            return None
        if not isinstance(output, dict):
            raise TypeError(
                f'SARLossHook expects {type(module).__name__} to return a '
                f'dict of losses in loss mode, got {type(output).__name__}')
        records = [
            record for backbone in self._backbones
            for record in backbone.mask_records
        ]
        if not records:
            raise RuntimeError(
                'SARLossHook found no mask records after the forward pass: '
                'the SAR backbone has no refine block or was not run.')
        output['loss_sar'] = self.loss_weight * refine_loss(
            loss_rates(records, self.rate_estimator).float(), self._target,
            self.mode)
        rates = torch.stack(
            [record.rates.detach().float() for record in records])
        output['sar_rate'] = rates.mean()
        for stage in sorted({record.stage for record in records}):
            rows = [i for i, rec in enumerate(records) if rec.stage == stage]
            output[f'sar_rate_stage{stage}'] = rates[rows].mean()
        output['sar_target'] = rates.new_tensor(self._target)
        output['sar_tau'] = rates.new_tensor(self._tau)
        return output
