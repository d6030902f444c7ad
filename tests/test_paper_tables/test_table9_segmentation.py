"""Table IX: VOC backbone FLOPs at 512 x 512, output stride 16: SAR-ResNet50
G2 s4 alpha1 with the deep stem at its target 0.5, and the ResNetV1c it
replaces, in DeepLab-v3 and PSPNet."""
import pytest

from .paper_counts import check_row

C = '{0}/{0}_sar-r50-d16-g2s4a1-t0.5_4xb4-20k_voc12aug-512x512.py'
ROWS = [(C.format(framework), mode, paper)
        for framework in ('deeplabv3', 'pspnet')
        for mode, paper in (('dense', 34.1), ('target', 25.8))]


@pytest.mark.parametrize('config, mode, paper', ROWS)
def test_table9_backbone_flops(config, mode, paper):
    check_row(config, mode, paper, (512, 512))
