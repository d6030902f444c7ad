"""Latency of a SAR backbone (patch-sparse) vs the dense ResNet it replaces,
in torch and in the CPU inference engines.

Example:
    python tools/analysis/benchmark.py benchmarks/configs/sar-r50_g2s2a2b1.py \
--rate 0.5 --threads 1 2 --backends torch onnxruntime openvino
"""
import argparse
import os
import sys
import tempfile

# Read by torch once, at its first allocation: its CPU tensors of 2 MB and
# more then sit on transparent huge pages. Every fresh large intermediate
# otherwise page-faults 4 KB at a time (a 66 MB map: ~40 ms here, vs ~15 ms
# on huge pages). The same for every torch model of the run.
if '--no-malloc-tuning' not in sys.argv:
    os.environ.setdefault('THP_MEM_ALLOC_ENABLE', '1')

import torch  # noqa: E402

from mmsar.analysis.benchmark import (  # noqa: E402
    BACKENDS, DENSE, ISOLATIONS, STOCK, benchmark, build_backbones,
    calibrate_mask_rate, check_backends, format_profiles, is_exact,
    keep_freed_memory, profile_layer_types, profile_onnxruntime_ops,
    write_results)
from mmsar.analysis.model_inputs import AnalysisInputError  # noqa: E402
from mmsar.deploy.engines import EngineError  # noqa: E402
from mmsar.deploy.export import export_onnx  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config with a SAR model.backbone')
    parser.add_argument('--checkpoint', help='model or backbone weights')
    parser.add_argument(
        '--rate',
        type=float,
        nargs='+',
        default=[0, 0.25, 0.5, 0.75, 1],
        help='activation rates the learned masks are calibrated to')
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument(
        '--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--backends',
        nargs='+',
        default=['torch'],
        help=f'where SAR and the dense ResNet run, some of {BACKENDS} '
        '(openvino-bf16: OpenVINO in bf16, not exact)')
    parser.add_argument('--runs', type=int, default=30, help='timed rounds')
    parser.add_argument(
        '--isolation',
        default='interleaved',
        choices=ISOLATIONS,
        help='interleaved: every model in this process, run by run; '
        'processes (the cross-check): each model alone in a process of its '
        'own, the processes taking turns in three rounds (CPU)')
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument(
        '--profile',
        action='store_true',
        help='also time each layer type in torch and each operator type in '
        'onnxruntime (CPU, first thread setting, rate nearest 0.5)')
    parser.add_argument(
        '--no-malloc-tuning',
        action='store_true',
        help='keep glibc returning freed memory to the OS and torch\'s '
        'tensors on 4 KB pages (page faults on large intermediates, for '
        'every model)')
    parser.add_argument('--out-dir', default='work_dirs/benchmark')
    return parser.parse_args()


def profile(backbones: dict, args) -> dict:
    """Tables of times per layer type (torch) and per operator type
    (onnxruntime)."""
    torch.set_num_threads(args.threads[0])
    rate = min(args.rate, key=lambda r: abs(r - 0.5))
    x = torch.randn(args.batch, 3, *args.shape)
    sparse = backbones['sar']
    calibrate_mask_rate(sparse, x, rate)
    sparse.switch_to_sparse()
    tables = {
        'torch, per layer type': {
            f'SAR sparse @{rate:g}': profile_layer_types(sparse, x),
            DENSE: profile_layer_types(backbones[DENSE], x)
        }
    }
    if 'onnxruntime' in args.backends:
        ops = tables['onnxruntime, per operator type'] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name, model in ((f'SAR @{rate:g}', sparse),
                                ('dense', backbones[STOCK])):
                path = os.path.join(tmp, 'model.onnx')
                export_onnx(model, x, path)
                ops[name] = profile_onnxruntime_ops(path, x, args.threads[0])
    return tables


def main():
    args = parse_args()
    if not all(0 <= r <= 1 for r in args.rate):
        raise SystemExit('--rate values must lie in [0, 1]')
    if not args.no_malloc_tuning and not keep_freed_memory():
        print('warning: could not tune glibc malloc')
    try:
        check_backends(args.backends)
        backbones = build_backbones(args.config, args.checkpoint)
        records = benchmark(backbones, args.rate, args.threads, args.shape,
                            args.batch, args.device, args.runs, args.warmup,
                            args.backends, args.isolation)
    except (AnalysisInputError, EngineError) as error:
        raise SystemExit(f'error: {error}')
    for r in records:
        times = ', '.join(f'{k} {ms:.2f} ms' for k, ms in r['ms'].items())
        print(f"[threads={r['threads']} rate={r['rate']:.2f} "
              f"input={r['batch']}x3x{r['shape'][0]}x{r['shape'][1]} "
              f"{r['device']}, {r['isolation']}] {times}")
        if 'ratio_vs_dense' in r:
            print(f"ratio vs optimised dense: {r['ratio_vs_dense']:.3f}")
        print(f"ratio vs stock dense: {r['ratio_vs_stock']:.3f}")
        print(f"ratio vs best dense engine: {r['ratio_vs_best_dense']:.3f} "
              f"(SAR in {r['sar_backend']} vs {r['best_dense']})")
        if not all(map(is_exact, args.backends)):
            print('ratio vs best dense engine, f32 only: '
                  f"{r['ratio_f32_vs_best_f32_dense']:.3f} "
                  f"(SAR in {r['f32_sar_backend']} vs {r['f32_best_dense']})")
    tables = None
    if args.profile and args.device == 'cpu':
        tables = profile(backbones, args)
        print(format_profiles(tables))
    os.makedirs(args.out_dir, exist_ok=True)
    paths = write_results(records, args.out_dir, tables)
    print('wrote ' + ', '.join(paths.values()))


if __name__ == '__main__':
    main()
