"""Per-image multiply-accumulates (MACs) of SAR backbones.

The cost of a SAR backbone depends on the image through the masks of its
region-selection modules, so it is counted from the masks that one forward
recorded (``backbone.mask_records``), sample by sample:

- counted: every ``Conv2d`` and ``Linear`` (``C_out * C_in / groups * k * k``
  per output pixel, biases not counted) and every pooling layer (``k * k``
  per output element; an adaptive pool, one per input element);
- a conv of a refine block (all but its dense 1x1 shortcut) is counted at the
  selected area: channel group g of a conv with G groups costs ``1 / G`` of
  the dense conv times the fraction of pixels that the cells of mask g cover
  (cells of unequal size when H is not a multiple of K are counted at their
  actual size);
- not counted: norms, activations, mask multiplications, upsampling,
  additions, the global average pool of the fusion gate, and the halo of
  the 3x3 convs (the masked forward zeros the input outside the selected
  cells, so no pixel outside them is computed).

These are the rules of the SAR authors' counter and of OpenMMLab's FLOPs
tools, which report MACs and call them FLOPs. Backbone figures exclude the
classifier: the global pool and 2048 -> 1000 fc of an ImageNet ResNet-50 add
2.15 M MACs (0.07 % of SAR-ResNet-50), which the authors' totals include.

The same counter handles any backbone of ``Conv2d`` / ``Linear`` / pooling
layers (e.g. mmpretrain's ``ResNet``): it then counts it densely.
"""
import copy
from dataclasses import dataclass, field, replace
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.utils import _pair

from mmsar.models.layers.sar_module import SARModule
from mmsar.models.utils.mask_record import MaskRecord
from mmsar.models.utils.sar_backbone import (PARTS, is_sar_backbone,
                                             part_of, part_roots)
from mmsar.utils.patch_grid import cell_bounds

COUNTED_LAYERS = (nn.Conv2d, nn.Linear, nn.AvgPool2d, nn.MaxPool2d,
                  nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
NORM_LAYERS = (_BatchNorm, nn.GroupNorm, nn.LayerNorm)


@dataclass
class Complexity:
    """MACs of a backbone on a batch of images, counted per image.

    Attributes:
        macs (Tensor): Total MACs per image, shape (N,).
        parts (Dict[str, Tensor]): MACs per part (see ``PARTS``), each (N,).
        layers (Dict[str, Tensor]): MACs per counted layer (module name),
            each (N,).
        params (int): Parameters of the backbone.
        rates (Tensor, optional): Mean activation rate per image over the
            refine blocks (fraction of cells on), shape (N,); None for a
            dense backbone.
        input_shapes (List[Tuple[int, int]]): (H, W) of each image as the
            backbone saw it.
    """

    macs: Tensor
    parts: Dict[str, Tensor]
    layers: Dict[str, Tensor]
    params: int
    rates: Optional[Tensor] = None
    input_shapes: List[Tuple[int, int]] = field(default_factory=list)

    @classmethod
    def cat(cls, results: Sequence['Complexity']) -> 'Complexity':
        """Concatenate the per-image counts of several batches."""
        first = results[0]

        def _cat(dicts):
            return {
                key: torch.cat([d[key] for d in dicts])
                for key in dicts[0]
            }

        rates = None
        if first.rates is not None:
            rates = torch.cat([r.rates for r in results])
        return cls(macs=torch.cat([r.macs for r in results]),
                   parts=_cat([r.parts for r in results]),
                   layers=_cat([r.layers for r in results]),
                   params=first.params,
                   rates=rates,
                   input_shapes=[s for r in results for s in r.input_shapes])


def _numel(shape: Sequence[int]) -> int:
    numel = 1
    for size in shape:
        numel *= size
    return numel


def dense_layer_macs(layer: nn.Module, input_shape: Sequence[int],
                     output_shape: Sequence[int]) -> int:
    """MACs of one image through ``layer``.

    Args:
        layer (nn.Module): A layer of ``COUNTED_LAYERS``.
        input_shape (Sequence[int]): Batch input shape, (N, C, H, W) or
            (N, ..., C).
        output_shape (Sequence[int]): Batch output shape, same layout.

    Returns:
        int: Conv and linear: one MAC per weight per output position (bias
        not counted). Pooling: one per input element read by each output
        (``k * k`` per output, every input element for adaptive pools).
    """
    out_numel = _numel(output_shape[1:])
    if isinstance(layer, nn.Conv2d):
        kh, kw = layer.kernel_size
        return out_numel * layer.in_channels // layer.groups * kh * kw
    if isinstance(layer, nn.Linear):
        return out_numel * layer.in_features
    if isinstance(layer, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return _numel(input_shape[1:])
    if isinstance(layer, (nn.AvgPool2d, nn.MaxPool2d)):
        kh, kw = _pair(layer.kernel_size)
        return out_numel * kh * kw
    raise TypeError(f'no MACs rule for {type(layer).__name__}')


def selected_fraction(masks: Tensor, size: Tuple[int, int]) -> Tensor:
    """Fraction of the pixels of an (H, W) map that each mask selects.

    Cell (i, j) of a K x K grid covers ``cell_bounds(H, K)[i]`` rows and
    ``cell_bounds(W, K)[j]`` columns, so unequal and empty cells count at
    their actual size.

    Args:
        masks (Tensor): 0/1 cell masks of shape (N, G, K, K).
        size (Tuple[int, int]): (H, W) of the masked feature map.

    Returns:
        Tensor: Selected fractions of shape (N, G).
    """
    grid_h, grid_w = masks.shape[-2:]
    heights = torch.tensor([b - a for a, b in cell_bounds(size[0], grid_h)],
                           dtype=torch.float64)
    widths = torch.tensor([b - a for a, b in cell_bounds(size[1], grid_w)],
                          dtype=torch.float64)
    areas = heights[:, None] * widths[None, :]
    selected = (masks.detach().double().cpu() * areas).sum((-2, -1))
    return selected / (size[0] * size[1])


def _named_layers(module: nn.Module, prefix: str) -> Dict[str, nn.Module]:
    """Counted layers inside ``module``, by their full names."""
    dot = f'{prefix}.' if prefix else ''
    return {
        f'{dot}{name}'.rstrip('.'): layer
        for name, layer in module.named_modules()
        if isinstance(layer, COUNTED_LAYERS)
    }


def _refine_block_keys(backbone: nn.Module) -> Dict[str, Tuple[int, int]]:
    """(stage, block) of the mask record of the refine block that holds
    each counted layer, by layer name."""
    keys = {}
    for prefix, module in backbone.named_modules():
        if not isinstance(module, SARModule):
            continue
        for index, block in enumerate(module.refine_blocks):
            block_prefix = f'{prefix}.refine_blocks.{index}'
            for name in _named_layers(block, block_prefix):
                keys[name] = (module.stage_index, index)
    return keys


def layer_parts(
        backbone: nn.Module
) -> Tuple[Dict[str, str], Dict[str, Tuple[int, int]]]:
    """Part (see ``PARTS``) of every counted layer of ``backbone``.

    Returns:
        tuple: ``{layer name: part}`` and, for the refine convs, ``{layer
        name: (stage, block)}`` of the mask record that masks them.
    """
    roots = part_roots(backbone)
    parts = {
        name: part_of(name, roots)
        for name in _named_layers(backbone, '')
    }
    masked_by = {
        name: key
        for name, key in _refine_block_keys(backbone).items()
        if parts[name] == 'refine_masked'
    }
    return parts, masked_by


def _record_shapes(
        backbone: nn.Module,
        inputs: Tensor) -> Dict[str, Tuple[Tuple[int, ...], Tuple[int, ...]]]:
    """Run one forward; return (input shape, output shape) of every counted
    layer, by name."""
    shapes = {}
    handles = []
    for name, layer in _named_layers(backbone, '').items():

        def _hook(mod, args, output, name=name):
            shapes[name] = (tuple(args[0].shape), tuple(output.shape))

        handles.append(layer.register_forward_hook(_hook))
    try:
        with torch.no_grad():
            backbone(inputs)
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def _records_by_key(
        records: Sequence[MaskRecord]) -> Dict[Tuple[int, int], MaskRecord]:
    return {(r.stage, r.block): r for r in records}


def _mean_rate(records: Sequence[MaskRecord]) -> Tensor:
    """Mean fraction of cells on over the refine blocks, shape (N,)."""
    return torch.stack([r.rates.detach().double().cpu()
                        for r in records]).mean(0)


def count_complexity(backbone: nn.Module, inputs: Tensor) -> Complexity:
    """Count the MACs of ``backbone`` on every image of ``inputs``.

    Runs one forward (no gradients) in the backbone's current mode; call
    ``backbone.eval()`` first for the deterministic masks of inference.

    Args:
        backbone (nn.Module): A SAR backbone or a dense backbone.
        inputs (Tensor): Images of shape (N, C, H, W).

    Returns:
        Complexity: per-image totals, parts and layers.
    """
    shapes = _record_shapes(backbone, inputs)
    records = backbone.mask_records if is_sar_backbone(backbone) else []
    return _tally(backbone, shapes, records,
                  [tuple(inputs.shape[-2:])] * inputs.shape[0])


def _tally(backbone: nn.Module, shapes: dict, records: Sequence[MaskRecord],
           input_shapes: List[Tuple[int, int]]) -> Complexity:
    """Complexity from the layers' (input, output) shapes and the masks."""
    parts, masked_by = layer_parts(backbone)
    num_images = len(input_shapes)
    records = _records_by_key(records)
    layers = {}
    for name, (in_shape, out_shape) in shapes.items():
        layer = backbone.get_submodule(name)
        dense = torch.full((num_images, ),
                           float(dense_layer_macs(layer, in_shape, out_shape)),
                           dtype=torch.float64)
        if name in masked_by:
            record = records[masked_by[name]]
            fraction = selected_fraction(record.masks, out_shape[-2:])
            dense = dense * fraction.mean(1)
        layers[name] = dense
    part_macs = {
        part:
        sum((macs for name, macs in layers.items() if parts[name] == part),
            torch.zeros(num_images, dtype=torch.float64))
        for part in PARTS
    }
    rates = _mean_rate(records.values()) if records else None
    return Complexity(macs=sum(layers.values()),
                      parts=part_macs,
                      layers=layers,
                      params=sum(p.numel() for p in backbone.parameters()),
                      rates=rates,
                      input_shapes=input_shapes)


def _static_masks(backbone: nn.Module) -> Optional[List[Tensor]]:
    """Masks of every refine block in forward order when none depends on
    the input (see :meth:`SARModule.static_masks`); [] for a dense
    backbone; None when a learned selection decides."""
    if not is_sar_backbone(backbone):
        return []
    masks = []
    for module in backbone.sar_modules:
        static = module.static_masks()
        if static is None:
            return None
        masks += static
    return masks


def _meta_copy(module: nn.Module) -> nn.Module:
    """A copy of ``module`` whose parameters and buffers are on the meta
    device (shapes only, nothing copied or computed). Its norm layers,
    which are not counted and which the meta device runs slowly, are
    identities."""
    memo = {}
    for _, tensor in module.state_dict(keep_vars=True).items():
        meta = torch.empty_like(tensor, device='meta')
        if isinstance(tensor, nn.Parameter):
            meta = nn.Parameter(meta, requires_grad=tensor.requires_grad)
        memo[id(tensor)] = meta
    for _, buffer in module.named_buffers():  # non-persistent ones too
        memo.setdefault(id(buffer), torch.empty_like(buffer, device='meta'))
    meta = copy.deepcopy(module, memo)
    for parent in list(meta.modules()):
        for name, child in parent.named_children():
            if isinstance(child, NORM_LAYERS):
                setattr(parent, name, nn.Identity())
    return meta


def count_at_rate(backbone: nn.Module,
                  rate: Optional[float],
                  shape: Tuple[int, int] = (224, 224),
                  in_channels: int = 3) -> Complexity:
    """MACs of one image with every mask forced to ``rate``.

    ``rate=None`` keeps the learned selection (the fixed masks of the
    ablations, if any). The backbone is put in eval mode and its learned
    selection is restored afterwards. Dense backbones ignore ``rate``.
    Masks that do not depend on the image (forced, fixed, none) are counted
    from a forward on the meta device, which computes nothing, so that
    large inputs count in a moment; learned masks need a real forward of a
    random image.
    """
    backbone.eval()
    sar = is_sar_backbone(backbone)
    if sar:
        backbone.force_activation_rate(rate)
    try:
        static = _static_masks(backbone)
        if static is None:
            return count_complexity(backbone,
                                    torch.rand(1, in_channels, *shape))
        meta = _meta_copy(backbone)
        shapes = _record_shapes(
            meta, torch.empty(1, in_channels, *shape, device='meta'))
        records = [
            replace(record, masks=masks) for record, masks in
            zip(meta.mask_records if sar else [], static)
        ]
        return _tally(backbone, shapes, records, [tuple(shape)])
    finally:
        if sar:
            backbone.force_activation_rate(None)


def dense_counterpart(backbone: nn.Module) -> Optional[nn.Module]:
    """The mmpretrain backbone a SAR backbone replaces (its ``dense_cfg()``),
    or None when there is none (CIFAR variants, dense backbones)."""
    import mmpretrain.models
    cfg = backbone.dense_cfg() if is_sar_backbone(backbone) else None
    if cfg is None:
        return None
    cfg = dict(cfg)
    return getattr(mmpretrain.models, cfg.pop('type'))(**cfg)


def count_images(backbone: nn.Module, images: Iterable[Tensor]) -> Complexity:
    """Count images one at a time; each is (1, C, H, W), sizes may differ."""
    return Complexity.cat([count_complexity(backbone, x) for x in images])


def dense_macs_per_image(backbone: nn.Module,
                         shapes: Sequence[Tuple[int, int]]) -> Tensor:
    """MACs of a dense backbone at each (H, W) of ``shapes``, shape (N,);
    each distinct size is counted once."""
    by_shape = {
        shape: count_at_rate(backbone, None, shape).macs.item()
        for shape in set(shapes)
    }
    return torch.tensor([by_shape[s] for s in shapes], dtype=torch.float64)


def summarize(values: Tensor) -> Dict[str, float]:
    """Mean, median, min and max of per-image values (N,)."""
    values = values.double()
    return dict(mean=values.mean().item(),
                median=values.median().item(),
                min=values.min().item(),
                max=values.max().item())
