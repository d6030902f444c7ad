"""Draw the patches that a SAR model refines on its input images.

For every image, one row per chosen refine block: the image, then one panel
per channel group where the selected cells are bright and the others dimmed
(Figs. 6 and 7 of the paper). Writes OUT_DIR/<image name>.png.

Example:
    python tools/analysis/visualize_masks.py CONFIG CHECKPOINT a.jpg b.jpg \
        --blocks stage0.block0 stage1.block2 --groups 0 --out-dir vis
"""
import argparse
import os
import os.path as osp
import sys

import mmcv
import torch
from mmengine.visualization import Visualizer

from mmsar.analysis import (AnalysisInputError, build_model, check_images,
                            find_sar_backbone, image_pipeline, load_config,
                            preprocess)
from mmsar.visualization import draw_mask_overlays, select_records


def parse_args():
    parser = argparse.ArgumentParser(
        description='Overlay the refined patches of a SAR model on images')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('images', nargs='+', help='image files')
    parser.add_argument(
        '--blocks',
        nargs='+',
        help='refine blocks, e.g. stage0.block1 (default: the first block '
        'of every stage)')
    parser.add_argument('--groups',
                        type=int,
                        nargs='+',
                        help='channel groups to draw (default: all)')
    parser.add_argument('--out-dir',
                        default='work_dirs/mask_vis',
                        help='output folder')
    return parser.parse_args()


def display_image(sample: dict):
    """The pipeline's image (C, H, W) BGR uint8 as (H, W, 3) RGB."""
    image = sample['inputs'].permute(1, 2, 0).numpy()
    return image[..., ::-1].copy() if image.shape[2] == 3 else image


def overlay(model, backbone, pipeline, visualizer, path, args):
    """The overlay figure of one image file, RGB (H, W, 3)."""
    sample = pipeline(dict(img_path=path))
    data = preprocess(model, [sample])
    with torch.no_grad():
        backbone(data['inputs'])
    try:
        records = select_records(backbone.mask_records, args.blocks)
        return draw_mask_overlays(visualizer, display_image(sample), records,
                                  0, tuple(data['inputs'].shape[-2:]),
                                  args.groups)
    except ValueError as error:
        raise AnalysisInputError(str(error)) from error


def main():
    args = parse_args()
    check_images(args.images)
    cfg = load_config(args.config)
    model = build_model(cfg, args.checkpoint)
    backbone = find_sar_backbone(model, args.config)
    pipeline = image_pipeline(cfg)
    visualizer = Visualizer.get_instance('mmsar_visualize_masks')
    os.makedirs(args.out_dir, exist_ok=True)
    for path in args.images:
        figure = overlay(model, backbone, pipeline, visualizer, path, args)
        name = osp.splitext(osp.basename(path))[0]
        out_file = osp.join(args.out_dir, f'{name}.png')
        mmcv.imwrite(figure[..., ::-1], out_file)
        print(f'wrote {out_file}')


if __name__ == '__main__':
    try:
        main()
    except AnalysisInputError as error:
        sys.exit(f'error: {error}')
