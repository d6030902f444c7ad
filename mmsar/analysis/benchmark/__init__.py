"""Latency benchmark of SAR backbones against dense ResNets, in torch and
in the CPU inference engines (see ``tools/analysis/benchmark.py``)."""
from ...deploy.malloc import keep_freed_memory
from .models import (DENSE, STOCK, build_backbones, build_sar_backbone,
                     calibrate_mask_rate, dense_resnet)
from .processes import time_in_processes
from .profiling import layer_type, profile_layer_types, profile_onnxruntime_ops
from .report import (format_profile, format_profiles, format_table,
                     write_results)
from .timing import (BACKENDS, ISOLATIONS, benchmark, check_backends,
                     is_exact, time_interleaved)

__all__ = [
    'keep_freed_memory', 'DENSE', 'STOCK', 'build_backbones',
    'build_sar_backbone', 'dense_resnet', 'calibrate_mask_rate', 'layer_type',
    'profile_layer_types', 'profile_onnxruntime_ops', 'format_profile',
    'format_profiles', 'format_table', 'write_results', 'BACKENDS',
    'ISOLATIONS', 'benchmark', 'check_backends', 'is_exact',
    'time_interleaved', 'time_in_processes'
]
