"""Cluttered digits: real handwritten digits among clutter, with known boxes.

Each image is a ``size`` x ``size`` grey canvas holding one digit of
scikit-learn's bundled handwritten digits (1,797 real 8 x 8 scans, upscaled
``digit_scale`` times) at a random place, among ``num_clutter`` pieces of
clutter: 8 x 8 fragments cut from other digits (``'fragments'``: clutter
with the strokes of a digit, which takes as fine a look as the digit to
tell apart), smooth Gaussian blobs (``'blobs'``: clutter that a coarse
look tells apart) or 8 x 8 squares of uniform pixel noise (``'noise'``:
clutter that a coarse look averages to grey and a fine look only finds
noisy). The label is the digit; the clutter carries no
information about it. The digit's tight box is known, so one can ask
whether SAR's region selection refines the digit rather than the clutter
(see :mod:`mmsar.analysis.mask_quality`).

The same seed always gives the same arrays; :func:`write_cluttered_digits`
saves them as an mmpretrain ``CustomDataset`` tree plus the boxes.
"""
import json
import os
import os.path as osp
from typing import Dict, Tuple

import numpy as np
from PIL import Image

SCAN_SIZE = 8
FRAGMENT_SIZE = 8
CLUTTER_KINDS = ('fragments', 'blobs', 'noise')
# Source digits of the train split; the remaining 397 make the val split, so
# no scan appears in both.
NUM_TRAIN_DIGITS = 1400
BOXES_FILE = 'boxes.json'


def _load_digits(scale: int) -> Tuple[np.ndarray, np.ndarray]:
    """The 1,797 scikit-learn digits as float32 (N, 8 s, 8 s) in [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError('the cluttered digits need scikit-learn, which '
                          'ships the digit scans: pip install scikit-learn'
                          ) from err
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    return images, digits.target.astype(np.int64)


def _blob(rng: np.random.Generator, size: int) -> np.ndarray:
    """A (size, size) Gaussian blob: sigma 2-4 px, peak 0.5-1, anywhere."""
    y, x = rng.uniform(0, size, 2)
    sigma = rng.uniform(2.0, 4.0)
    peak = rng.uniform(0.5, 1.0)
    grid = np.arange(size, dtype=np.float32)
    dist2 = (grid[:, None] - y)**2 + (grid[None, :] - x)**2
    return (peak * np.exp(-dist2 / (2 * sigma**2))).astype(np.float32)


def _paste_max(canvas: np.ndarray, patch: np.ndarray, y: int, x: int):
    h, w = patch.shape
    np.maximum(canvas[y:y + h, x:x + w], patch, out=canvas[y:y + h, x:x + w])


def cluttered_digits(split: str = 'train',
                     size: int = 32,
                     num_clutter: int = 4,
                     copies: int = 1,
                     seed: int = 0,
                     digit_scale: int = 2,
                     clutter: str = 'fragments') -> Dict[str, np.ndarray]:
    """Generate one split in memory.

    Args:
        split (str): ``'train'`` (1,400 source digits) or ``'val'`` (the
            other 397).
        size (int): Canvas side, at least the digit's (8 x digit_scale).
        num_clutter (int): Pieces of clutter per image.
        copies (int): Placements of every source digit.
        seed (int): Seed of the placements and the split.
        digit_scale (int): Upscaling of the 8 x 8 scans, 1 or more.
        clutter (str): ``'fragments'``, ``'blobs'`` or ``'noise'``, see
            above.

    Returns:
        dict: ``images`` uint8 (M, size, size), ``labels`` int64 (M,) and
        ``boxes`` float32 (M, 4), the digit's tight x1y1x2y2 pixel box.
    """
    if split not in ('train', 'val'):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    if not (isinstance(digit_scale, int) and digit_scale >= 1):
        raise ValueError(
            f'digit_scale must be an integer >= 1, got {digit_scale!r}')
    if clutter not in CLUTTER_KINDS:
        raise ValueError(f'clutter must be one of {CLUTTER_KINDS}, got '
                         f'{clutter!r}')
    digit_size = SCAN_SIZE * digit_scale
    if size < max(digit_size, FRAGMENT_SIZE):
        raise ValueError(f'size must be >= {max(digit_size, FRAGMENT_SIZE)} '
                         f'with digit_scale {digit_scale}, got {size}')
    digits, targets = _load_digits(digit_scale)
    order = np.random.default_rng(seed).permutation(len(digits))
    sources = order[:NUM_TRAIN_DIGITS] if split == 'train' else order[
        NUM_TRAIN_DIGITS:]
    rng = np.random.default_rng([seed, 0 if split == 'train' else 1])
    images, labels, boxes = [], [], []
    for _ in range(copies):
        for index in sources:
            canvas = np.zeros((size, size), np.float32)
            for _ in range(num_clutter):
                if clutter == 'blobs':
                    np.maximum(canvas, _blob(rng, size), out=canvas)
                    continue
                if clutter == 'noise':
                    y, x = rng.integers(0, size - FRAGMENT_SIZE + 1, 2)
                    _paste_max(
                        canvas,
                        rng.random((FRAGMENT_SIZE, FRAGMENT_SIZE),
                                   dtype=np.float32), y, x)
                    continue
                other = digits[rng.integers(len(digits))]
                oy, ox = rng.integers(0, digit_size - FRAGMENT_SIZE + 1, 2)
                y, x = rng.integers(0, size - FRAGMENT_SIZE + 1, 2)
                _paste_max(
                    canvas, other[oy:oy + FRAGMENT_SIZE,
                                  ox:ox + FRAGMENT_SIZE], y, x)
            y, x = rng.integers(0, size - digit_size + 1, 2)
            _paste_max(canvas, digits[index], y, x)
            ys, xs = np.nonzero(digits[index] > 0.1)
            boxes.append(
                [x + xs.min(), y + ys.min(), x + xs.max() + 1,
                 y + ys.max() + 1])
            images.append((canvas * 255).round().astype(np.uint8))
            labels.append(targets[index])
    return dict(
        images=np.stack(images),
        labels=np.asarray(labels),
        boxes=np.asarray(boxes, np.float32))


def write_cluttered_digits(out: str, seed: int = 0, **kwargs) -> None:
    """Write both splits as ``{split}/<digit>/<index>.png`` (mmpretrain
    ``CustomDataset``) and ``{split}/boxes.json`` mapping each image path,
    relative to the split folder, to its digit box."""
    for split in ('train', 'val'):
        data = cluttered_digits(split, seed=seed, **kwargs)
        boxes = {}
        for i, (image, label, box) in enumerate(
                zip(data['images'], data['labels'], data['boxes'])):
            rel = f'{label}/{i:06d}.png'
            os.makedirs(osp.join(out, split, str(label)), exist_ok=True)
            Image.fromarray(image).save(osp.join(out, split, rel))
            boxes[rel] = [float(v) for v in box]
        with open(osp.join(out, split, BOXES_FILE), 'w') as f:
            json.dump(boxes, f)
