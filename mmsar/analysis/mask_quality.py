"""Does SAR refine the right places? Mask lift over object regions.

For every SAR stage, the *lift* is P(cell on | the cell overlaps an object)
divided by P(cell on | it does not), over the refine blocks of the stage,
all groups and all images: 1 means the masks ignore where the objects are,
above 1 that they favour them. The *train-vs-eval gap* compares the rate
of the deterministic eval masks with the expected rate of the sampled
training masks (P(on) = sigmoid(on-logit gap) under Gumbel noise) on the
same images.
"""
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Dict, Iterator, List

import torch
from torch import Tensor

from ..models.layers.region_selection import RegionSelection
from ..models.utils.mask_record import MaskRecord
from ..utils.patch_grid import cell_bounds


def object_cells(objects: Tensor, feature_size, grid: int) -> Tensor:
    """Cells of a K x K grid that overlap objects.

    Args:
        objects (Tensor): Object masks (N, H_in, W_in), bool, in the frame
            of the network input.
        feature_size (tuple): (H, W) of the feature map the grid is laid on;
            it covers the input at stride H_in / H.
        grid (int): K.

    Returns:
        Tensor: (N, K, K) bool, True where a cell holds any object pixel.
    """
    in_h, in_w = objects.shape[-2:]
    rows = [(round(a * in_h / feature_size[0]), round(b * in_h /
                                                      feature_size[0]))
            for a, b in cell_bounds(feature_size[0], grid)]
    cols = [(round(a * in_w / feature_size[1]), round(b * in_w /
                                                      feature_size[1]))
            for a, b in cell_bounds(feature_size[1], grid)]
    cells = torch.zeros(objects.shape[0], grid, grid, dtype=torch.bool)
    for i, (r0, r1) in enumerate(rows):
        for j, (c0, c1) in enumerate(cols):
            if r1 > r0 and c1 > c0:
                cells[:, i, j] = objects[:, r0:r1, c0:c1].flatten(1).any(1)
    return cells


def boxes_to_objects(boxes: List[Tensor], size) -> Tensor:
    """Object masks (N, H, W) from per-image x1y1x2y2 boxes (M_i, 4)."""
    objects = torch.zeros(len(boxes), *size, dtype=torch.bool)
    for obj, image_boxes in zip(objects, boxes):
        for x1, y1, x2, y2 in image_boxes.floor().long().tolist():
            obj[max(y1, 0):y2 + 1, max(x1, 0):x2 + 1] = True
    return objects


@dataclass
class MaskQuality:
    """Accumulates per-stage counts of selected cells inside and outside
    objects over batches of images."""

    on_inside: Dict[int, float] = field(default_factory=lambda: defaultdict(
        float))
    inside: Dict[int, float] = field(default_factory=lambda: defaultdict(
        float))
    on_outside: Dict[int, float] = field(default_factory=lambda: defaultdict(
        float))
    outside: Dict[int, float] = field(default_factory=lambda: defaultdict(
        float))
    expected_on: Dict[int, float] = field(default_factory=lambda: defaultdict(
        float))

    def update(self, records: List[MaskRecord], objects: Tensor,
               on_probs: List[Tensor]) -> None:
        """Add one batch.

        Args:
            records (list[MaskRecord]): Eval-mode masks of the batch.
            objects (Tensor): (N, H_in, W_in) bool object masks.
            on_probs (list[Tensor]): Per record, P(on) (N, G, K, K) of the
                sampled training masks; empty for fixed masks, which are
                their own training masks.
        """
        on_probs = on_probs or [record.masks for record in records]
        for record, probs in zip(records, on_probs):
            masks = record.masks.detach().float().cpu()
            cells = object_cells(objects, record.feature_size,
                                 masks.shape[-1])
            cells = cells[:, None].expand_as(masks)
            stage = record.stage
            self.on_inside[stage] += masks[cells].sum().item()
            self.inside[stage] += cells.sum().item()
            self.on_outside[stage] += masks[~cells].sum().item()
            self.outside[stage] += (~cells).sum().item()
            self.expected_on[stage] += probs.float().sum().item()

    def _lift(self, stage: int) -> float:
        """nan when the images have no object or no background cell."""
        if not self.inside[stage] or not self.outside[stage]:
            return float('nan')
        on_out = self.on_outside[stage] / self.outside[stage]
        on_in = self.on_inside[stage] / self.inside[stage]
        return on_in / on_out if on_out > 0 else float('inf')

    def summary(self) -> Dict[str, dict]:
        """Per stage and overall: P(on | object), P(on | background),
        lift (nan where a stage saw no object or no background cell), eval
        rate and expected training rate."""
        out = {}
        for stage in sorted(self.inside):
            on_in = self.on_inside[stage] / max(self.inside[stage], 1)
            on_out = self.on_outside[stage] / max(self.outside[stage], 1)
            cells = self.inside[stage] + self.outside[stage]
            out[f'stage{stage}'] = dict(
                p_on_object=on_in,
                p_on_background=on_out,
                lift=self._lift(stage),
                eval_rate=(self.on_inside[stage] + self.on_outside[stage]) /
                cells,
                train_rate=self.expected_on[stage] / cells)
        cells = sum(self.inside.values()) + sum(self.outside.values())
        eval_rate = (sum(self.on_inside.values()) +
                     sum(self.on_outside.values())) / max(cells, 1)
        train_rate = sum(self.expected_on.values()) / max(cells, 1)
        out['all'] = dict(
            eval_rate=eval_rate,
            train_rate=train_rate,
            train_eval_gap=train_rate - eval_rate)
        return out


def sample_objects(data_sample, size,
                   boxes_by_path: Dict[str, list]) -> Tensor:
    """Object mask (H, W) of one preprocessed sample, in the input frame.

    From, in this order: mmdet ``gt_instances.bboxes``, mmseg
    ``gt_sem_seg`` (every class but 0 and 255), or ``boxes_by_path`` keyed
    by a suffix of the sample's ``img_path`` (classification sets; boxes
    are scaled by the pipeline's ``scale_factor`` if any).

    Raises:
        KeyError: When the sample has none of these.
    """
    if 'gt_instances' in data_sample:
        boxes = data_sample.gt_instances.bboxes
        boxes = getattr(boxes, 'tensor', boxes)
        return boxes_to_objects([boxes.float()], size)[0]
    if 'gt_sem_seg' in data_sample:
        seg = data_sample.gt_sem_seg.data[0]
        objects = torch.zeros(size, dtype=torch.bool)
        h, w = seg.shape
        objects[:h, :w] = (seg != 0) & (seg != 255)
        return objects
    path = data_sample.get('img_path', '')
    key = next((k for k in boxes_by_path if path.endswith(k)), None)
    if key is None:
        raise KeyError(f'no boxes or masks for image {path!r}')
    box = torch.tensor([boxes_by_path[key]], dtype=torch.float32)
    scale = data_sample.get('scale_factor', (1.0, 1.0))
    box *= torch.tensor([scale[0], scale[1], scale[0], scale[1]])
    return boxes_to_objects([box], size)[0]


@contextmanager
def recording_on_probs(backbone) -> Iterator[List[Tensor]]:
    """Within the block, the list holds P(on) (N, G, K, K) of the sampled
    training masks of every region selection of ``backbone``'s last
    forward, in forward order (P(on) = sigmoid(on - off logit)); clear it
    before each forward."""
    probs: List[Tensor] = []

    def keep_prob(module, args, output):
        gap = module.forward_logits(args[0]).diff(dim=-1)[..., 0]
        probs.append(torch.sigmoid(gap))

    handles = [
        m.register_forward_hook(keep_prob) for m in backbone.modules()
        if isinstance(m, RegionSelection)
    ]
    try:
        yield probs
    finally:
        for handle in handles:
            handle.remove()


def measure_mask_quality(model, backbone, samples,
                         boxes_by_path: Dict[str, list]) -> MaskQuality:
    """Run ``backbone`` in eval mode on preprocessed ``samples`` (an
    iterable of data-preprocessor outputs) and accumulate the lift and the
    rates."""
    quality = MaskQuality()
    with recording_on_probs(backbone) as probs, torch.no_grad():
        for data in samples:
            probs.clear()
            inputs = data['inputs']
            backbone(inputs)
            objects = torch.stack([
                sample_objects(s, inputs.shape[-2:], boxes_by_path)
                for s in data['data_samples']
            ])
            quality.update(backbone.mask_records, objects, probs)
    return quality
