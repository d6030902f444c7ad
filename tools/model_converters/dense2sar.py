"""Convert a dense ResNet checkpoint into weights for a SAR-ResNet model.

Reads a ResNet checkpoint in torchvision, timm or mmpretrain key layout
(also mmdet / mmseg model checkpoints: their backbone and, where they fit,
the other modules), maps it onto the SAR backbone of CONFIG (see
mmsar/models/utils/dense_to_sar.py for what goes where) and writes a
checkpoint for ``load_from`` or ``init_cfg=dict(type='Pretrained',
checkpoint=DST, prefix='backbone.')``. Prints what was copied, sliced and
left new, and stores the same report under ``meta['dense2sar']``.

Example:
    python tools/model_converters/dense2sar.py resnet50-0676ba61.pth \\
        work_dirs/sar-r50-g2s2a2_from-dense.pth \\
        --config configs/sar_resnet/sar-r50-g2s2a2-t0.5_4xb64-200e_in1k.py

Bad input (unknown layout, another architecture or depth, a config whose
widths cannot take the weights, an unreadable file) ends with a one-line
``error: ...`` and exit code 2; nothing is written then.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile

import torch

import mmsar  # noqa: F401  (registers SARResNet, allowlists checkpoints)
from mmsar.analysis import AnalysisInputError, load_config
from mmsar.models.utils.dense_to_sar import (ConversionError,
                                             convert_dense_to_sar,
                                             format_report,
                                             load_dense_checkpoint)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Convert a dense ResNet checkpoint for a SAR-ResNet')
    parser.add_argument('src', help='dense ResNet checkpoint')
    parser.add_argument('dst', help='where to write the SAR checkpoint')
    parser.add_argument('--config',
                        required=True,
                        help='config whose model has the SAR '
                        'backbone (and head) to fill')
    return parser.parse_args()


def save_atomically(checkpoint: dict, path: str) -> None:
    """Write through a temporary file, so that DST is complete or absent."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=folder, suffix='.tmp')
    os.close(handle)
    try:
        torch.save(checkpoint, tmp)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def main():
    args = parse_args()
    try:
        source = load_dense_checkpoint(args.src)
        cfg = load_config(args.config)
        from mmengine.registry import MODELS
        model = MODELS.build(cfg.model)
        state, report = convert_dense_to_sar(model, source)
    except (ConversionError, AnalysisInputError) as error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)
    print(format_report(report))
    meta = dict(dense2sar=dict(source=args.src, config=args.config, **report))
    save_atomically(dict(meta=meta, state_dict=state), args.dst)
    print(f'wrote {args.dst}')


if __name__ == '__main__':
    main()
