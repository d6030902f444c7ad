"""Errors for bad arguments, in one wording each (models, hooks and the
deployment path alike)."""
from typing import Sequence


def invalid_argument(name: str, value, allowed: str) -> ValueError:
    """``ValueError('Invalid name=value: allowed.')``, to raise."""
    return ValueError(f'Invalid {name}={value!r}: {allowed}.')


def check_choice(what: str, value, allowed: Sequence[str]) -> None:
    """Raise ``ValueError('unknown what 'value'; allowed: a, b')`` unless
    ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f'unknown {what} {value!r}; allowed: '
                         f'{", ".join(allowed)}')
