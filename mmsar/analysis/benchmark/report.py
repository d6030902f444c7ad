"""Markdown and JSON reports of latency benchmarks."""
import json
import os.path as osp
from typing import Dict, List, Optional

from ...visualization.latency_plot import plot_ratios

ISOLATION_WORDS = dict(
    interleaved='in one process, interleaved run by run',
    processes='each alone in a process of its own, the processes taking '
    'turns')


def format_table(records: List[dict]) -> str:
    """A markdown table of benchmark records: every runner's median (ms)
    and the ratios of the fastest SAR backend, under a line that says how
    the models were timed."""
    runners = list(records[0]['ms'])
    sar_runners = [k for k in runners if k.startswith('SAR@')]
    # One column per SAR backend: the rate is a column of its own.
    columns = [k.split(' ', 1)[1] for k in sar_runners]
    others = [k for k in runners if k not in sar_runners]
    head = (['threads', 'input', 'batch', 'rate'] +
            [f'SAR {c} (ms)' for c in columns] + [f'{k} (ms)' for k in others]
            + ['ratio vs best dense', 'f32 ratio vs best f32 dense',
               'ratio vs stock'])
    isolation = records[0]['isolation']
    lines = [
        f'Models timed {ISOLATION_WORDS[isolation]}.', '',
        '| ' + ' | '.join(head) + ' |', '|---' * len(head) + '|'
    ]
    for r in records:
        times = [
            r['ms'][f"SAR@{r['rate']:g} {c}"] for c in columns
        ] + [r['ms'][k] for k in others]
        cells = ([
            str(r['threads']), f"{r['shape'][0]}x{r['shape'][1]}",
            str(r['batch']), f"{r['rate']:.2f}"
        ] + [f'{t:.1f}' for t in times] + [
            f"{r['ratio_vs_best_dense']:.3f}",
            f"{r['ratio_f32_vs_best_f32_dense']:.3f}",
            f"{r['ratio_vs_stock']:.3f}"
        ])
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def format_profile(profile: Dict[str, Dict[str, float]]) -> str:
    """A markdown table of per-layer-type (or per-op) times of several
    models, largest first."""
    names = list(profile)
    kinds = sorted({k
                    for p in profile.values()
                    for k in p},
                   key=lambda k: -max(p.get(k, 0) for p in profile.values()))
    lines = [
        '| part | ' + ' | '.join(f'{n} (ms)' for n in names) + ' |',
        '|---|' + '---|' * len(names)
    ]
    for kind in kinds:
        cells = ' | '.join(f'{profile[n].get(kind, 0):.2f}' for n in names)
        lines.append(f'| {kind} | {cells} |')
    totals = ' | '.join(f'{sum(profile[n].values()):.2f}' for n in names)
    lines.append(f'| total | {totals} |')
    return '\n'.join(lines)


def format_profiles(profiles: Dict[str, dict]) -> str:
    """:func:`format_profile` tables under their titles."""
    return '\n\n'.join(f'{title}:\n\n{format_profile(profile)}'
                       for title, profile in profiles.items())


def write_results(records: List[dict],
                  out_dir: str,
                  profiles: Optional[Dict[str, dict]] = None
                  ) -> Dict[str, str]:
    """Write ``benchmark.json``, ``benchmark.md`` and ``benchmark.png``;
    ``profiles`` are titled :func:`format_profile` tables."""
    paths = {
        ext: osp.join(out_dir, f'benchmark.{ext}')
        for ext in ('json', 'md', 'png')
    }
    with open(paths['json'], 'w') as f:
        json.dump(dict(records=records, profiles=profiles), f, indent=2)
    table = format_table(records)
    if profiles:
        table += '\n\n' + format_profiles(profiles)
    with open(paths['md'], 'w') as f:
        f.write(table + '\n')
    plot_ratios(records, paths['png'])
    return paths
