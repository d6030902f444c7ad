"""Does a SAR model refine the objects? Per-stage mask lift and rates.

Runs the model's backbone in eval mode over validation images that have
boxes (mmdet), segmentation masks (mmseg) or a ``--boxes`` JSON file
(classification: image path suffix -> x1y1x2y2), and prints per SAR stage
P(cell on | object), P(cell on | background), their ratio (the lift), and
the eval (argmax) rate against the expected rate of the sampled training
masks. Writes the figures to OUT_DIR/mask_quality.json.

Example:
    python tools/analysis/mask_quality.py CONFIG CHECKPOINT \
        --boxes data/toy/clutter/val/boxes.json --num-images 400
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmsar.analysis import (AnalysisInputError, build_model,
                            build_val_dataset, find_sar_backbone,
                            load_config, preprocess)
from mmsar.analysis.mask_quality import measure_mask_quality


def parse_args():
    parser = argparse.ArgumentParser(
        description='Per-stage lift of SAR masks over object regions')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?',
                        help='checkpoint (default: random init)')
    parser.add_argument('--boxes',
                        help='JSON file mapping image path suffixes to one '
                        'x1y1x2y2 box (for datasets without boxes)')
    parser.add_argument('--num-images', type=int, default=200,
                        help='validation images to use (default: 200)')
    parser.add_argument('--out-dir',
                        help='default: work_dirs/mask_quality/CONFIG_NAME')
    args = parser.parse_args()
    if args.num_images < 1:
        parser.error(f'--num-images must be positive, got {args.num_images}')
    return args


def samples(model, dataset, num_images):
    for index in range(min(num_images, len(dataset))):
        yield preprocess(model, [dataset[index]])


def main():
    args = parse_args()
    boxes = {}
    try:
        if args.boxes:
            if not osp.isfile(args.boxes):
                raise AnalysisInputError(f'boxes file not found: {args.boxes}')
            with open(args.boxes) as f:
                boxes = json.load(f)
        cfg = load_config(args.config)
        model = build_model(cfg, args.checkpoint)
        backbone = find_sar_backbone(model, args.config)
        dataset = build_val_dataset(cfg)
        report = measure_mask_quality(model, backbone,
                                      samples(model, dataset,
                                              args.num_images),
                                      boxes).summary()
    except (AnalysisInputError, KeyError) as error:
        sys.exit(f'error: {error}')
    for name, row in report.items():
        print(name + ': ' + ', '.join(f'{k} {v:.3f}' for k, v in row.items()))
    out_dir = args.out_dir or osp.join(
        'work_dirs/mask_quality',
        osp.splitext(osp.basename(args.config))[0])
    os.makedirs(out_dir, exist_ok=True)
    out = osp.join(out_dir, 'mask_quality.json')
    with open(out, 'w') as f:
        json.dump(dict(config=args.config, checkpoint=args.checkpoint,
                       num_images=min(args.num_images, len(dataset)),
                       stages=report), f, indent=2)
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
