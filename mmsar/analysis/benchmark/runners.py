"""What the benchmark times: picklable descriptions of the models, built
where they run (in the benchmark's process or a worker of its own), and
how one forward is timed."""
import time
from typing import Callable, NamedTuple, Union

import torch
import torch.nn as nn

from ...deploy.engines import EngineBackbone
from ...deploy.export import ENGINE_RUNS

# Pause (s) after each timed forward. torch's OpenMP workers keep spinning
# for about 10 ms after a parallel region (measured here: 7.6 ms of CPU in
# the 200 ms after a 2-thread conv, none after a 10 ms pause); without the
# pause that spin runs into the next model's time, an engine's on 2 cores.
SETTLE_SECONDS = 0.02


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_call(run: Callable[[], object],
              device: torch.device = torch.device('cpu')) -> float:
    """Latency (ms) of one call of ``run`` (synchronised on CUDA), then a
    ``SETTLE_SECONDS`` pause."""
    _synchronize(device)
    start = time.perf_counter()
    run()
    _synchronize(device)
    latency = (time.perf_counter() - start) * 1e3
    time.sleep(SETTLE_SECONDS)
    return latency


class TorchRunner(NamedTuple):
    """A torch model, run as it is."""
    model: nn.Module

    def build(self) -> Callable:
        return self.model


class EngineRunner(NamedTuple):
    """An exported model run by one of :data:`ENGINE_RUNS`."""
    path: str
    backend: str
    num_threads: int

    def build(self) -> Callable:
        engine, precision, _ = ENGINE_RUNS[self.backend]
        return EngineBackbone(self.path, engine, self.num_threads, precision)


Runner = Union[TorchRunner, EngineRunner]
