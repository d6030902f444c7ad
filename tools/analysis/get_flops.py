"""Per-image backbone MACs of a SAR model over its validation set.

Counts multiply-accumulates (MACs, what OpenMMLab calls FLOPs) of the
backbone from the masks each image selects (see mmsar/analysis/flops.py for
the rules), next to the dense ResNet it replaces, and writes a JSON report
and a histogram of per-image activation rates and MACs (Fig. 5 of the
paper).

Examples:
    python tools/analysis/get_flops.py CONFIG CHECKPOINT --num-images 100
    python tools/analysis/get_flops.py CONFIG --rate 0.5 --shape 224 224
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmsar.analysis import (PARTS, AnalysisInputError, build_model,
                            build_val_dataset, count_at_rate, count_images,
                            dense_counterpart, dense_macs_per_image,
                            find_sar_backbone, load_config, summarize,
                            val_inputs)
from mmsar.visualization import plot_complexity_histogram

STATISTICS = ('mean', 'median', 'min', 'max')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Per-image backbone MACs of a SAR model')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint',
                        nargs='?',
                        help='checkpoint (default: random init)')
    parser.add_argument('--num-images',
                        type=int,
                        default=100,
                        help='validation images to count (default: 100)')
    parser.add_argument(
        '--rate',
        type=float,
        help='force every mask to this activation rate and count one '
        'random image of --shape instead of the validation set')
    parser.add_argument('--shape',
                        type=int,
                        nargs=2,
                        default=[224, 224],
                        metavar=('H', 'W'),
                        help='input size in --rate mode (default: 224 224)')
    parser.add_argument('--out-dir',
                        help='where to write flops.json and flops_hist.png '
                        '(default: work_dirs/get_flops/CONFIG_NAME)')
    args = parser.parse_args()
    if args.rate is not None and not 0 <= args.rate <= 1:
        parser.error(f'--rate must be in [0, 1], got {args.rate}')
    if args.num_images < 1:
        parser.error('--num-images must be positive')
    return args


def count(args, cfg, model, backbone):
    """Per-image complexity of the validation images, or of one random
    image at the forced rate."""
    if args.rate is not None:
        return count_at_rate(backbone, args.rate, tuple(args.shape))
    dataset = build_val_dataset(cfg)
    return count_images(backbone, val_inputs(model, dataset, args.num_images))


def dense_name(backbone) -> str:
    """``ResNet-50``, ``ResNeXt-50``, ``MobileNetV2 x0.75``..."""
    name = type(backbone).__name__
    if hasattr(backbone, 'depth'):
        return f'{name}-{backbone.depth}'
    if hasattr(backbone, 'widen_factor'):
        return f'{name} x{backbone.widen_factor}'
    return name


def make_report(args, result, dense) -> dict:
    """JSON-ready figures: summaries in GMACs and per-image values."""
    gmacs = (result.macs / 1e9).tolist()
    report = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        forced_rate=args.rate,
        num_images=len(gmacs),
        params_m=result.params / 1e6,
        backbone_gmacs=summarize(result.macs / 1e9),
        parts_gmacs={p: result.parts[p].mean().item() / 1e9
                     for p in PARTS},
        activation_rate=summarize(result.rates),
        per_image=[
            dict(gmacs=m, activation_rate=r,
                 input_shape=list(s)) for m, r, s in zip(
                     gmacs, result.rates.tolist(), result.input_shapes)
        ])
    if dense is not None:
        backbone, dense_result = dense
        report['dense'] = dict(
            name=dense_name(backbone),
            params_m=sum(p.numel() for p in backbone.parameters()) / 1e6,
            gmacs=dense_result.mean().item() / 1e9)
    return report


def print_report(report: dict) -> None:
    dense = report.get('dense')
    params = f'params: {report["params_m"]:.3f} M'
    if dense:
        params += f' ({dense["name"]}: {dense["params_m"]:.3f} M)'
    print(params)
    where = (f'rate {report["forced_rate"]}' if report['forced_rate']
             is not None else f'{report["num_images"]} images')
    for stat in STATISTICS:
        print(f'backbone GMACs: {report["backbone_gmacs"][stat]:.4f} '
              f'({stat}, {where})')
    if dense:
        print(f'backbone GMACs: {dense["gmacs"]:.4f} ({dense["name"]})')
    rates = report['activation_rate']
    print('activation rate: ' + ', '.join(f'{s} {rates[s]:.3f}'
                                          for s in STATISTICS))
    print('mean GMACs per part: ' +
          ', '.join(f'{p} {v:.4f}' for p, v in report['parts_gmacs'].items()))


def write_outputs(report: dict, result, out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    json_file = osp.join(out_dir, 'flops.json')
    with open(json_file, 'w') as f:
        json.dump(report, f, indent=2)
    png_file = osp.join(out_dir, 'flops_hist.png')
    dense = report.get('dense')
    plot_complexity_histogram(
        result.rates.numpy(), (result.macs / 1e9).numpy(),
        png_file,
        dense_gmacs=dense['gmacs'] if dense else None,
        title=osp.splitext(osp.basename(report['config']))[0])
    print(f'wrote {json_file} and {png_file}')


def main():
    args = parse_args()
    cfg = load_config(args.config)
    model = build_model(cfg, args.checkpoint)
    backbone = find_sar_backbone(model, args.config)
    result = count(args, cfg, model, backbone)
    dense_backbone = dense_counterpart(backbone)
    dense = None
    if dense_backbone is not None:
        dense = (dense_backbone,
                 dense_macs_per_image(dense_backbone, result.input_shapes))
    report = make_report(args, result, dense)
    print_report(report)
    config_name = osp.splitext(osp.basename(args.config))[0]
    write_outputs(
        report, result, args.out_dir
        or osp.join('work_dirs', 'get_flops', config_name))


if __name__ == '__main__':
    try:
        main()
    except AnalysisInputError as error:
        sys.exit(f'error: {error}')
