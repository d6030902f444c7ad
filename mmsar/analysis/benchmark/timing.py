"""Latency of a SAR backbone against the dense ResNet it replaces.

Every model runs in one process, interleaved run by run so that load
changes hit all of them alike (or, as a cross-check, each alone in a
process of its own, :mod:`.processes`): the SAR backbone after
:meth:`~mmsar.models.SARResNet.switch_to_sparse` (per backend: torch, or
exported to ONNX Runtime / OpenVINO), the dense ResNet of the same depth
after the same torch deployment (:func:`mmsar.deploy.deploy_backbone`,
"optimised dense") or exported to each engine, and the stock eager
mmpretrain ResNet ("stock dense"). SAR masks stay learned and are
calibrated to chosen activation rates on the benchmark input
(:func:`calibrate_mask_rate`).
"""
import copy
import os.path as osp
import statistics
import tempfile
from collections import defaultdict
from typing import Callable, Dict, List, Sequence

import torch
import torch.nn as nn

from ...deploy.engines import check_precision, import_engine
from ...deploy.export import ENGINE_RUNS, export_onnx, relative_error
from ...utils.args import check_choice
from ..model_inputs import AnalysisInputError
from .models import DENSE, STOCK, calibrate_mask_rate
from .processes import time_in_processes
from .runners import EngineRunner, Runner, TorchRunner, time_call

BACKENDS = ('torch', ) + tuple(ENGINE_RUNS)
# How the models share the machine: 'interleaved', all in this process,
# round by round; 'processes', each alone in a worker process of its own.
ISOLATIONS = ('interleaved', 'processes')


def time_interleaved(runners: Dict[str, Callable], runs: int, warmup: int,
                     device: torch.device) -> Dict[str, list]:
    """Run every runner once per round, ``warmup + runs`` rounds, each
    followed by a ``SETTLE_SECONDS`` pause.

    Returns:
        dict: The ``runs`` timed latencies (ms) of each runner.
    """
    times = defaultdict(list)
    for round_index in range(warmup + runs):
        for name, run in runners.items():
            latency = time_call(run, device)
            if round_index >= warmup:
                times[name].append(latency)
    return dict(times)


def sar_name(rate: float, backend: str) -> str:
    return f'SAR@{rate:g} {backend}'


def dense_name(backend: str) -> str:
    return DENSE if backend == 'torch' else f'dense {backend}'


def _torch_models(backbones: Dict[str, nn.Module], rates: Sequence[float],
                  images: torch.Tensor) -> Dict[str, nn.Module]:
    """The torch models of a benchmark, by runner name (on the CPU)."""
    models = {STOCK: backbones[STOCK], DENSE: backbones[DENSE]}
    for rate in rates:
        sar = copy.deepcopy(backbones['sar'])
        calibrate_mask_rate(sar, images, rate)
        sar.switch_to_sparse()
        models[sar_name(rate, 'torch')] = sar
    return models


def _export_all(models: Dict[str, nn.Module], rates: Sequence[float],
                images: torch.Tensor, engines: Sequence[str],
                work_dir: str) -> Dict[tuple, str]:
    """ONNX files of the SAR models, by (model name, residual scatter) for
    the scatters that ``engines`` use, and of the stock dense ResNet (the
    engines fold its norms themselves), by (model name, None)."""
    files = {(STOCK, None): osp.join(work_dir, 'dense.onnx')}
    export_onnx(models[STOCK], images, files[(STOCK, None)])
    for scatter in {ENGINE_RUNS[e][2] for e in engines}:
        for rate in rates:
            key = (sar_name(rate, 'torch'), scatter)
            files[key] = osp.join(work_dir, f'sar_{rate:g}_{scatter}.onnx')
            export_onnx(models[key[0]], images, files[key],
                        residual_scatter=scatter)
    return files


def check_backends(backends: Sequence[str]) -> None:
    """Raise AnalysisInputError for an unknown backend, EngineError for an
    engine that is not installed or cannot run its precision here."""
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        raise AnalysisInputError(f'unsupported backend(s) {unknown}; '
                                 f'expected some of {list(BACKENDS)}')
    for backend in set(backends) - {'torch'}:
        engine, precision, _ = ENGINE_RUNS[backend]
        import_engine(engine)
        check_precision(engine, precision)


def _engine_runner(files: Dict[tuple, str], model: str, backend: str,
                   num_threads: int) -> EngineRunner:
    """The engine run of ``backend`` on the export of ``model``."""
    scatter = ENGINE_RUNS[backend][2]
    path = files[(model, None if model == STOCK else scatter)]
    return EngineRunner(path, backend, num_threads)


def _runners(models: Dict[str, nn.Module], files: Dict[tuple, str],
             engines: Sequence[str], rates: Sequence[float],
             num_threads: int) -> Dict[str, Runner]:
    """Every model timed at one thread count, by runner name: the torch
    ``models`` and, per engine run, SAR at each rate and the dense ResNet."""
    runners = {k: TorchRunner(m) for k, m in models.items()}
    for backend in engines:
        for rate in rates:
            runners[sar_name(rate, backend)] = _engine_runner(
                files, sar_name(rate, 'torch'), backend, num_threads)
        runners[dense_name(backend)] = _engine_runner(files, STOCK, backend,
                                                      num_threads)
    return runners


def _runner(model: Callable, images: torch.Tensor) -> Callable:
    return lambda: model(images)


def benchmark(backbones: Dict[str, nn.Module],
              rates: Sequence[float],
              threads: Sequence[int],
              shape: Sequence[int] = (224, 224),
              batch: int = 1,
              device: str = 'cpu',
              runs: int = 30,
              warmup: int = 5,
              backends: Sequence[str] = ('torch', ),
              isolation: str = 'interleaved') -> List[dict]:
    """Median latencies and ratios of the sparse SAR backbone.

    Args:
        backbones (dict): From :func:`build_backbones`.
        rates (Sequence[float]): Activation rates to calibrate the masks
            to, each in [0, 1].
        threads (Sequence[int]): Thread counts of torch and the engines.
        shape (Sequence[int]): Input (H, W).
        batch (int): Batch size.
        device (str): ``'cpu'`` or ``'cuda'`` (torch only, interleaved).
        runs (int): Timed rounds; warm-up rounds come first.
        backends (Sequence[str]): Any of ``torch``, ``onnxruntime``,
            ``openvino`` (f32) and ``openvino-bf16`` (OpenVINO's bf16
            inference, not exact: compared with f32 torch in
            ``max_rel_err``); SAR and the dense ResNet run on each.
        isolation (str): ``'interleaved'``: every model in this process,
            run by run (:func:`time_interleaved`); ``'processes'``: each
            model alone in a worker process of its own, the workers taking
            turns (:func:`~.processes.time_in_processes`), the
            cross-check.

    Returns:
        list[dict]: One record per (threads, rate): ``ms`` (median per
        runner), ``sar_ms`` / ``sar_backend`` (the fastest SAR backend),
        ``best_dense_ms`` / ``best_dense`` (the fastest dense runner but
        the stock one), ``ratio_vs_best_dense``; the same among the f32
        backends only (``f32_sar_backend``, ``f32_best_dense``,
        ``ratio_f32_vs_best_f32_dense``); the fastest f32 SAR against
        torch: ``ratio_vs_dense`` (optimised dense) and ``ratio_vs_stock``;
        and, for the engines, ``max_rel_err`` of each SAR runner against
        torch.
    """
    check_backends(backends)
    check_choice('isolation', isolation, ISOLATIONS)
    engines = [b for b in backends if b != 'torch']
    if device != 'cpu' and (engines or isolation != 'interleaved'):
        raise AnalysisInputError(
            f'only interleaved torch models run on {device}; got backends '
            f'{list(backends)} and isolation {isolation!r}')
    images = torch.randn(batch, 3, *shape)
    models = _torch_models(backbones, rates, images)
    with tempfile.TemporaryDirectory() as work_dir:
        files = (_export_all(models, rates, images, engines, work_dir)
                 if engines else {})
        with torch.inference_mode():
            references = {
                r: models[sar_name(r, 'torch')](images)
                for r in rates
            }
        if 'torch' not in backends:
            models = {STOCK: models[STOCK]}
        device = torch.device(device)
        models = {k: m.to(device) for k, m in models.items()}
        records = []
        for num_threads in threads:
            torch.set_num_threads(num_threads)
            runners = _runners(models, files, engines, rates, num_threads)
            built = {k: r.build() for k, r in runners.items()}
            errors = {
                sar_name(rate, backend): relative_error(
                    built[sar_name(rate, backend)](images), references[rate])
                for backend in engines for rate in rates
            }
            if isolation == 'processes':
                del built  # the engines' pools, before the workers start
                times = time_in_processes(runners, images, num_threads, runs,
                                          warmup)
            else:
                x = images.to(device)
                with torch.inference_mode():
                    times = time_interleaved(
                        {k: _runner(m, x)
                         for k, m in built.items()}, runs, warmup, device)
            medians = {k: statistics.median(v) for k, v in times.items()}
            records += [
                _record(medians, errors, backends,
                        dict(threads=num_threads, rate=rate,
                             shape=list(shape), batch=batch,
                             device=device.type, runs=runs,
                             isolation=isolation))
                for rate in rates
            ]
    return records


def is_exact(backend: str) -> bool:
    """The backend computes in f32, where SAR equals its torch forward."""
    return backend == 'torch' or ENGINE_RUNS[backend][1] == 'f32'


def _record(medians: Dict[str, float], errors: Dict[str, float],
            backends: Sequence[str], setting: dict) -> dict:
    """One benchmark record (see :func:`benchmark`) from the medians."""
    rate, batch = setting['rate'], setting['batch']
    sar = {b: medians[sar_name(rate, b)] for b in backends}
    dense = {dense_name(b): medians[dense_name(b)] for b in backends}
    sar_backend = min(sar, key=sar.get)
    best_dense = min(dense, key=dense.get)
    sar_ms = sar[sar_backend]
    f32_sar = min((b for b in backends if is_exact(b)), key=sar.get)
    f32_dense = min((dense_name(b) for b in backends if is_exact(b)),
                    key=dense.get)
    record = dict(
        setting,
        ms={
            **{sar_name(rate, b): ms for b, ms in sar.items()},
            **dense, STOCK: medians[STOCK]
        },
        sar_backend=sar_backend,
        sar_ms=sar_ms,
        best_dense=best_dense,
        best_dense_ms=dense[best_dense],
        stock_ms=medians[STOCK],
        ratio_vs_best_dense=sar_ms / dense[best_dense],
        f32_sar_backend=f32_sar,
        f32_best_dense=f32_dense,
        ratio_f32_vs_best_f32_dense=sar[f32_sar] / dense[f32_dense],
        ratio_vs_stock=sar[f32_sar] / medians[STOCK],
        images_per_s=batch * 1e3 / sar_ms,
        dense_images_per_s=batch * 1e3 / dense[best_dense],
        max_rel_err={
            b: errors[sar_name(rate, b)]
            for b in backends if b != 'torch'
        })
    if DENSE in medians:
        record['dense_ms'] = medians[DENSE]
        record['ratio_vs_dense'] = sar[f32_sar] / medians[DENSE]
    return record
