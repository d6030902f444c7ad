"""Histograms of per-image activation rates and MACs (Fig. 5 of the paper)."""
from typing import Optional

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def _percent_hist(axis, values: np.ndarray, bins: int, span: tuple,
                  color: str) -> None:
    """Histogram of ``values`` over ``span`` (low, high) with the share of
    images (%) on the y axis."""
    weights = np.full(len(values), 100.0 / max(len(values), 1))
    axis.hist(values,
              bins=bins,
              range=span,
              weights=weights,
              color=color,
              edgecolor='white')
    axis.axvline(values.mean(),
                 color='black',
                 linestyle='-',
                 linewidth=1,
                 label=f'mean {values.mean():.3g}')
    axis.set_ylabel('images (%)')


def plot_complexity_histogram(rates: np.ndarray,
                              gmacs: np.ndarray,
                              out_file: str,
                              dense_gmacs: Optional[float] = None,
                              title: str = '',
                              bins: int = 40) -> None:
    """Save side-by-side histograms of activation rate and backbone GMACs.

    Args:
        rates (np.ndarray): Mean activation rate of each image, shape (N,).
        gmacs (np.ndarray): Backbone GMACs of each image, shape (N,).
        out_file (str): PNG path.
        dense_gmacs (float, optional): GMACs of the dense backbone, drawn as
            a dashed line.
        title (str): Figure title.
        bins (int): Bins of each histogram; rates span [0, 1], GMACs
            [0, the larger of the dense and the largest count].
    """
    fig = Figure(figsize=(10, 3.8))
    FigureCanvasAgg(fig)
    ax_rate, ax_macs = fig.subplots(1, 2)
    gmacs = np.asarray(gmacs, dtype=float)
    top = max(gmacs.max(), dense_gmacs or 0) * 1.05
    _percent_hist(ax_rate, np.asarray(rates, dtype=float), bins, (0, 1),
                  'tab:blue')
    ax_rate.set_xlabel('activation rate')
    _percent_hist(ax_macs, gmacs, bins, (0, top), 'tab:orange')
    ax_macs.set_xlabel('backbone GMACs')
    if dense_gmacs is not None:
        ax_macs.axvline(dense_gmacs,
                        color='tab:red',
                        linestyle='--',
                        label=f'dense {dense_gmacs:.3g}')
    for axis in (ax_rate, ax_macs):
        axis.legend(loc='best', fontsize='small')
    fig.suptitle(
        f'{title} ({len(rates)} images)' if title else f'{len(rates)} images')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
