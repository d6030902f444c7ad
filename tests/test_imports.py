import torch


def test_openmmlab_stack_imports():
    import mmcv
    import mmcv.ops
    import mmdet
    import mmpretrain.models  # noqa: F401
    import mmseg

    import mmsar

    assert mmcv.__version__ == '2.1.0'
    assert mmdet.__version__ == '3.3.0'
    assert mmseg.__version__ == '1.2.2'
    assert mmsar.__version__
    # the compiled CPU ops work
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.]])
    _, keep = mmcv.ops.nms(boxes, torch.tensor([0.9, 0.8]), iou_threshold=0.5)
    assert keep.tolist() == [0]
