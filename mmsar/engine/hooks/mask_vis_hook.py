"""Hook that logs overlays of the refined patches of validation images."""
from typing import Optional, Sequence, Tuple

import numpy as np
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from mmsar.models.utils.sar_backbone import is_sar_backbone
from mmsar.visualization.mask_overlay import draw_mask_overlays, select_records


def _rgb_image(inputs) -> np.ndarray:
    """A raw batch image (C, H, W) BGR uint8 as (H, W, 3) RGB."""
    image = inputs.detach().cpu().permute(1, 2, 0).numpy()
    return image[..., ::-1].copy() if image.shape[2] == 3 else image


def _batch_input_size(data_batch: dict) -> Tuple[int, int]:
    """(H, W) the batch is padded to: the preprocessor's record when it
    left one, else the largest image (strides are rounded to powers of two,
    which absorbs the padding to a size divisor)."""
    samples = data_batch.get('data_samples') or []
    if samples and 'batch_input_shape' in samples[0]:
        return tuple(samples[0].batch_input_shape)
    sizes = [tuple(img.shape[-2:]) for img in data_batch['inputs']]
    return max(s[0] for s in sizes), max(s[1] for s in sizes)


@HOOKS.register_module()
class SARMaskVisHook(Hook):
    """Log overlays of the patches SAR refines for a few validation images.

    After each validation (and test) iteration, until ``num_images`` images
    of the epoch are drawn, it reads the masks that the forward left in the
    SAR backbone and sends one figure per image (see
    :func:`~mmsar.visualization.draw_mask_overlays`) to the runner's
    visualizer, i.e. to every configured vis backend (local, TensorBoard).

    Args:
        num_images (int): Images drawn per validation epoch. Default: 4.
        interval (int): Draw every ``interval``-th validation. Default: 1.
        blocks (Sequence[str], optional): Refine blocks, e.g.
            ``['stage0.block1']``. Default: the first block of each stage.
        groups (Sequence[int], optional): Channel groups. Default: all.
    """

    priority = 'LOW'

    def __init__(self,
                 num_images: int = 4,
                 interval: int = 1,
                 blocks: Optional[Sequence[str]] = None,
                 groups: Optional[Sequence[int]] = None):
        if num_images < 0 or interval < 1:
            raise ValueError('SARMaskVisHook needs num_images >= 0 and '
                             f'interval >= 1, got {num_images}, {interval}')
        self.num_images = num_images
        self.interval = interval
        self.blocks = blocks
        self.groups = groups
        self._validations = 0
        self._drawn = 0

    def before_val_epoch(self, runner) -> None:
        self._validations += 1
        self._drawn = 0

    def before_test_epoch(self, runner) -> None:
        self.before_val_epoch(runner)

    def _backbone(self, runner):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        backbone = getattr(model, 'backbone', model)
        return backbone if is_sar_backbone(backbone) else None

    def after_val_iter(self,
                       runner,
                       batch_idx: int,
                       data_batch: Optional[dict] = None,
                       outputs=None) -> None:
        if (data_batch is None or self._drawn >= self.num_images
                or (self._validations - 1) % self.interval):
            return
        backbone = self._backbone(runner)
        if backbone is None or not backbone.mask_records:
            return
        records = select_records(backbone.mask_records, self.blocks)
        input_size = _batch_input_size(data_batch)
        for index, inputs in enumerate(data_batch['inputs']):
            if self._drawn >= self.num_images:
                break
            figure = draw_mask_overlays(runner.visualizer, _rgb_image(inputs),
                                        records, index, input_size,
                                        self.groups)
            runner.visualizer.add_image(f'sar_masks_{self._drawn}',
                                        figure,
                                        step=runner.iter)
            self._drawn += 1

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs=None) -> None:
        self.after_val_iter(runner, batch_idx, data_batch, outputs)
