import atexit
import warnings

import torch
import torch.distributed as dist
from mmengine.config import Config


def filter_upstream_warnings() -> None:
    """Hide the upstream warnings a user of mmsar cannot act on.

    mmengine resolves ``mmdet::`` / ``mmseg::`` / ``mmpretrain::`` config
    paths with ``pkg_resources``, importing and reloading it at each lookup,
    and setuptools warns at each of them that this API is deprecated.
    """
    warnings.filterwarnings(
        'ignore',
        message='pkg_resources is deprecated as an API',
        category=UserWarning)


def setup_cpu_distributed(cfg: Config) -> None:
    """Let a runner config train or test data-parallel without CUDA.

    mmengine initialises the process group after ``torch.cuda.set_device``
    and wraps the model in DDP with ``device_ids=[LOCAL_RANK]``, both of which
    fail on CPU. Without CUDA this selects the gloo backend and, for
    ``launcher='pytorch'`` (torchrun), initialises the process group itself
    and wraps the model without device ids. Does nothing when CUDA is
    available.
    """
    if torch.cuda.is_available():
        return
    cfg.merge_from_dict({'env_cfg.dist_cfg.backend': 'gloo'})
    if cfg.get('launcher', 'none') != 'pytorch' or dist.is_initialized():
        return
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    dist.init_process_group(backend='gloo')
    # after an error, torn down without waiting for the other ranks
    atexit.register(_destroy_process_group)


def _destroy_process_group() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def finish_distributed() -> None:
    """End a distributed run in step with the other ranks.

    Left to interpreter shutdown, or destroyed while a peer is already
    gone, gloo's connection threads sometimes abort a run that finished
    (``terminate called without an active exception``). Waits for every
    rank, then destroys the process group; does nothing when not
    distributed.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def build_runner(cfg: Config):
    """The runner of ``cfg`` as ``tools/train.py`` and ``tools/test.py`` use
    it: toy data checked (``ToyDataError`` if missing or corrupt), the
    config's default scope set, CPU-only distributed runs on gloo."""
    from mmengine.registry import RUNNERS, init_default_scope
    from mmengine.runner import Runner

    from mmsar.datasets import check_toy_data, find_toy_roots
    for root in find_toy_roots(cfg):
        check_toy_data(root)
    if cfg.get('default_scope') is not None:
        init_default_scope(cfg.default_scope)
    setup_cpu_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
