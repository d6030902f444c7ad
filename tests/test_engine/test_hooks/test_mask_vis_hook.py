"""SARMaskVisHook: overlays of refined patches logged during validation."""
from types import SimpleNamespace

import torch
from mmengine.structures import BaseDataElement
from mmengine.visualization import LocalVisBackend, Visualizer

from mmsar.engine.hooks.mask_vis_hook import SARMaskVisHook
from mmsar.models import SARResNet


def test_hook_logs_overlays_to_local_backend(tmp_path):
    model = SimpleNamespace(backbone=SARResNet(depth=18).eval())
    visualizer = Visualizer(name='mmsar_test_hook',
                            vis_backends=[dict(type='LocalVisBackend')],
                            save_dir=str(tmp_path))
    runner = SimpleNamespace(model=model, visualizer=visualizer, iter=7)
    hook = SARMaskVisHook(num_images=3)
    hook.before_val_epoch(runner)
    for batch_idx in range(2):
        images = [
            torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
            for _ in range(2)
        ]
        with torch.no_grad():
            model.backbone(torch.stack(images).float())
        batch = dict(inputs=images, data_samples=[BaseDataElement()] * 2)
        hook.after_val_iter(runner, batch_idx, batch)
    saved = sorted(p.name for p in tmp_path.rglob('*.png'))
    assert saved == [f'sar_masks_{i}_7.png' for i in range(3)]
    assert isinstance(visualizer._vis_backends['LocalVisBackend'],
                      LocalVisBackend)
