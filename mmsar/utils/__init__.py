from .checkpoint import (checkpoint_safe_globals,
                         register_checkpoint_safe_globals)
from .setup_env import (build_runner, filter_upstream_warnings,
                        finish_distributed, setup_cpu_distributed)

__all__ = [
    'checkpoint_safe_globals', 'register_checkpoint_safe_globals',
    'build_runner', 'filter_upstream_warnings', 'finish_distributed',
    'setup_cpu_distributed'
]
