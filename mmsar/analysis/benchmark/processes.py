"""Each model timed alone in a process of its own: the cross-check of the
interleaved timing (:func:`~.timing.time_interleaved`).

In one process the models share the heap and torch's OpenMP pool, and the
engines' thread pools live beside them. Here every model lives in a
spawned worker process; the workers take turns, each timing a block of
forwards while the others wait on their pipes, so only one model computes
at a time and none shares a pool or a heap with another (a pool that
spins after a call still gets the settle pause after every forward, as in
the interleaved timing). Turns are split into rounds so that slow phases
of the machine fall on every model.
"""
import multiprocessing
from collections import defaultdict
from typing import Callable, Dict, List

import torch

from ...deploy.malloc import freed_memory_kept, keep_freed_memory
from .runners import Runner, time_call

# Turns of each worker when every model runs in its own process.
PROCESS_ROUNDS = 3


def time_forwards(model: Callable, images: torch.Tensor, untimed: int,
                  timed: int) -> List[float]:
    """Latencies (ms) of ``timed`` forwards after ``untimed`` ones, each
    followed by a ``SETTLE_SECONDS`` pause (CPU)."""
    times = [time_call(lambda: model(images)) for _ in range(untimed + timed)]
    return times[untimed:]


def _serve(conn, runner, images: torch.Tensor, num_threads: int,
           keep_memory: bool) -> None:
    """Worker: build the runner, answer 'ready' (or the error), then time
    each requested block (untimed, timed) until it receives None."""
    try:
        if keep_memory:
            keep_freed_memory()
        torch.set_num_threads(num_threads)
        model = runner.build()
    except Exception as error:  # reported by the parent
        conn.send(f'{type(error).__name__}: {error}')
        return
    conn.send('ready')
    with torch.inference_mode():
        for untimed, timed in iter(conn.recv, None):
            conn.send(time_forwards(model, images, untimed, timed))


def _receive(name: str, process, conn):
    """The worker's next message; RuntimeError if it has died."""
    try:
        return conn.recv()
    except EOFError:
        process.join(timeout=30)
        raise RuntimeError(f'{name} exited in its process with code '
                           f'{process.exitcode}') from None


def _blocks(runs: int, rounds: int) -> List[int]:
    """``runs`` split into at most ``rounds`` nearly equal blocks."""
    rounds = max(1, min(rounds, runs))
    return [runs // rounds + (i < runs % rounds) for i in range(rounds)]


def time_in_processes(runners: Dict[str, Runner],
                      images: torch.Tensor,
                      num_threads: int,
                      runs: int,
                      warmup: int,
                      rounds: int = PROCESS_ROUNDS) -> Dict[str, list]:
    """Time every runner in a spawned process of its own, the processes
    taking turns in ``rounds`` blocks of forwards (``warmup`` untimed ones
    open each worker's first block).

    Args:
        runners (dict): :data:`~.runners.Runner` by name; each is pickled
            to its worker.
        images (Tensor): The input of every forward.
        num_threads (int): torch's threads in each worker (engines take
            theirs from the runner).
        runs (int): Timed forwards of each runner.
        warmup (int): Untimed forwards of each runner first.
        rounds (int): Turns of each worker.

    Returns:
        dict: The ``runs`` latencies (ms) of each runner.

    Raises:
        RuntimeError: A runner could not be built in its process, or its
            process died.
    """
    context = multiprocessing.get_context('spawn')
    workers = {}
    try:
        for name, runner in runners.items():
            conn, child_conn = context.Pipe()
            process = context.Process(
                target=_serve,
                args=(child_conn, runner, images, num_threads,
                      freed_memory_kept()),
                daemon=True)
            process.start()
            child_conn.close()  # so that a dead worker reads as EOF here
            workers[name] = (process, conn)
        for name, (process, conn) in workers.items():
            status = _receive(name, process, conn)
            if status != 'ready':
                raise RuntimeError(f'{name} failed in its process: {status}')
        times = defaultdict(list)
        for index, block in enumerate(_blocks(runs, rounds)):
            for name, (process, conn) in workers.items():
                conn.send((warmup if index == 0 else 0, block))
                times[name] += _receive(name, process, conn)
        return dict(times)
    finally:
        for process, conn in workers.values():
            try:
                conn.send(None)
            except OSError:  # the worker has gone already
                pass
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
