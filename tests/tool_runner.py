"""Run the repository's tools as a user does, for end-to-end tests.

Imported as ``tests.tool_runner`` (``tests`` is a package).
"""
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
# Small configs of stock models on the toy data, for the tool tests.
TEST_CFGS = REPO_ROOT / 'tests' / 'data' / 'configs'
# --cfg-options: no dataloader worker processes, log every iteration
FAST = [
    f'{split}_dataloader.{key}' for split in ('train', 'val', 'test')
    for key in ('num_workers=0', 'persistent_workers=False')
] + ['default_hooks.logger.interval=1']


def run(*args, env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Run ``args`` (a tool and its arguments) from the repository root,
    with ``env`` added to the environment."""
    args = tuple(map(str, args))
    if args[0].endswith('.py'):
        args = (sys.executable, ) + args
    return subprocess.run(args,
                          cwd=REPO_ROOT,
                          capture_output=True,
                          text=True,
                          env={
                              **os.environ,
                              **(env or {})
                          })


def assert_ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments:
                          str) -> None:
    """The tool failed with a last stderr line holding every fragment and
    printed no traceback."""
    assert proc.returncode != 0
    assert 'Traceback' not in proc.stderr, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    for fragment in fragments:
        assert fragment in last, proc.stderr
