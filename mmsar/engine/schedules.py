"""Training-progress schedules of SAR: target activation rate, Gumbel
temperature (paper, Sec. III-C and Appendix B) and the scale of the noise
that samples the training masks.

Every schedule is a pure function of the training progress
``p = iter / max_iters`` in [0, 1], so epoch- and iteration-based training,
and a resumed run, all follow the same curve.
"""
import math

from ..utils.args import check_choice

TARGET_SCHEDULES = ('step', 'constant', 'linear')
MASK_SAMPLINGS = ('gumbel', 'tempered')

# Tolerance when comparing the progress with a step boundary, so that
# ``iter / max_iters`` landing a rounding error below ``k * step_end / 3``
# already counts as having reached step k.
_BOUNDARY_EPS = 1e-9


def _check_unit(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f'{name} must be in [0, 1], got {value}')


def check_target_schedule(schedule: str, target: float,
                          step_end: float) -> None:
    """Raise ValueError unless the target-rate settings are valid."""
    check_choice('target-rate schedule', schedule, TARGET_SCHEDULES)
    _check_unit('target rate', target)
    if not 0.0 < step_end <= 1.0:
        raise ValueError(f'step_end must be in (0, 1], got {step_end}')


def check_loss_weight(loss_weight: float) -> None:
    """Raise ValueError unless the weight of a loss is a finite number >= 0."""
    if not (isinstance(loss_weight, (int, float))
            and math.isfinite(loss_weight) and loss_weight >= 0):
        raise ValueError('loss_weight must be a finite number >= 0, got '
                         f'{loss_weight!r}')


def check_temperature(tau_start: float, tau_end: float) -> None:
    """Raise ValueError unless ``0 < tau_end <= tau_start``."""
    if tau_start <= 0 or tau_end <= 0:
        raise ValueError('Gumbel temperatures must be positive, got '
                         f'tau_start={tau_start}, tau_end={tau_end}')
    if tau_end > tau_start:
        raise ValueError(f'tau_end ({tau_end}) must not exceed tau_start '
                         f'({tau_start}): the temperature only decays')


def target_rate(progress: float,
                target: float,
                schedule: str = 'step',
                step_end: float = 0.5) -> float:
    """Target activation rate t at a point of training.

    With ``e = step_end`` and ``d = 1 - target``:

    - ``'step'`` (paper, Appendix B): t = 1 for p in [0, e/3),
      1 - d/3 for p in [e/3, 2e/3), 1 - 2d/3 for p in [2e/3, e) and
      ``target`` for p in [e, 1].
    - ``'linear'``: t = 1 - d * p / e for p < e, then ``target``.
    - ``'constant'``: t = ``target`` throughout.

    Args:
        progress (float): Training progress p in [0, 1].
        target (float): Final target rate in [0, 1].
        schedule (str): ``'step'``, ``'linear'`` or ``'constant'``.
        step_end (float): Fraction of training, in (0, 1], at which the
            target rate is reached. Ignored by ``'constant'``.

    Returns:
        float: The target rate at ``progress``.
    """
    check_target_schedule(schedule, target, step_end)
    _check_unit('progress', progress)
    if schedule == 'constant':
        return target
    if schedule == 'linear':
        return 1.0 - (1.0 - target) * min(progress / step_end, 1.0)
    num_steps = 3
    steps_done = min(
        math.floor(progress * num_steps / step_end + _BOUNDARY_EPS), num_steps)
    if steps_done == num_steps:
        return target
    return 1.0 - (1.0 - target) * steps_done / num_steps


def gumbel_temperature(progress: float,
                       tau_start: float = 1.0,
                       tau_end: float = 0.01) -> float:
    """Gumbel-softmax temperature, decaying exponentially over training.

    tau(p) = tau_start * (tau_end / tau_start) ** p, so tau(0) = tau_start,
    tau(1) = tau_end and tau(1/2) = sqrt(tau_start * tau_end).

    Args:
        progress (float): Training progress p in [0, 1].
        tau_start (float): Temperature at the start of training.
        tau_end (float): Temperature at the end of training.

    Returns:
        float: The temperature at ``progress``.
    """
    check_temperature(tau_start, tau_end)
    _check_unit('progress', progress)
    return tau_start * (tau_end / tau_start)**progress


def check_mask_sampling(sampling: str) -> None:
    """Raise ValueError unless ``sampling`` is a known mask sampling."""
    check_choice('mask sampling', sampling, MASK_SAMPLINGS)


def mask_noise_scale(sampling: str, tau: float) -> float:
    """Scale of the Gumbel noise that samples the training masks.

    A mask is sampled "on" with probability sigmoid(gap / scale), gap being
    its on-off logit gap (:func:`~mmsar.models.layers.gumbel_hard_mask`):

    - ``'gumbel'`` (paper): 1 throughout; the training masks stay random
      and the eval masks (the argmax) may select more or fewer cells.
    - ``'tempered'``: ``tau``, so the training masks tend to the eval masks
      as tau decays.

    Args:
        sampling (str): ``'gumbel'`` or ``'tempered'``.
        tau (float): The current Gumbel temperature.

    Returns:
        float: The noise scale.
    """
    check_mask_sampling(sampling)
    return tau if sampling == 'tempered' else 1.0
