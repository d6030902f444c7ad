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


def test_deploy_does_not_import_the_models():
    """The conversions depend on models one way: ``mmsar.deploy`` imports no
    module of ``mmsar.models`` (or of the packages above it), so the models
    can import it at module level without an import circle."""
    import ast
    from pathlib import Path

    import mmsar.deploy

    package = Path(mmsar.deploy.__file__).parent
    offenders = []
    for path in sorted(package.glob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [('.' * node.level) + (node.module or '')]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            offenders += [
                f'{path.name}: {name}' for name in names
                if name.startswith(('..models', 'mmsar.models', '...'))
                or name in ('..', 'mmsar')
            ]
    assert offenders == []
