"""Latency of a SAR backbone against the dense ResNet it replaces.

Three backbones run in one process, interleaved run by run so that load
changes hit all of them alike: the SAR backbone after
:meth:`~mmsar.models.SARResNet.switch_to_sparse`, the dense ResNet of the
same depth after the same deployment treatment
(:func:`mmsar.deploy.deploy_backbone`, "optimised dense") and the stock
eager mmpretrain ResNet ("stock dense"). Masks are forced to chosen
activation rates (:meth:`~mmsar.models.SARResNet.force_activation_rate`).
"""
import copy
import ctypes
import ctypes.util
import json
import os.path as osp
import statistics
import time
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.registry import MODELS
from mmengine.runner import load_checkpoint

from ..deploy import deploy_backbone
from .flops import dense_counterpart
from .model_inputs import AnalysisInputError, load_config

DENSE, STOCK = 'optimised dense', 'stock dense'


def build_backbones(config: str,
                    checkpoint: Optional[str] = None) -> Dict[str, nn.Module]:
    """The config's SAR backbone and its dense counterparts (eval mode).

    Args:
        config (str): Any mmengine config whose ``model.backbone`` is a SAR
            backbone (mmpretrain, mmdet or mmseg model).
        checkpoint (str, optional): Weights of the whole model or of the
            backbone alone; a ``backbone.`` prefix is stripped. The dense
            ResNets keep their random initialisation: their latency does
            not depend on the weights.

    Returns:
        dict: ``'sar'`` (masked, as built), ``DENSE`` (deployed) and
        ``STOCK`` (eager) backbones.
    """
    cfg = load_config(config)
    if 'backbone' not in cfg.get('model', {}):
        raise AnalysisInputError(f'{config} has no model.backbone')
    sar = MODELS.build(cfg.model.backbone)
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise AnalysisInputError(f'checkpoint not found: {checkpoint}')
        load_checkpoint(sar,
                        checkpoint,
                        map_location='cpu',
                        logger='silent',
                        revise_keys=[(r'^backbone\.', '')])
    stock = dense_counterpart(sar)
    if stock is None:
        raise AnalysisInputError(
            f'{type(sar).__name__} has no dense ResNet counterpart')
    sar.eval()
    stock.eval()
    return {
        'sar': sar,
        DENSE: deploy_backbone(copy.deepcopy(stock)),
        STOCK: stock
    }


def keep_freed_memory() -> bool:
    """Stop glibc from returning freed memory to the OS (and from mmapping
    allocations below 32 MiB), so that large intermediates reuse resident
    pages instead of page-faulting on every forward.

    A process-wide setting that helps every model in it alike; on this
    machine's VM a fresh 3 MB tensor costs ~15 ms of page faults.
    Returns False where glibc is unavailable.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c'))
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(
            libc.mallopt(m_trim_threshold, 2**30)
            and libc.mallopt(m_mmap_threshold, 32 * 2**20))
    except (OSError, AttributeError, TypeError):
        return False


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_interleaved(runners: Dict[str, callable], runs: int, warmup: int,
                     device: torch.device) -> Dict[str, list]:
    """Run every runner once per round, ``warmup + runs`` rounds.

    Returns:
        dict: The ``runs`` timed latencies (ms) of each runner.
    """
    times = defaultdict(list)
    for round_index in range(warmup + runs):
        for name, run in runners.items():
            _synchronize(device)
            start = time.perf_counter()
            run()
            _synchronize(device)
            if round_index >= warmup:
                times[name].append((time.perf_counter() - start) * 1e3)
    return dict(times)


def benchmark(backbones: Dict[str, nn.Module],
              rates: Sequence[float],
              threads: Sequence[int],
              shape: Sequence[int] = (224, 224),
              batch: int = 1,
              device: str = 'cpu',
              runs: int = 30,
              warmup: int = 5) -> List[dict]:
    """Median latencies and ratios of the sparse SAR backbone.

    Args:
        backbones (dict): From :func:`build_backbones`.
        rates (Sequence[float]): Activation rates to force, each in [0, 1].
        threads (Sequence[int]): ``torch.set_num_threads`` settings.
        shape (Sequence[int]): Input (H, W).
        batch (int): Batch size.
        device (str): ``'cpu'`` or ``'cuda'``.
        runs (int): Timed rounds; warm-up rounds come first.

    Returns:
        list[dict]: One record per (threads, rate) with ``sar_ms``,
        ``dense_ms``, ``stock_ms`` medians and the two ratios.
    """
    device = torch.device(device)
    sparse = copy.deepcopy(backbones['sar']).to(device)
    sparse.switch_to_sparse()
    dense, stock = backbones[DENSE].to(device), backbones[STOCK].to(device)
    x = torch.randn(batch, 3, *shape, device=device)

    def sar_at(rate):

        def run():
            sparse.force_activation_rate(rate)
            sparse(x)

        return run

    records = []
    for num_threads in threads:
        torch.set_num_threads(num_threads)
        runners = {STOCK: lambda: stock(x), DENSE: lambda: dense(x)}
        runners.update({f'sar@{rate}': sar_at(rate) for rate in rates})
        with torch.inference_mode():
            times = time_interleaved(runners, runs, warmup, device)
        medians = {k: statistics.median(v) for k, v in times.items()}
        for rate in rates:
            sar_ms = medians[f'sar@{rate}']
            records.append(
                dict(threads=num_threads,
                     rate=rate,
                     shape=list(shape),
                     batch=batch,
                     device=device.type,
                     runs=runs,
                     sar_ms=sar_ms,
                     dense_ms=medians[DENSE],
                     stock_ms=medians[STOCK],
                     ratio_vs_dense=sar_ms / medians[DENSE],
                     ratio_vs_stock=sar_ms / medians[STOCK],
                     images_per_s=batch * 1e3 / sar_ms,
                     dense_images_per_s=batch * 1e3 / medians[DENSE]))
    sparse.force_activation_rate(None)
    return records


def layer_type(name: str, module: nn.Module, sar_layers: set) -> str:
    """Category of a submodule of a deployed (sparse or dense) backbone,
    by its qualified ``name``; '' for modules that are not timed alone."""
    parts = name.split('.')
    if parts[0] in ('conv1', 'stem', 'maxpool'):
        return 'stem' if len(parts) == 1 else ''
    if not parts[0].startswith('layer'):
        return ''
    if len(parts) == 2:
        if type(module).__name__ == 'SARModule':
            return 'SAR fusion (gate, align, blend)'
        if parts[0] in sar_layers:
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
    sar_layers = {
        name.split('.')[0]
        for name, m in model.named_modules() if type(m).__name__ == 'SARModule'
    }
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
        kind = layer_type(name, module, sar_layers)
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


def format_table(records: List[dict]) -> str:
    """A markdown table of benchmark records."""
    lines = [
        '| threads | input | batch | rate | SAR sparse (ms) | optimised '
        'dense (ms) | stock dense (ms) | ratio vs optimised | ratio vs '
        'stock |', '|---|---|---|---|---|---|---|---|---|'
    ]
    for r in records:
        lines.append(
            f"| {r['threads']} | {r['shape'][0]}x{r['shape'][1]} | "
            f"{r['batch']} | {r['rate']:.2f} | {r['sar_ms']:.1f} | "
            f"{r['dense_ms']:.1f} | {r['stock_ms']:.1f} | "
            f"{r['ratio_vs_dense']:.3f} | {r['ratio_vs_stock']:.3f} |")
    return '\n'.join(lines)


def plot_ratios(records: List[dict], path: str) -> None:
    """PNG of the latency ratio vs activation rate, one line per thread
    count and baseline."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for threads in sorted({r['threads'] for r in records}):
        rows = sorted((r for r in records if r['threads'] == threads),
                      key=lambda r: r['rate'])
        rates = [r['rate'] for r in rows]
        for key, style, label in (('ratio_vs_dense', '-o', 'optimised'),
                                  ('ratio_vs_stock', '--s', 'stock')):
            ax.plot(rates, [r[key] for r in rows],
                    style,
                    label=f'{threads} thread(s), vs {label} dense')
    ax.axhline(1.0, color='grey', linewidth=0.8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel('activation rate')
    ax.set_ylabel('SAR latency / dense latency')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_results(records: List[dict],
                  out_dir: str,
                  profile: Optional[dict] = None) -> Dict[str, str]:
    """Write ``benchmark.json``, ``benchmark.md`` and ``benchmark.png``."""
    paths = {
        ext: osp.join(out_dir, f'benchmark.{ext}')
        for ext in ('json', 'md', 'png')
    }
    with open(paths['json'], 'w') as f:
        json.dump(dict(records=records, profile=profile), f, indent=2)
    table = format_table(records)
    if profile:
        table += '\n\n' + format_profile(profile)
    with open(paths['md'], 'w') as f:
        f.write(table + '\n')
    plot_ratios(records, paths['png'])
    return paths


def format_profile(profile: Dict[str, Dict[str, float]]) -> str:
    """A markdown table of per-layer-type times of several models."""
    names = list(profile)
    kinds = sorted({k
                    for p in profile.values()
                    for k in p},
                   key=lambda k: -max(p.get(k, 0) for p in profile.values()))
    lines = [
        '| layer type | ' + ' | '.join(f'{n} (ms)' for n in names) + ' |',
        '|---|' + '---|' * len(names)
    ]
    for kind in kinds:
        cells = ' | '.join(f'{profile[n].get(kind, 0):.2f}' for n in names)
        lines.append(f'| {kind} | {cells} |')
    totals = ' | '.join(f'{sum(profile[n].values()):.2f}' for n in names)
    lines.append(f'| total | {totals} |')
    return '\n'.join(lines)
