"""Start a SAR-ResNet from the weights of the dense ResNet it replaces.

A dense ResNet checkpoint in torchvision, timm or mmpretrain key layout is
first read into one canonical layout (mmpretrain's ``ResNet``: ``conv1``,
``bn1`` or ``stem.*``, ``layer{i}.{j}.conv{k}``, ``bn{k}``, shortcut
``downsample.0`` (conv) and ``downsample.1`` (norm), and ``head.fc.*``),
checked against the dense ResNet of the SAR backbone's depth and widths,
and mapped onto the SAR backbone part by part:

- stem and plain stages: copied (the plain stage after the last SAR module
  shifts by one block, its first block being the fusion block);
- refine block j of SAR stage i: dense block j of stage i, each grouped conv
  taking the block-diagonal part of the dense conv (the dense cross-group
  weights are dropped);
- base block j: dense block j with channel selection. The C / alpha
  residual channels S of the stage are the ones whose BN-folded filters have
  the largest norm, summed over the blocks and the first shortcut, and are
  kept through every base block; the inner channels of each block are
  chosen the same way, conv by conv;
- fusion block of stage i (it replaces the last dense block of stage i):
  that block;
- region selection, fusion gate and width alignments: new.

Parts of the model outside the backbone (``head.fc``, a detector's neck and
heads) are copied where the checkpoint has the same key and shape.
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from .sar_backbone import fusion_blocks

# timm's deep stem (ResNet-C/D: conv1 is a Sequential, bn1 ends it).
_TIMM_DEEP_STEM = {
    'conv1.0.': 'stem.0.conv.',
    'conv1.1.': 'stem.0.bn.',
    'conv1.3.': 'stem.1.conv.',
    'conv1.4.': 'stem.1.bn.',
    'conv1.6.': 'stem.2.conv.',
    'bn1.': 'stem.2.bn.',
}
# A shortcut module of a block: (block, index).
_SHORTCUT = re.compile(r'^((?:backbone\.)?layer\d+\.\d+)\.downsample\.(\d)\.')
_BN_EPS = 1e-5


class ConversionError(ValueError):
    """A checkpoint or config that the conversion cannot take; the message
    names the mismatch."""


def load_dense_checkpoint(path: str) -> dict:
    """Read a checkpoint file (``.pth`` or ``.safetensors``) on the CPU.

    Raises:
        ConversionError: A missing or unreadable (truncated, corrupt, not a
            checkpoint) file, in one line.
    """
    if not osp.isfile(path):
        raise ConversionError(f'checkpoint not found: {path}')
    try:
        if path.endswith('.safetensors'):
            from safetensors.torch import load_file
            checkpoint = load_file(path)
        else:
            checkpoint = torch.load(path,
                                    map_location='cpu',
                                    weights_only=True)
    except Exception as error:  # torch raises many types for bad files
        lines = str(error).strip().splitlines()
        raise ConversionError(f'cannot read {path}: {type(error).__name__}'
                              f'{": " + lines[0] if lines else ""}')
    if not isinstance(checkpoint, dict):
        raise ConversionError(
            f'{path} holds a {type(checkpoint).__name__}, not a state dict')
    return checkpoint


def read_state_dict(checkpoint: dict) -> Dict[str, Tensor]:
    """The tensors of a loaded checkpoint (``state_dict`` of a runner or
    timm training checkpoint, or the state dict itself), without the
    ``module.`` prefix of DistributedDataParallel."""
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict) or not state:
        raise ConversionError('the checkpoint holds no state dict')
    return {
        re.sub(r'^module\.', '', key): value
        for key, value in state.items() if isinstance(value, Tensor)
    }


def detect_layout(checkpoint: dict) -> str:
    """``'mmpretrain'`` (keys under ``backbone.``, as in every OpenMMLab
    model; or a bare mmpretrain ResNet-C/D backbone, ``stem.0.conv``),
    ``'timm'`` (deep stem ``conv1.0``, or a timm training checkpoint with
    ``arch``) or ``'torchvision'`` (``conv1``, ``layer1.0.conv1``, ``fc``;
    timm's plain ResNets have the same keys and convert the same way).

    Raises:
        ConversionError: No ResNet keys of these layouts.
    """
    keys = read_state_dict(checkpoint)
    if any(key.startswith('backbone.') for key in keys):
        return 'mmpretrain'
    if 'stem.0.conv.weight' in keys:
        return 'mmpretrain'
    if 'conv1.0.weight' in keys or 'arch' in checkpoint:
        return 'timm'
    if 'conv1.weight' in keys and 'layer1.0.conv1.weight' in keys:
        return 'torchvision'
    first = ', '.join(list(keys)[:3])
    raise ConversionError(
        'not a ResNet checkpoint of torchvision, timm or mmpretrain: '
        'expected conv1.weight and layer1.0.conv1.weight (or '
        f'backbone.conv1.weight), got {first}, ...')


def canonical_state_dict(
        checkpoint: dict) -> Tuple[str, Dict[str, Tensor], Dict[str, Tensor]]:
    """``(layout, backbone, others)``: the backbone tensors in mmpretrain's
    ResNet layout and the rest of the model (``head.fc.*`` for a torchvision
    or timm classifier, the other modules of an OpenMMLab model)."""
    layout = detect_layout(checkpoint)
    state = read_state_dict(checkpoint)
    backbone, others = {}, {}
    for key, value in state.items():
        if layout == 'mmpretrain':
            if key.startswith('backbone.'):
                backbone[key[len('backbone.'):]] = value
            elif any(
                    key.startswith(p)
                    for p in ('conv1.', 'bn1.', 'stem.', 'layer')):
                backbone[key] = value
            else:
                others[key] = value
        elif key.startswith('fc.'):
            others[f'head.{key}'] = value
        else:
            backbone[key] = value
    if layout == 'timm' and 'conv1.0.weight' in backbone:
        backbone = {
            _rename_prefix(k, _TIMM_DEEP_STEM): v
            for k, v in backbone.items()
        }
    return layout, shift_pooled_shortcuts(backbone, pooled(backbone),
                                          -1), others


def pooled(state: Dict[str, Tensor]) -> set:
    """Blocks (``layer{i}.{j}``) whose shortcut is pool, conv, norm."""
    return {
        key.split('.downsample.')[0]
        for key in state if '.downsample.2.' in key
    }


def shift_pooled_shortcuts(state: Dict[str, Tensor], blocks: set,
                           step: int) -> Dict[str, Tensor]:
    """Renumber the shortcut modules of ``blocks`` by ``step``: -1 from
    ResNet-D's (pool, conv, norm) to the canonical (conv, norm), +1 back."""

    def rename(match):
        if match[1] not in blocks:
            return match[0]
        return f'{match[1]}.downsample.{int(match[2]) + step}.'

    return {_SHORTCUT.sub(rename, key): value for key, value in state.items()}


def _rename_prefix(key: str, renames: Dict[str, str]) -> str:
    for old, new in renames.items():
        if key.startswith(old):
            return new + key[len(old):]
    return key


def dense_reference(backbone: nn.Module) -> Dict[str, torch.Size]:
    """Shapes of the dense ResNet (mmpretrain's) that ``backbone`` replaces:
    same depth, input, stem and stage widths, stem type."""
    from mmpretrain.models.backbones import ResNet
    depth = backbone.depth
    if depth not in ResNet.arch_settings or getattr(backbone, 'block_cfg',
                                                    None):
        raise ConversionError(
            f'{type(backbone).__name__}-{depth} has no dense ResNet '
            'counterpart (expected SARResNet of depth 18/34/50/101/152)')
    first_conv = backbone.stem[0].conv if backbone.deep_stem else (
        backbone.conv1)
    dense = ResNet(depth,
                   in_channels=first_conv.in_channels,
                   stem_channels=backbone.stem_channels,
                   base_channels=backbone.base_channels,
                   deep_stem=backbone.deep_stem)
    return {key: value.shape for key, value in dense.state_dict().items()}


def check_dense(state: Dict[str, Tensor], reference: Dict[str,
                                                          torch.Size]) -> None:
    """Raise ConversionError at the first key (in model order) that the
    checkpoint lacks, has with another shape, or has in excess."""
    optional = 'num_batches_tracked'
    for key, shape in reference.items():
        if key.endswith(optional) and key not in state:
            continue
        got = tuple(state[key].shape) if key in state else 'missing'
        if got != tuple(shape):
            raise ConversionError(
                f'first differing key {key}: the SAR config expects '
                f'{tuple(shape)}, the checkpoint has {got}')
    extra = [key for key in state if key not in reference]
    if extra:
        raise ConversionError(
            f'first differing key {extra[0]}: the SAR config expects '
            f'none, the checkpoint has {tuple(state[extra[0]].shape)} '
            '(another depth or architecture)')


def folded_filter_norms(weight: Tensor, norm: Dict[str, Tensor]) -> Tensor:
    """Norms (C_out,) of conv filters (C_out, C_in, k, k) with their BN
    folded in: |gamma| * ||w|| / sqrt(var + eps)."""
    scale = norm['weight'].abs() / (norm['running_var'] + _BN_EPS).sqrt()
    return weight.flatten(1).norm(dim=1) * scale


def largest(scores: Tensor, k: int) -> Tensor:
    """Indices of the k largest scores, in increasing order."""
    return scores.topk(k).indices.sort().values


def block_diagonal(weight: Tensor, groups: int) -> Tensor:
    """The ``groups`` diagonal blocks (C_out, C_in / G, k, k) of a dense
    conv weight (C_out, C_in, k, k), as a grouped conv stores them."""
    out_width = weight.shape[0] // groups
    in_width = weight.shape[1] // groups
    return torch.cat([
        weight[g * out_width:(g + 1) * out_width,
               g * in_width:(g + 1) * in_width] for g in range(groups)
    ])


class _Mapper:
    """Fills the SAR backbone's state dict from the canonical dense one and
    keeps the report rows ``(SAR module, dense source, mapping)``."""

    def __init__(self, backbone: nn.Module, dense: Dict[str, Tensor]):
        self.target = backbone.state_dict()
        self.dense = dense
        self.state: Dict[str, Tensor] = {}
        self.rows: List[Tuple[str, str, str]] = []

    def map_leaves(self,
                   module: nn.Module,
                   name: str,
                   source: str,
                   transform=None) -> List[str]:
        """Fill every conv and norm of ``module`` (called ``name``) from the
        dense module ``source``: ``transform(leaf, dense name, kind, value)``
        reshapes each dense tensor (kind 'conv', 'norm' or 'count' for
        num_batches_tracked). A shortcut's conv and norm are the dense
        ``downsample.0`` and ``downsample.1`` whatever pooling precedes
        them. Returns the leaves without dense counterpart (a shortcut conv
        where the dense block has an identity shortcut), left new."""
        missing = []
        for local, leaf in module.named_modules():
            if not any(True for _ in leaf.parameters(recurse=False)):
                continue
            kind = ('conv' if isinstance(leaf, nn.Conv2d) else
                    'norm' if isinstance(leaf, _BatchNorm) else None)
            leaf_name = f'{name}.{local}' if local else name
            if kind is None:
                raise ConversionError(
                    f'{leaf_name} is a {type(leaf).__name__}; dense ResNet '
                    'weights fit convs and batch norms only')
            if local.startswith('downsample.'):
                local = 'downsample.' + ('0' if kind == 'conv' else '1')
            leaf_source = f'{source}.{local}' if local else source
            if f'{leaf_source}.weight' not in self.dense:
                missing.append(leaf_name)
                continue
            for tensor in leaf.state_dict():
                dense_key = f'{leaf_source}.{tensor}'
                if dense_key not in self.dense:
                    continue
                value = self.dense[dense_key]
                if transform is not None:
                    value = transform(
                        leaf, local,
                        'count' if tensor == 'num_batches_tracked' else kind,
                        value)
                self.put(f'{leaf_name}.{tensor}', value, dense_key)
        return missing

    def record(self, name: str, source: str, how: str,
               missing: List[str]) -> None:
        """Report a mapped module and its leaves left new."""
        self.rows.append((name, source, how))
        for leaf in missing:
            self.new(leaf, 'new (the dense shortcut is the identity)')

    def put(self, key: str, value: Tensor, source_key: str) -> None:
        expected = tuple(self.target[key].shape)
        if tuple(value.shape) != expected:
            raise ConversionError(
                'the SAR config\'s widths cannot take the dense weights: '
                f'first differing key {key}: SAR {expected}, dense '
                f'{source_key} gives {tuple(value.shape)}')
        self.state[key] = value.clone()

    def copy(self, module: nn.Module, name: str, source: str) -> None:
        self.record(name, source, 'copied',
                    self.map_leaves(module, name, source))

    def refine(self, block: nn.Module, name: str, source: str) -> None:
        """A refine block: grouped convs take the block-diagonal parts."""

        def diagonal(leaf, local, kind, value):
            if kind == 'conv' and leaf.groups > 1:
                return block_diagonal(value, leaf.groups)
            return value

        self.record(name, source,
                    f'sliced: block-diagonal, {block.groups} groups',
                    self.map_leaves(block, name, source, diagonal))

    def base(self, blocks: Sequence[nn.Module], names: Sequence[str],
             sources: Sequence[str]) -> None:
        """Base blocks with channel selection, consistent through the
        residual stream of the stage."""
        width = blocks[0].out_channels
        stream = largest(self.stream_scores(blocks, sources), width)
        dense_width = self.dense[
            f'{sources[0]}.{_last_conv(blocks[0])}.weight'].shape[0]
        for block, name, source in zip(blocks, names, sources):
            block_in = None if block is blocks[0] else stream
            self.record(
                name, source, 'copied' if width == dense_width else
                f'sliced: {width} of {dense_width} channels, largest norm',
                self.select_block(block, name, source, block_in, stream))

    def stream_scores(self, blocks: Sequence[nn.Module],
                      sources: Sequence[str]) -> Tensor:
        """Summed folded norms of the filters that write the residual
        stream: every block's last conv and the first shortcut."""
        writers = [(f'{s}.{_last_conv(b)}', f'{s}.bn{_last_conv(b)[-1]}')
                   for b, s in zip(blocks, sources)]
        if f'{sources[0]}.downsample.0.weight' in self.dense:
            writers.append(
                (f'{sources[0]}.downsample.0', f'{sources[0]}.downsample.1'))
        return sum(self.folded(conv, norm) for conv, norm in writers)

    def folded(self, conv: str, norm: str) -> Tensor:
        stats = {
            t: self.dense[f'{norm}.{t}']
            for t in ('weight', 'running_var')
        }
        return folded_filter_norms(self.dense[f'{conv}.weight'], stats)

    def select_block(self, block: nn.Module, name: str, source: str,
                     block_in: Optional[Tensor], stream: Tensor) -> List[str]:
        """Copy one block keeping output channels ``stream`` and input
        channels ``block_in`` (None: all); each inner conv keeps its own
        filters of largest folded norm."""
        last = _last_conv(block)
        previous = block_in
        selections = {}
        for index in range(1, int(last[-1]) + 1):
            out = stream if f'conv{index}' == last else largest(
                self.folded(f'{source}.conv{index}', f'{source}.bn{index}'),
                getattr(block, f'conv{index}').out_channels)
            selections[f'conv{index}'] = (out, previous)
            selections[f'bn{index}'] = (out, None)
            previous = out
        selections['downsample.0'] = (stream, block_in)
        selections['downsample.1'] = (stream, None)

        def select(leaf, local, kind, value):
            out, inp = selections[local]
            if kind != 'count':
                value = value[out]
            if kind == 'conv' and inp is not None:
                value = value[:, inp]
            return value

        return self.map_leaves(block, name, source, select)

    def new(self, name: str, how: str = 'new') -> None:
        self.rows.append((name, '-', how))


def _last_conv(block: nn.Module) -> str:
    """``conv3`` of a Bottleneck, ``conv2`` of a BasicBlock."""
    return 'conv3' if hasattr(block, 'conv3') else 'conv2'


def _child_name(root: nn.Module, module: nn.Module) -> str:
    for name, child in root.named_modules():
        if child is module:
            return name
    raise KeyError(type(module).__name__)


def map_backbone(backbone: nn.Module, dense: Dict[str, Tensor]) -> _Mapper:
    """Map the canonical dense state dict onto a SARResNet (see the module
    docstring); the mapper holds the filled tensors and report rows."""
    mapper = _Mapper(backbone, dense)
    if backbone.deep_stem:
        mapper.copy(backbone.stem, 'stem', 'stem')
    else:
        mapper.copy(backbone.conv1, 'conv1', 'conv1')
        mapper.copy(backbone.norm1, backbone.norm1_name, 'bn1')
    fusions = list(fusion_blocks(backbone).items())
    sar_modules = backbone.sar_modules
    for stage, num_blocks in enumerate(backbone.stage_blocks):
        layer = f'layer{stage + 1}'
        if stage >= backbone.num_sar_stages:
            blocks = getattr(backbone, layer)
            offset = len(blocks) - num_blocks
            for j in range(num_blocks):
                mapper.copy(blocks[offset + j], f'{layer}.{offset + j}',
                            f'{layer}.{j}')
            continue
        module = sar_modules[stage]
        name = _child_name(backbone, module)
        for j, block in enumerate(module.refine_blocks):
            mapper.refine(block, f'{name}.refine_blocks.{j}', f'{layer}.{j}')
        if len(module.base_blocks):
            mapper.base(module.base_blocks, [
                f'{name}.base_blocks.{j}'
                for j in range(len(module.base_blocks))
            ], [f'{layer}.{j}' for j in range(len(module.base_blocks))])
        fusion_name, fusion = fusions[stage]
        mapper.copy(fusion, fusion_name, f'{layer}.{num_blocks - 1}')
        for part in ('selectors', 'base_align', 'refine_align', 'gate'):
            child = getattr(module, part, None)
            if child is not None and len(list(child.parameters())):
                mapper.new(f'{name}.{part}')
    return mapper


def convert_dense_to_sar(model: nn.Module,
                         checkpoint: dict) -> Tuple[OrderedDict, dict]:
    """Weights for ``model`` (an OpenMMLab model whose ``backbone`` is a
    SARResNet) from a dense ResNet ``checkpoint`` (a loaded file).

    Returns:
        tuple: The state dict (model keys, ``backbone.*`` and the other
        modules' tensors that the checkpoint has with the same shape; the
        new tensors are left out so that they keep their initialisation)
        and the report: ``layout``, ``rows`` (SAR module, dense source,
        mapping) and ``new_keys`` (the keys of ``model`` left out).

    Raises:
        ConversionError: An unknown layout, a checkpoint of another
            architecture or depth, or a SAR config whose widths cannot take
            the dense weights; the message names the first differing key.
    """
    backbone = getattr(model, 'backbone', None)
    if backbone is None or not hasattr(backbone, 'sar_modules') or not (
            hasattr(backbone, 'stage_blocks')):
        raise ConversionError(
            f'the model {type(model).__name__} has no SARResNet backbone')
    layout, dense, others = canonical_state_dict(checkpoint)
    check_dense(dense, dense_reference(backbone))
    mapper = map_backbone(backbone, dense)
    state = OrderedDict()
    rows = list(mapper.rows)
    other_rows: Dict[str, str] = {}
    for key, value in model.state_dict().items():
        if key.startswith('backbone.'):
            local = key[len('backbone.'):]
            if local in mapper.state:
                state[key] = mapper.state[local]
            continue
        top = key.split('.')[0]
        if key in others and others[key].shape == value.shape:
            state[key] = others[key].clone()
            other_rows[top] = 'copied' if other_rows.get(
                top, 'copied') == 'copied' else 'partly copied'
        else:
            other_rows[top] = 'new' if other_rows.get(
                top, 'new') == 'new' else 'partly copied'
    rows += [(f'({top})', top if how != 'new' else '-', how)
             for top, how in other_rows.items()]
    # torch does not count a missing num_batches_tracked as missing.
    new_keys = [
        key for key in model.state_dict()
        if key not in state and not key.endswith('num_batches_tracked')
    ]
    return state, dict(layout=layout, rows=rows, new_keys=new_keys)


def load_dense_weights(model: nn.Module, path: str) -> str:
    """Load a dense ResNet checkpoint of any layout (see
    :func:`detect_layout`) into ``model``: a dense ResNet backbone, or a
    model whose ``backbone`` is one (its other tensors, e.g. ``head.fc``,
    from the checkpoint's). Returns the layout.

    Raises:
        ConversionError: The checkpoint does not have every tensor of
            ``model`` with its shape; the message names the first one.
    """
    layout, dense, others = canonical_state_dict(load_dense_checkpoint(path))
    prefix = 'backbone.' if hasattr(model, 'backbone') else ''
    model_pooled = {
        block[len(prefix):]
        for block in pooled(model.state_dict()) if block.startswith(prefix)
    }
    dense = shift_pooled_shortcuts(dense, model_pooled, 1)
    if hasattr(model, 'backbone'):
        state = {f'backbone.{key}': value for key, value in dense.items()}
        state.update(others)
    else:
        state = dense
    for key, value in model.state_dict().items():
        if key.endswith('num_batches_tracked'):
            continue
        got = tuple(state[key].shape) if key in state else 'missing'
        if got != tuple(value.shape):
            raise ConversionError(
                f'{path} does not fit {type(model).__name__}: first '
                f'differing key {key}: the model has {tuple(value.shape)}, '
                f'the checkpoint {got}')
    extra = [
        key for key in state if key.startswith(prefix)
        and key not in model.state_dict() and key[len(prefix):] in dense
    ]
    if extra:
        raise ConversionError(
            f'{path} does not fit {type(model).__name__}: first differing '
            f'key {extra[0]}: the model has none, the checkpoint '
            f'{tuple(state[extra[0]].shape)} (another depth?)')
    model.load_state_dict(
        {
            key: value
            for key, value in state.items() if key in model.state_dict()
        },
        strict=False)
    return layout


def format_report(report: dict) -> str:
    """The report rows as a Markdown table, with a count of new keys."""
    rows = [('SAR module', 'dense source', 'mapping')
            ] + [tuple(row) for row in report['rows']]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        '| ' + ' | '.join(cell.ljust(w) for cell, w in zip(row, widths)) + ' |'
        for row in rows
    ]
    lines.insert(1, '| ' + ' | '.join('-' * w for w in widths) + ' |')
    lines.append(f'layout: {report["layout"]}; keys left new (missing when '
                 f'loaded): {len(report["new_keys"])}')
    return '\n'.join(lines)
