"""Deterministic toy datasets of coloured shapes for fast CPU experiments.

One root (default ``data/toy``) holds three sets drawn from the same classes
(:data:`TOY_CLASSES`), each readable by a stock OpenMMLab dataset:

- ``coco/``: detection, ``train/``, ``val/`` JPEGs and
  ``annotations/instances_{train,val}.json`` (mmdet ``CocoDataset``).
- ``voc/``: semantic segmentation, ``JPEGImages/``, palette PNGs in
  ``SegmentationClass/`` (0 = background, 1..3 = shapes) and
  ``ImageSets/Segmentation/{train,val}.txt`` (mmseg ``BaseSegDataset``).
- ``cls/``: classification, ``{train,val}/<class>/*.png`` (mmpretrain
  ``CustomDataset``).

``MANIFEST.json`` records the version, seed, counts and a SHA-256 digest of
every set, so missing or corrupt data is detected by :func:`check_toy_data`.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, Iterable, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

TOY_DATA_VERSION = 2
# Sorted, so that the folder order of mmpretrain's CustomDataset matches.
TOY_CLASSES = ('ellipse', 'rectangle', 'triangle')
TOY_PALETTE = [(220, 20, 60), (0, 128, 255), (255, 180, 0)]
TOY_SEG_CLASSES = ('background', ) + TOY_CLASSES
TOY_SEG_PALETTE = [(0, 0, 0)] + TOY_PALETTE
MANIFEST = 'MANIFEST.json'
REGENERATE_CMD = 'python tools/misc/make_toy_data.py'

# name: (train images, val images, image size); ``cls`` is class-balanced.
TOY_SPECS = dict(coco=(400, 100, 128), voc=(200, 50, 128), cls=(480, 120, 64))
SPLITS = ('train', 'val')


class ToyDataError(RuntimeError):
    """Raised when the toy data is missing, outdated or corrupt."""


def _rng(seed: int, *keys: int) -> np.random.Generator:
    """An independent generator per (seed, dataset, split, image)."""
    return np.random.default_rng([seed, *keys])


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random two-colour linear gradient, float32 HxWx3 in [0, 255]."""
    c0, c1 = rng.uniform(0, 255, size=(2, 3))
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    t = (np.cos(angle) * xx + np.sin(angle) * yy)
    t = (t - t.min()) / (t.max() - t.min())
    return (c0 + (c1 - c0) * t[..., None]).astype(np.float32)


def _colour(rng: np.random.Generator, avoid: np.ndarray) -> np.ndarray:
    """A random colour at least 100 (L2, RGB) away from ``avoid``."""
    while True:
        colour = rng.uniform(0, 255, size=3)
        if np.linalg.norm(colour - avoid) > 100:
            return colour


def _polygon(rng: np.random.Generator, label: int,
             box: Sequence[float]) -> List[Tuple[float, float]]:
    """Vertices of a shape of class ``label`` filling ``box`` (x1y1x2y2)."""
    x1, y1, x2, y2 = box
    name = TOY_CLASSES[label]
    if name == 'rectangle':
        return [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
    if name == 'ellipse':
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        rx, ry = (x2 - x1) / 2, (y2 - y1) / 2
        return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))
    # triangle: one side on a random box edge, the apex on the opposite one
    a = rng.uniform(0.2, 0.8)
    tri = [(0, 1), (1, 1), (a, 0)]
    side = rng.integers(4)
    if side >= 2:
        tri = [(1 - v, u) for u, v in tri]  # rotate by 90 degrees
    if side % 2:
        tri = [(1 - u, 1 - v) for u, v in tri]  # rotate by 180 degrees
    return [(x1 + u * (x2 - x1), y1 + v * (y2 - y1)) for u, v in tri]


def _sample_boxes(rng: np.random.Generator, size: int, num: int, min_size: int,
                  max_size: int) -> List[List[float]]:
    """Up to ``num`` boxes with sides in [min_size, max_size] and aspect ratio
    in [0.5, 2] that do not touch each other."""
    boxes = []
    for _ in range(num * 20):
        if len(boxes) == num:
            break
        w = rng.uniform(min_size, max_size)
        h = np.clip(w * 2**rng.uniform(-1, 1), min_size, max_size)
        x1, y1 = rng.uniform(1, size - 1 - w), rng.uniform(1, size - 1 - h)
        box = [x1, y1, x1 + w, y1 + h]
        if all(box[0] > b[2] + 2 or b[0] > box[2] + 2 or box[1] > b[3] +
               2 or b[1] > box[3] + 2 for b in boxes):
            boxes.append(box)
    return boxes


def draw_scene(rng: np.random.Generator, size: int, labels: Sequence[int],
               min_size: int, max_size: int) -> Tuple[np.ndarray, List[dict]]:
    """Draw shapes of ``labels`` on a noisy background.

    Returns:
        tuple: The uint8 RGB image and one dict per drawn shape with ``label``,
        ``bbox`` (tight pixel box, x1y1x2y2), ``area``, ``polygon`` and
        ``mask`` (bool HxW).
    """
    img = _background(rng, size)
    objects = []
    boxes = _sample_boxes(rng, size, len(labels), min_size, max_size)
    for label, box in zip(labels, boxes):
        polygon = _polygon(rng, label, box)
        canvas = Image.new('L', (size, size), 0)
        ImageDraw.Draw(canvas).polygon(polygon, fill=1)
        mask = np.asarray(canvas, dtype=bool)
        img[mask] = _colour(rng, img[mask].mean(axis=0))
        ys, xs = np.nonzero(mask)
        objects.append(
            dict(
                label=int(label),
                bbox=[
                    int(xs.min()),
                    int(ys.min()),
                    int(xs.max()) + 1,
                    int(ys.max()) + 1
                ],
                area=int(mask.sum()),
                polygon=[round(float(c), 2) for p in polygon for c in p],
                mask=mask))
    img += rng.normal(0, rng.uniform(2, 8), size=img.shape)
    return np.clip(img, 0, 255).round().astype(np.uint8), objects


def _scene_labels(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(len(TOY_CLASSES), size=rng.integers(1, 4))


def _make_coco(out: str, seed: int) -> None:
    num_train, num_val, size = TOY_SPECS['coco']
    os.makedirs(osp.join(out, 'annotations'))
    categories = [
        dict(id=i + 1, name=name, supercategory='shape')
        for i, name in enumerate(TOY_CLASSES)
    ]
    for split_id, (split, num) in enumerate(zip(SPLITS, (num_train, num_val))):
        os.makedirs(osp.join(out, split))
        images, annotations = [], []
        for i in range(num):
            rng = _rng(seed, 0, split_id, i)
            img, objects = draw_scene(rng, size, _scene_labels(rng), 20, 64)
            file_name = f'{i:06d}.jpg'
            Image.fromarray(img).save(
                osp.join(out, split, file_name), quality=90)
            images.append(
                dict(id=i + 1, file_name=file_name, width=size, height=size))
            for obj in objects:
                x1, y1, x2, y2 = obj['bbox']
                annotations.append(
                    dict(
                        id=len(annotations) + 1,
                        image_id=i + 1,
                        category_id=obj['label'] + 1,
                        bbox=[x1, y1, x2 - x1, y2 - y1],
                        area=obj['area'],
                        segmentation=[obj['polygon']],
                        iscrowd=0))
        with open(
                osp.join(out, 'annotations', f'instances_{split}.json'),
                'w') as f:
            json.dump(
                dict(
                    images=images,
                    annotations=annotations,
                    categories=categories), f)


def _make_voc(out: str, seed: int) -> None:
    num_train, num_val, size = TOY_SPECS['voc']
    for sub in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        os.makedirs(osp.join(out, sub))
    palette = [c for rgb in TOY_SEG_PALETTE for c in rgb]
    for split_id, (split, num) in enumerate(zip(SPLITS, (num_train, num_val))):
        names = []
        for i in range(num):
            rng = _rng(seed, 1, split_id, i)
            img, objects = draw_scene(rng, size, _scene_labels(rng), 20, 64)
            seg = np.zeros((size, size), dtype=np.uint8)
            for obj in objects:
                seg[obj['mask']] = obj['label'] + 1
            name = f'{split}_{i:06d}'
            Image.fromarray(img).save(
                osp.join(out, 'JPEGImages', f'{name}.jpg'), quality=90)
            seg_img = Image.fromarray(seg, mode='P')
            seg_img.putpalette(palette)
            seg_img.save(osp.join(out, 'SegmentationClass', f'{name}.png'))
            names.append(name)
        with open(
                osp.join(out, 'ImageSets/Segmentation', f'{split}.txt'),
                'w') as f:
            f.write('\n'.join(names) + '\n')


def _make_cls(out: str, seed: int) -> None:
    num_train, num_val, size = TOY_SPECS['cls']
    for split_id, (split, num) in enumerate(zip(SPLITS, (num_train, num_val))):
        num //= len(TOY_CLASSES)
        for label, name in enumerate(TOY_CLASSES):
            os.makedirs(osp.join(out, split, name))
            for i in range(num):
                rng = _rng(seed, 2, split_id, label * num + i)
                img, _ = draw_scene(rng, size, [label], size * 3 // 8,
                                    size * 7 // 8)
                Image.fromarray(img).save(
                    osp.join(out, split, name, f'{i:06d}.png'))


_MAKERS = dict(coco=_make_coco, voc=_make_voc, cls=_make_cls)


def _files(root: str) -> List[str]:
    """Sorted relative paths of all files under ``root``."""
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root)
        for f in fs)


def _digest(root: str, files: Iterable[str]) -> str:
    sha = hashlib.sha256()
    for rel in files:
        sha.update(rel.replace(os.sep, '/').encode() + b'\0')
        with open(osp.join(root, rel), 'rb') as f:
            sha.update(f.read())
    return sha.hexdigest()


def generate_toy_data(root: str = 'data/toy', seed: int = 0) -> Dict:
    """(Re)generate all toy datasets under ``root`` and return the manifest.

    The data is written to a temporary sibling directory which then replaces
    ``root``, so an interrupted run never leaves a half-written root. The same
    seed always gives byte-identical files.
    """
    root = osp.abspath(root)
    parent = osp.dirname(root)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.toy-', dir=parent)
    try:
        manifest = dict(
            version=TOY_DATA_VERSION,
            seed=seed,
            classes=list(TOY_CLASSES),
            datasets={})
        for name, maker in _MAKERS.items():
            out = osp.join(tmp, name)
            maker(out, seed)
            files = _files(out)
            num_train, num_val, size = TOY_SPECS[name]
            manifest['datasets'][name] = dict(
                num_train=num_train,
                num_val=num_val,
                image_size=size,
                num_files=len(files),
                sha256=_digest(out, files))
        with open(osp.join(tmp, MANIFEST), 'w') as f:
            json.dump(manifest, f, indent=2)
        if osp.isdir(root):
            shutil.rmtree(root)
        os.rename(tmp, root)
    finally:
        if osp.isdir(tmp):
            shutil.rmtree(tmp)
    return manifest


def check_toy_data(root: str = 'data/toy') -> Dict:
    """Verify the toy data under ``root`` against its manifest.

    Returns:
        dict: The manifest.

    Raises:
        ToyDataError: If the data is missing, outdated or corrupt; the message
        says how to regenerate it.
    """

    def fail(reason):
        raise ToyDataError(f'toy data in {root} is {reason}; regenerate it '
                           f'with `{REGENERATE_CMD} --out {root}`')

    path = osp.join(root, MANIFEST)
    if not osp.isfile(path):
        fail(f'missing ({path} not found)')
    try:
        with open(path) as f:
            manifest = json.load(f)
        datasets = manifest['datasets']
    except (ValueError, KeyError, TypeError):
        fail(f'corrupt ({path} is not a valid manifest)')
    if manifest.get('version') != TOY_DATA_VERSION:
        fail(f'outdated (version {manifest.get("version")}, expected '
             f'{TOY_DATA_VERSION})')
    for name in _MAKERS:
        info, sub = datasets.get(name, {}), osp.join(root, name)
        files = _files(sub)
        if len(files) != info.get('num_files'):
            fail(f'corrupt ({len(files)} files in {sub}, expected '
                 f'{info.get("num_files")})')
        if _digest(sub, files) != info.get('sha256'):
            fail(f'corrupt (checksum mismatch in {sub})')
    return manifest


def ensure_toy_data(root: str = 'data/toy', seed: int = 0) -> Dict:
    """Return the manifest of valid toy data in ``root``, generating it with
    ``seed`` if it is missing or corrupt (valid data is kept as is)."""
    try:
        return check_toy_data(root)
    except ToyDataError:
        return generate_toy_data(root, seed)


def find_toy_roots(cfg) -> List[str]:
    """Toy data roots that a config's ``data_root`` entries point into.

    A ``data_root`` such as ``data/toy/coco/`` belongs to the root up to its
    last ``toy`` path component (``data/toy``).
    """
    roots = set()

    def visit(node):
        if hasattr(node, 'items'):  # dict, ConfigDict or Config
            for key, value in node.items():
                if key == 'data_root' and isinstance(value, str):
                    parts = osp.normpath(value).split(os.sep)
                    if 'toy' in parts:
                        last = len(parts) - 1 - parts[::-1].index('toy')
                        roots.add(os.sep.join(parts[:last + 1]) or os.sep)
                else:
                    visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    visit(cfg)
    return sorted(roots)
