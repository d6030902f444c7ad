"""The Fig. 5 histogram of per-image complexity."""
import mmcv
import numpy as np

from mmsar.visualization import plot_complexity_histogram


def test_histogram_png(tmp_path):
    out = tmp_path / 'hist.png'
    plot_complexity_histogram(np.linspace(0.2, 0.5, 30), np.linspace(2, 3, 30),
                              str(out), 4.09, 'test')
    assert mmcv.imread(str(out)).shape[2] == 3
