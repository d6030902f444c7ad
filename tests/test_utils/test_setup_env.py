import torch.distributed as dist

from mmsar.utils import finish_distributed


def test_finish_distributed_destroys_the_group(tmp_path):
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    finish_distributed()
    assert not dist.is_initialized()


def test_finish_distributed_without_a_group_does_nothing():
    assert not dist.is_initialized()
    finish_distributed()
    assert not dist.is_initialized()
