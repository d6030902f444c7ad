"""Plot of a latency benchmark: SAR latency over dense latency."""
from typing import List


def plot_ratios(records: List[dict], path: str) -> None:
    """PNG of SAR / best dense latency vs activation rate: one line per
    thread count and SAR backend (torch, onnxruntime, openvino), each over
    the fastest dense engine of its thread count.

    Args:
        records (list[dict]): From :func:`mmsar.analysis.benchmark.benchmark`.
        path (str): The PNG file to write.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for threads in sorted({r['threads'] for r in records}):
        rows = sorted((r for r in records if r['threads'] == threads),
                      key=lambda r: r['rate'])
        rates = [r['rate'] for r in rows]
        backends = [k.split(' ', 1)[1] for k in rows[0]['ms']
                    if k.startswith('SAR@')]
        for backend in backends:
            ratios = [
                r['ms'][f"SAR@{r['rate']:g} {backend}"] / r['best_dense_ms']
                for r in rows
            ]
            ax.plot(rates, ratios, '-o', markersize=3,
                    label=f'{threads} thread(s), SAR in {backend}')
    ax.axhline(1.0, color='grey', linewidth=0.8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel('activation rate')
    ax.set_ylabel('SAR latency / best dense engine')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
