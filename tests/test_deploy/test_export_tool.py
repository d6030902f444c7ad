"""tools/deployment/export.py writes checked files or fails in one line
with exit code 2, leaving nothing at --out."""
import pytest
from tests.tool_runner import assert_ok, assert_one_line_error, run

TINY_CONFIG = """
custom_imports = dict(imports=['mmsar'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='SARResNet', depth=18, stem_channels=16,
                  base_channels=16, mask_grid=(4, 4, 2)))
"""
TOOL = 'tools/deployment/export.py'


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'tiny.py'
    path.write_text(TINY_CONFIG)
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    'backend, name, extra',
    [('onnxruntime', 'sar.onnx', []),
     ('openvino', 'dense.xml', ['--dense']),
     ('openvino', 'sar.onnx', ['--residual-scatter', 'update'])])
def test_export_tool_writes_a_checked_file(config, tmp_path, backend, name,
                                           extra):
    out = tmp_path / name
    result = run(TOOL, config, '--shape', 64, 64, '--backend', backend,
                 '--out', out, *extra)
    assert_ok(result)
    assert 'relative max error vs torch' in result.stdout
    error = float(result.stdout.rsplit(': ', 1)[1])
    assert error <= 1e-4
    assert out.stat().st_size > 0
    if name.endswith('.xml'):
        assert out.with_suffix('.bin').stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ['tiny.py', name] + (['dense.bin'] if name.endswith('.xml') else []))
    if 'update' in extra:
        import onnx
        assert not [
            a for node in onnx.load(str(out)).graph.node for a in node.attribute
            if a.name == 'reduction'
        ]


@pytest.mark.parametrize('args, fragments', [
    (['--backend', 'tensorrt'], ['unsupported backend', 'tensorrt']),
    (['--backend', 'onnxruntime', '--shape', 16, 64], ['16x64',
                                                       'cannot be served']),
])
def test_export_tool_rejects_bad_input(config, tmp_path, args, fragments):
    out = tmp_path / 'model.onnx'
    defaults = ['--shape', 64, 64] if '--shape' not in args else []
    result = run(TOOL, config, *defaults, *args, '--out', out)
    assert result.returncode == 2
    assert_one_line_error(result, *fragments)
    assert not out.exists()


def test_export_tool_names_a_missing_engine(config, tmp_path):
    """An engine package that cannot be imported (shadowed here)."""
    shadow = tmp_path / 'shadow' / 'openvino'
    shadow.mkdir(parents=True)
    (shadow / '__init__.py').write_text('raise ImportError("no openvino")\n')
    out = tmp_path / 'model.xml'
    result = run(TOOL, config, '--shape', 64, 64, '--backend', 'openvino',
                 '--out', out, env={'PYTHONPATH': str(shadow.parent)})
    assert result.returncode == 2
    assert_one_line_error(result, "engine package 'openvino'",
                          'not installed')
    assert not out.exists()
