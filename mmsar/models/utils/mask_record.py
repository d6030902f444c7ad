"""What a SAR backbone remembers of its last forward pass."""
from dataclasses import dataclass
from typing import Optional, Tuple

from torch import Tensor


@dataclass
class MaskRecord:
    """Hard masks produced by one region-selection module in the last forward.

    SAR backbones keep one record per refine block, in forward order, in
    ``backbone.mask_records``; the loss hook, the FLOPs counter and the mask
    visualiser read them.

    Attributes:
        stage (int): Index of the SAR stage (0-based) holding the block.
        block (int): Index of the refine block inside its stage (0-based).
        masks (Tensor): Hard 0/1 masks of shape (N, G, K, K). In training
            they carry straight-through Gumbel-softmax gradients.
        feature_size (Tuple[int, int]): (H, W) of the refine block's input
            and output, over which the K x K cells are laid.
        on_logit_gap (Tensor, optional): (G,) on-minus-off logit bias of the
            learned region selection that made the masks (see
            :meth:`~mmsar.models.layers.RegionSelection.on_logit_gap`);
            None for fixed masks.
    """

    stage: int
    block: int
    masks: Tensor
    feature_size: Tuple[int, int]
    on_logit_gap: Optional[Tensor] = None

    @property
    def rates(self) -> Tensor:
        """Per-sample activation rate r_{b,n} of Eq. 7, shape (N,)."""
        return self.masks.flatten(1).mean(1)

    @property
    def name(self) -> str:
        """Readable identifier, e.g. ``stage1.block0``."""
        return f'stage{self.stage}.block{self.block}'
