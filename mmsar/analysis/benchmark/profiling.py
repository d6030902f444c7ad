"""Where the time of a deployed backbone goes: per layer type in torch,
per operator type in ONNX Runtime."""
import json
import os
import statistics
import tempfile
import time
from collections import defaultdict
from typing import Dict

import torch
import torch.nn as nn

from ...deploy.engines import import_engine, onnxruntime_options
from ...models.layers.sar_module import SARModule
from ...models.utils.sar_backbone import fusion_blocks, is_sar_backbone


def layer_type(name: str, module: nn.Module, fusion_names: set) -> str:
    """Category of a submodule of a deployed (sparse or dense) backbone,
    by its qualified ``name``; '' for modules that are not timed alone.
    ``fusion_names`` are the names of the fusion blocks
    (:func:`~mmsar.models.utils.sar_backbone.fusion_blocks`), which may
    open a layer that holds no SAR module."""
    parts = name.split('.')
    if parts[0] in ('conv1', 'stem', 'maxpool'):
        return 'stem' if len(parts) == 1 else ''
    if not parts[0].startswith('layer'):
        return ''
    if len(parts) == 2:
        if isinstance(module, SARModule):
            return 'SAR fusion (gate, align, blend)'
        if name in fusion_names:
            return 'fusion blocks'
        return f'{parts[0]} (plain)'
    kinds = {
        'base_blocks': 'base blocks',
        'selectors': 'region selection',
        'refine_blocks': 'refine blocks (sparse)'
    }
    if len(parts) == 4 and parts[2] in kinds:
        return kinds[parts[2]]
    if len(parts) == 5 and parts[2] == 'refine_blocks' and (parts[4]
                                                            == 'downsample'):
        return 'refine shortcuts (dense 1x1)'
    return ''


def profile_layer_types(model: nn.Module,
                        x: torch.Tensor,
                        runs: int = 10) -> Dict[str, float]:
    """Median exclusive time (ms) per layer type of a deployed backbone,
    measured with forward hooks (CPU, synchronous execution)."""
    fusion_names = (set(fusion_blocks(model))
                    if is_sar_backbone(model) else set())
    stack, totals, handles = [], defaultdict(float), []

    def pre_hook(kind):

        def hook(module, args):
            stack.append([kind, time.perf_counter(), 0.0])

        return hook

    def post_hook(module, args, output):
        kind, start, children = stack.pop()
        elapsed = time.perf_counter() - start
        totals[kind] += elapsed - children
        if stack:
            stack[-1][2] += elapsed

    for name, module in model.named_modules():
        kind = layer_type(name, module, fusion_names)
        if kind:
            handles.append(module.register_forward_pre_hook(pre_hook(kind)))
            handles.append(module.register_forward_hook(post_hook))
    per_run = defaultdict(list)
    try:
        with torch.inference_mode():
            model(x)
            for _ in range(runs):
                totals.clear()
                start = time.perf_counter()
                model(x)
                total = time.perf_counter() - start
                totals['other'] += total - sum(totals.values())
                for kind, seconds in totals.items():
                    per_run[kind].append(seconds * 1e3)
    finally:
        for handle in handles:
            handle.remove()
    return {k: statistics.median(v) for k, v in per_run.items()}


def profile_onnxruntime_ops(path: str,
                            images: torch.Tensor,
                            num_threads: int = 1,
                            runs: int = 10) -> Dict[str, float]:
    """Mean time (ms) per forward spent in each ONNX operator type of an
    exported backbone, from ONNX Runtime's own profiler (kernel time, the
    first of the ``runs`` included)."""
    ort = import_engine('onnxruntime')
    options = onnxruntime_options(num_threads)
    options.enable_profiling = True
    with tempfile.TemporaryDirectory() as tmp:
        options.profile_file_prefix = os.path.join(tmp, 'ort')
        session = ort.InferenceSession(
            path, options, providers=['CPUExecutionProvider'])
        feed = {session.get_inputs()[0].name: images.numpy()}
        for _ in range(runs):
            session.run(None, feed)
        with open(session.end_profiling()) as f:
            events = json.load(f)
    totals = defaultdict(float)
    for event in events:
        op = event.get('args', {}).get('op_name')
        if op and event['name'].endswith('_kernel_time'):
            totals[op] += event['dur'] / 1e3
    return {op: ms / runs for op, ms in totals.items()}
