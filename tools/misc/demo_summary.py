"""Print the summary of a `make demo` run from the files it wrote."""
import argparse
import glob
import json
import os.path as osp

from mmengine.config import Config

import mmsar  # noqa: F401  (quiets upstream warnings of Config.fromfile)


def latest_json(pattern: str) -> dict:
    """The newest JSON file matching ``pattern``, loaded."""
    paths = sorted(glob.glob(pattern))
    if not paths:
        raise SystemExit(f'error: nothing matches {pattern}; did the demo '
                         'step that writes it fail?')
    with open(paths[-1]) as f:
        return json.load(f)


def target_rate(cfg: Config) -> float:
    hooks = [h for h in cfg.get('custom_hooks', []) if h.type == 'SARLossHook']
    return hooks[0].target_rate if hooks else float('nan')


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('work_dir')
    args = parser.parse_args()

    metrics = latest_json(osp.join(args.work_dir, 'test', '*', '*.json'))
    flops = latest_json(osp.join(args.work_dir, 'flops', 'flops.json'))
    bench = latest_json(osp.join(args.work_dir, 'benchmark',
                                 'benchmark.json'))['records'][0]
    rate, dense = flops['activation_rate'], flops['dense']
    gmacs = flops['backbone_gmacs']
    # CocoMetric reports no mAP when no box passes the score threshold
    bbox_map = metrics.get('coco/bbox_mAP')
    lines = [
        'COCO bbox mAP (toy val): ' +
        (f'{bbox_map:.3f}' if bbox_map is not None else
         'none (no detections above the score threshold)'),
        f"mean activation rate: {rate['mean']:.3f} "
        f'(target {target_rate(Config.fromfile(args.config))}, per image '
        f"{rate['min']:.2f}-{rate['max']:.2f})",
        f"backbone GMACs per image: {gmacs['mean']:.4f} mean "
        f"vs {dense['gmacs']:.4f} for the dense {dense['name']} "
        f"({gmacs['mean'] / dense['gmacs']:.2f}x)",
        f"backbone CPU latency, {bench['threads']} thread, "
        f"{bench['shape'][0]}x{bench['shape'][1]}, rate {bench['rate']}: "
        f"{bench['sar_ms']:.1f} ms vs {bench['dense_ms']:.1f} ms "
        f"(ratio vs optimised dense {bench['ratio_vs_dense']:.2f}, "
        f"vs stock dense {bench['ratio_vs_stock']:.2f})",
        f'histogram: {args.work_dir}/flops/flops_hist.png',
        f'refined-patch overlays: {args.work_dir}/masks/',
    ]
    print('\n'.join(['', '=== mmsar demo summary ==='] + lines))


if __name__ == '__main__':
    main()
