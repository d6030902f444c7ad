"""What a SAR backbone is, and the names of its parts.

A SAR backbone is any module that exposes ``mask_records`` (the
:class:`~mmsar.models.utils.mask_record.MaskRecord` list of its last
forward) and ``set_temperature(tau)``, as :class:`~mmsar.models.SARResNet`
and its subclasses do. The check is by interface, not by class, so that
this module imports no model and any backbone with that interface is
trained, counted and drawn alike.

The parts of a SAR backbone, in forward order (``PARTS``), are those of its
stem, of each SAR module (base branch, region selection, masked refine
blocks and their dense shortcuts, fusion gate and width alignments), of the
fusion blocks that close the SAR modules, and of the plain stages.
"""
from typing import Dict, List

import torch.nn as nn

PARTS = ('stem', 'base', 'selection', 'refine_masked', 'refine_shortcut',
         'fusion_gate_align', 'fusion_blocks', 'plain_stages')
# Top-level children that make up a ResNet stem.
STEM_NAMES = ('conv1', 'stem', 'maxpool')
# The part of each child of a SAR module; a refine block's ``downsample``
# is its dense shortcut (``refine_shortcut``).
SAR_MODULE_PARTS = {
    'base_pool': 'base',
    'base_blocks': 'base',
    'selectors': 'selection',
    'refine_blocks': 'refine_masked',
    'base_align': 'fusion_gate_align',
    'refine_align': 'fusion_gate_align',
    'gate': 'fusion_gate_align',
}


def is_sar_backbone(module: nn.Module) -> bool:
    """Whether ``module`` has the SAR backbone interface (see above)."""
    return hasattr(module, 'mask_records') and callable(
        getattr(module, 'set_temperature', None))


def find_sar_backbones(model: nn.Module) -> List[nn.Module]:
    """SAR backbones inside ``model``, outermost first, in module order.

    Modules nested inside a found backbone are not returned.
    """
    found, inside = [], []
    for name, module in model.named_modules():
        if any(name.startswith(prefix) for prefix in inside):
            continue
        if is_sar_backbone(module):
            found.append(module)
            inside.append(f'{name}.' if name else '')
    return found


def fusion_blocks(backbone: nn.Module) -> Dict[str, nn.Module]:
    """Blocks that close a SAR module, by name: the non-SAR blocks of the
    layers (top-level ``nn.Sequential`` children) that hold a SAR module,
    and the first block of the layer after one that ends with a SAR module
    (a SAR-ResNet's next stage opens with the fusion block; a
    SAR-MobileNet-v2 stage ends with its own).
    """
    sar_ids = {id(m) for m in backbone.sar_modules}
    blocks = {}
    closes_next = False
    for name, layer in backbone.named_children():
        if not isinstance(layer, nn.Sequential):
            continue
        children = list(layer.named_children())
        if closes_next and children:
            blocks[f'{name}.{children[0][0]}'] = children[0][1]
        if any(id(child) in sar_ids for _, child in children):
            blocks.update((f'{name}.{child_name}', child)
                          for child_name, child in children
                          if id(child) not in sar_ids)
        closes_next = bool(children) and id(children[-1][1]) in sar_ids
    return blocks


def part_roots(backbone: nn.Module) -> Dict[str, str]:
    """``{module name: part}`` of the modules the parts are made of.

    A submodule belongs to the part of its nearest ancestor listed here
    (see :func:`part_of`); works on the masked and the deployed
    (:func:`~mmsar.deploy.deploy_backbone`) backbone alike. A dense ResNet
    has only its stem listed.
    """
    roots = {
        name: 'stem'
        for name, _ in backbone.named_children() if name in STEM_NAMES
    }
    if not is_sar_backbone(backbone):
        return roots
    roots.update(dict.fromkeys(fusion_blocks(backbone), 'fusion_blocks'))
    sar_ids = {id(m) for m in backbone.sar_modules}
    for name, module in backbone.named_modules():
        if id(module) not in sar_ids:
            continue
        for child, part in SAR_MODULE_PARTS.items():
            if getattr(module, child, None) is not None:
                roots[f'{name}.{child}'] = part
        for index, block in enumerate(module.refine_blocks):
            if getattr(block, 'downsample', None) is not None:
                roots[f'{name}.refine_blocks.{index}.downsample'] = (
                    'refine_shortcut')
    return roots


def part_of(name: str, roots: Dict[str, str]) -> str:
    """Part of the module called ``name``: that of its nearest ancestor in
    ``roots`` (:func:`part_roots`), else ``'plain_stages'``."""
    while name:
        if name in roots:
            return roots[name]
        name = name.rpartition('.')[0]
    return 'plain_stages'
