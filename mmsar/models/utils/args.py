"""Errors for bad constructor arguments, in one wording."""


def invalid_argument(name: str, value, allowed: str) -> ValueError:
    """``ValueError('Invalid name=value: allowed.')``, to raise."""
    return ValueError(f'Invalid {name}={value!r}: {allowed}.')
