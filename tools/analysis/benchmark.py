"""Latency of a SAR backbone (patch-sparse) vs the dense ResNet it replaces.

Example:
    python tools/analysis/benchmark.py configs/imagenet/\
sar-r50_g2s2a2-t0.5_imagenet.py --rate 0 0.25 0.5 0.75 1 --threads 1 2
"""
import argparse
import os

import torch

from mmsar.analysis.benchmark import (DENSE, benchmark, build_backbones,
                                      format_profile, keep_freed_memory,
                                      profile_layer_types, write_results)
from mmsar.analysis.model_inputs import AnalysisInputError


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config with a SAR model.backbone')
    parser.add_argument('--checkpoint', help='model or backbone weights')
    parser.add_argument(
        '--rate',
        type=float,
        nargs='+',
        default=[0, 0.25, 0.5, 0.75, 1],
        help='activation rates forced on every mask')
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument(
        '--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--runs', type=int, default=30, help='timed rounds')
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument(
        '--profile',
        action='store_true',
        help='also time each layer type (CPU, first thread setting, rate '
        'nearest 0.5)')
    parser.add_argument(
        '--no-malloc-tuning',
        action='store_true',
        help='keep glibc returning freed memory to the OS (page faults on '
        'large intermediates, for every model)')
    parser.add_argument('--out-dir', default='work_dirs/benchmark')
    return parser.parse_args()


def main():
    args = parse_args()
    if not all(0 <= r <= 1 for r in args.rate):
        raise SystemExit('--rate values must lie in [0, 1]')
    if not args.no_malloc_tuning and not keep_freed_memory():
        print('warning: could not tune glibc malloc')
    try:
        backbones = build_backbones(args.config, args.checkpoint)
    except AnalysisInputError as error:
        raise SystemExit(f'error: {error}')
    records = benchmark(backbones, args.rate, args.threads, args.shape,
                        args.batch, args.device, args.runs, args.warmup)
    for r in records:
        print(f"[threads={r['threads']} rate={r['rate']:.2f} "
              f"input={r['batch']}x3x{r['shape'][0]}x{r['shape'][1]} "
              f"{r['device']}] SAR {r['sar_ms']:.2f} ms, optimised dense "
              f"{r['dense_ms']:.2f} ms, stock dense {r['stock_ms']:.2f} ms")
        print(f"ratio vs optimised dense: {r['ratio_vs_dense']:.3f}")
        print(f"ratio vs stock dense: {r['ratio_vs_stock']:.3f}")
    profile = None
    if args.profile and args.device == 'cpu':
        torch.set_num_threads(args.threads[0])
        rate = min(args.rate, key=lambda r: abs(r - 0.5))
        sparse = backbones['sar']
        sparse.switch_to_sparse()
        sparse.force_activation_rate(rate)
        x = torch.randn(args.batch, 3, *args.shape)
        profile = {
            f'SAR sparse @{rate:g}': profile_layer_types(sparse, x),
            DENSE: profile_layer_types(backbones[DENSE], x)
        }
        print(format_profile(profile))
    os.makedirs(args.out_dir, exist_ok=True)
    paths = write_results(records, args.out_dir, profile)
    print('wrote ' + ', '.join(paths.values()))


if __name__ == '__main__':
    main()
