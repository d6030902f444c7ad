import torch
import torch.distributed as dist
from mmengine.config import Config


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
