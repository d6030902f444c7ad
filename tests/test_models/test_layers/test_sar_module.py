import pytest

from mmsar.models.layers import BasicBlock
from mmsar.models.layers.sar_module import SARModule


@pytest.mark.parametrize('kwargs, message', [
    (dict(branches='x'), "Invalid branches='x': expected one of"),
    (dict(mask_mode='random'), "Invalid mask_mode='random': expected one"),
    (dict(base_stride=3), 'Invalid base_stride=3: expected 2 or 4.'),
    (dict(num_blocks=1), 'Invalid num_blocks=1: expected at least 2'),
])
def test_invalid_arguments_name_the_value(kwargs, message):
    args = dict(block=BasicBlock, in_channels=16, out_channels=16,
                num_blocks=3, groups=2, grid=4)
    args.update(kwargs)
    with pytest.raises(ValueError) as error:
        SARModule(**args)
    assert message in str(error.value)
