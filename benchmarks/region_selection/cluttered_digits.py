"""Train SAR-ResNet20 (or its dense twin) on cluttered digits and report
accuracy, training and eval activation rates and the per-stage mask lift.

A plain PyTorch loop over in-memory data with mmsar's public API (the
SARLossHook's loss, schedules and estimators), so that one run takes
minutes on a CPU. Every run prints one line per epoch and a final JSON line.

Examples:
    python benchmarks/region_selection/cluttered_digits.py --target 0.5
    python benchmarks/region_selection/cluttered_digits.py --dense
    python benchmarks/region_selection/cluttered_digits.py --target 0.5 \
        --rate-estimator gumbel --mask-sampling gumbel \
        --mask-gradient masked                          # paper's settings
    python benchmarks/region_selection/cluttered_digits.py --target 0.5 \
        --clutter blobs --digit-scale 1 --overlay-dir work_dirs/overlays
"""
import argparse
import json
import math
import os
import os.path as osp
import time

import numpy as np

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.visualization import Visualizer
from PIL import Image
from torchvision.models.resnet import BasicBlock

from mmsar.analysis.mask_quality import (MaskQuality, boxes_to_objects,
                                         recording_on_probs)
from mmsar.datasets.cluttered_digits import CLUTTER_KINDS, cluttered_digits
from mmsar.engine.hooks.sar_loss_hook import (RATE_ESTIMATORS, loss_rates,
                                              refine_loss)
from mmsar.engine.schedules import (MASK_SAMPLINGS, gumbel_temperature,
                                    mask_noise_scale, target_rate)
from mmsar.models import SARResNetCifar
from mmsar.models.layers.gated_residual import MASK_GRADIENTS
from mmsar.models.layers.sar_module import MASK_MODES
from mmsar.visualization.mask_overlay import (draw_mask_overlays,
                                              select_records)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--target', type=float, default=0.5)
    parser.add_argument('--epochs', type=int, default=12)
    parser.add_argument('--loss-weight', type=float, default=1.0)
    parser.add_argument('--rate-estimator', choices=RATE_ESTIMATORS,
                        default='threshold')
    parser.add_argument('--mask-sampling', choices=MASK_SAMPLINGS,
                        default='tempered')
    parser.add_argument('--mask-gradient', choices=MASK_GRADIENTS,
                        default='unmasked')
    parser.add_argument('--mask-mode', choices=MASK_MODES, default='learned')
    parser.add_argument('--groups', type=int, default=2,
                        help='mask groups G of the SAR-ResNet20')
    parser.add_argument('--dense', action='store_true',
                        help='train the dense ResNet-20 instead')
    parser.add_argument('--clutter', choices=CLUTTER_KINDS,
                        default='fragments')
    parser.add_argument('--num-clutter', type=int, default=4,
                        help='pieces of clutter per image')
    parser.add_argument('--digit-scale', type=int, default=2,
                        help='upscaling of the 8x8 digit scans')
    parser.add_argument('--copies', type=int, default=2,
                        help='placements of every training digit')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--save',
                        help='save the trained backbone and head here')
    parser.add_argument('--overlay-dir',
                        help='write mask overlays of the first validation '
                        'images here after training')
    return parser.parse_args()


def load(split, args, copies=1):
    data = cluttered_digits(split, copies=copies, clutter=args.clutter,
                            num_clutter=args.num_clutter,
                            digit_scale=args.digit_scale)
    images = torch.from_numpy(data['images']).float().div(255)
    images = ((images - 0.2) / 0.35)[:, None].expand(-1, 3, -1, -1)
    return (images.contiguous(), torch.from_numpy(data['labels']),
            torch.from_numpy(data['boxes']))


class DenseResNet20(nn.Module):
    """The CIFAR ResNet-20 that SAR-ResNet20 replaces (16/32/64 widths)."""

    def __init__(self):
        super().__init__()
        layers = [
            nn.Conv2d(3, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True)
        ]
        for c_in, c_out, stride in ((16, 16, 1), (16, 32, 2), (32, 64, 2)):
            down = None if stride == 1 else nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                nn.BatchNorm2d(c_out))
            layers += [BasicBlock(c_in, c_out, stride, down)]
            layers += [BasicBlock(c_out, c_out) for _ in range(2)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return (self.layers(x), )


def evaluate(backbone, head, images, labels, boxes, sar):
    backbone.eval()
    correct, quality = 0, MaskQuality()
    with recording_on_probs(backbone) as probs, torch.no_grad():
        for start in range(0, len(images), 256):
            probs.clear()
            batch = slice(start, start + 256)
            feats = backbone(images[batch])[-1]
            correct += (head(feats.mean((2, 3))).argmax(1) ==
                        labels[batch]).sum().item()
            if sar:
                objects = boxes_to_objects(
                    [box[None] for box in boxes[batch]], images.shape[-2:])
                quality.update(backbone.mask_records, objects, probs)
    return correct / len(images), quality.summary() if sar else {}


def save_overlays(backbone, images, out_dir, count=8):
    """One PNG per image: the first refine block of every SAR stage, one
    column per mask."""
    os.makedirs(out_dir, exist_ok=True)
    backbone.eval()
    with torch.no_grad():
        backbone(images[:count])
    records = select_records(backbone.mask_records, None)
    grey = (images[:count, 0] * 0.35 + 0.2).clamp(0, 1).mul(255).byte()
    visualizer = Visualizer()
    for i, pixels in enumerate(grey.numpy()):
        rgb = np.repeat(pixels[..., None], 3, axis=2)
        figure = draw_mask_overlays(visualizer, rgb, records, i,
                                    tuple(images.shape[-2:]))
        Image.fromarray(figure).save(osp.join(out_dir, f'{i}.png'))


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images, labels, _ = load('train', args, args.copies)
    val = load('val', args)
    if args.dense:
        backbone = DenseResNet20()
    else:
        backbone = SARResNetCifar(
            depth=20, mask_groups=args.groups, mask_mode=args.mask_mode)
        backbone.init_weights()
        backbone.set_mask_gradient(args.mask_gradient)
    learned = not args.dense and args.mask_mode == 'learned'
    head = nn.Linear(64, 10)
    params = list(backbone.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9,
                                weight_decay=5e-4)
    iters = math.ceil(len(images) / args.batch_size)
    total = args.epochs * iters
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total)
    step, start = 0, time.time()
    for epoch in range(args.epochs):
        backbone.train()
        order, rates = torch.randperm(len(images)), []
        for k in range(iters):
            batch = order[k * args.batch_size:(k + 1) * args.batch_size]
            progress = step / total
            if learned:
                tau = gumbel_temperature(progress)
                backbone.set_temperature(
                    tau, mask_noise_scale(args.mask_sampling, tau))
            feats = backbone(images[batch])[-1]
            loss = F.cross_entropy(head(feats.mean((2, 3))), labels[batch])
            if not args.dense:
                records = backbone.mask_records
                rates.append(
                    torch.stack([r.rates for r in records]).mean().item())
            if learned:
                loss = loss + args.loss_weight * refine_loss(
                    loss_rates(records, args.rate_estimator),
                    target_rate(progress, args.target))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
        accuracy, quality = evaluate(backbone, head, *val, not args.dense)
        train_rate = sum(rates) / len(rates) if rates else 1.0
        line = (f'epoch {epoch + 1}: acc {accuracy:.4f} train rate '
                f'{train_rate:.3f}')
        if quality:
            line += f' eval rate {quality["all"]["eval_rate"]:.3f} lift ' + \
                ' '.join(f'{k} {v["lift"]:.2f}'
                         for k, v in quality.items() if k != 'all')
        print(f'{line} ({time.time() - start:.0f} s)', flush=True)
    if learned and args.overlay_dir:
        save_overlays(backbone, val[0], args.overlay_dir)
    if args.save:
        torch.save(dict(backbone=backbone.state_dict(),
                        head=head.state_dict(), args=vars(args)), args.save)
    print(json.dumps(dict(args=vars(args), accuracy=accuracy,
                          final_epoch_train_rate=train_rate,
                          mask_quality=quality)))


if __name__ == '__main__':
    main()
