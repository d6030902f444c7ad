import math

import pytest

from mmsar.engine.schedules import (gumbel_temperature, mask_noise_scale,
                                    target_rate)


@pytest.mark.parametrize(
    'progress, expected',
    [
        (0.0, 1.0),
        (0.1, 1.0),
        (0.5 / 3, 0.8),  # first step exactly at step_end / 3
        (0.2, 0.8),
        (1.0 / 3, 0.6),  # second step at 2 * step_end / 3
        (0.4, 0.6),
        (0.4999, 0.6),
        (0.5, 0.4),  # target reached at step_end
        (0.75, 0.4),
        (1.0, 0.4),
    ])
def test_step_schedule(progress, expected):
    assert target_rate(progress, 0.4, 'step', 0.5) == pytest.approx(expected)


def test_step_schedule_hits_boundaries_of_integer_iterations():
    # iter / max_iters lands on a step boundary up to float rounding
    max_iters = 300
    values = [
        target_rate(i / max_iters, 0.1, 'step', 0.7)
        for i in range(max_iters + 1)
    ]
    assert values[69] == pytest.approx(1.0)
    assert values[70] == pytest.approx(0.7)
    assert values[139] == pytest.approx(0.7)
    assert values[140] == pytest.approx(0.4)
    assert values[209] == pytest.approx(0.4)
    assert values[210] == pytest.approx(0.1)
    assert values == sorted(values, reverse=True)


def test_step_schedule_ending_at_the_end_of_training():
    assert target_rate(0.99, 0.4, 'step', 1.0) == pytest.approx(0.6)
    assert target_rate(1.0, 0.4, 'step', 1.0) == pytest.approx(0.4)


def test_linear_schedule():
    assert target_rate(0.0, 0.4, 'linear', 0.5) == pytest.approx(1.0)
    assert target_rate(0.25, 0.4, 'linear', 0.5) == pytest.approx(0.7)
    assert target_rate(0.5, 0.4, 'linear', 0.5) == pytest.approx(0.4)
    assert target_rate(0.8, 0.4, 'linear', 0.5) == pytest.approx(0.4)
    assert target_rate(1.0, 0.4, 'linear', 0.5) == pytest.approx(0.4)


@pytest.mark.parametrize('progress', [0.0, 0.3, 0.5, 1.0])
def test_constant_schedule(progress):
    assert target_rate(progress, 0.3, 'constant') == 0.3


def test_temperature_curve():
    assert gumbel_temperature(0.0) == pytest.approx(1.0)
    assert gumbel_temperature(1.0) == pytest.approx(0.01)
    assert gumbel_temperature(0.5) == pytest.approx(math.sqrt(1.0 * 0.01))
    assert gumbel_temperature(0.5, 2.0, 0.5) == pytest.approx(1.0)
    curve = [gumbel_temperature(i / 100) for i in range(101)]
    assert all(a > b for a, b in zip(curve, curve[1:]))


def test_constant_temperature():
    assert gumbel_temperature(0.7, 0.5, 0.5) == pytest.approx(0.5)


@pytest.mark.parametrize('kwargs, message', [
    (dict(target=1.5), 'target rate must be in [0, 1], got 1.5'),
    (dict(target=-0.1), 'target rate must be in [0, 1], got -0.1'),
    (dict(schedule='cosine'), "unknown target-rate schedule 'cosine'"),
    (dict(step_end=0.0), 'step_end must be in (0, 1], got 0.0'),
    (dict(step_end=1.2), 'step_end must be in (0, 1], got 1.2'),
    (dict(progress=1.1), 'progress must be in [0, 1], got 1.1'),
])
def test_invalid_target_settings(kwargs, message):
    args = dict(progress=0.5, target=0.5, schedule='step', step_end=0.5)
    args.update(kwargs)
    with pytest.raises(ValueError) as error:
        target_rate(**args)
    assert message in str(error.value)


@pytest.mark.parametrize('tau_start, tau_end, message', [
    (0.01, 1.0, 'tau_end (1.0) must not exceed tau_start (0.01)'),
    (1.0, 0.0, 'must be positive'),
    (-1.0, -2.0, 'must be positive'),
])
def test_invalid_temperature(tau_start, tau_end, message):
    with pytest.raises(ValueError) as error:
        gumbel_temperature(0.5, tau_start, tau_end)
    assert message in str(error.value)


def test_mask_noise_scales():
    # Paper: full-scale noise whatever tau; tempered: the temperature.
    assert mask_noise_scale('gumbel', tau=0.05) == 1.0
    assert mask_noise_scale('tempered', tau=0.05) == 0.05


def test_invalid_mask_sampling():
    with pytest.raises(ValueError) as error:
        mask_noise_scale('soft', tau=0.1)
    assert "unknown mask sampling 'soft'; allowed: gumbel, tempered" in str(
        error.value)
