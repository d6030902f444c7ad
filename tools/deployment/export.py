"""Export a SAR backbone, or the dense ResNet it replaces, for ONNX Runtime
or OpenVINO on the CPU.

The SAR backbone is exported after ``switch_to_sparse()`` with its exact,
data-dependent sparse path (one file serves every input of the shape). The
export is run once in the engine and compared with torch before it is
written; errors are one line and exit with code 2, leaving nothing at
--out.

Examples:
    python tools/deployment/export.py benchmarks/configs/sar-r50_g2s2a2b1.py \
--shape 224 224 --backend onnxruntime --out work_dirs/sar_r50.onnx
    python tools/deployment/export.py CONFIG --dense --shape 800 1344 \
--backend openvino --out work_dirs/r50.xml
    # for OpenVINO in bf16 (its default on CPUs with bf16):
    python tools/deployment/export.py CONFIG --shape 800 1344 \
--backend openvino --residual-scatter update --out work_dirs/sar_r50.xml
"""
import argparse
import sys

from mmsar.analysis.benchmark import build_sar_backbone, dense_resnet
from mmsar.analysis.model_inputs import AnalysisInputError
from mmsar.deploy.engines import BACKENDS, EngineError, import_engine
from mmsar.deploy.export import OPSET, export_backbone
from mmsar.deploy.sparse_patches import RESIDUAL_SCATTERS


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config with a SAR model.backbone')
    parser.add_argument('--checkpoint', help='model or backbone weights')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        required=True,
        metavar=('H', 'W'),
        help='input size the export serves')
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument(
        '--backend', required=True, help=f'one of {", ".join(BACKENDS)}')
    parser.add_argument(
        '--out',
        required=True,
        help='output file: ONNX, or OpenVINO IR when it ends in .xml '
        '(openvino only)')
    parser.add_argument(
        '--dense',
        action='store_true',
        help='export the dense ResNet the SAR backbone replaces')
    parser.add_argument('--opset', type=int, default=OPSET)
    parser.add_argument(
        '--residual-scatter',
        choices=RESIDUAL_SCATTERS,
        default='add',
        help='how SAR refine blocks add their residuals: add (one reducing '
        'ScatterND, fastest in ONNX Runtime and OpenVINO f32) or update '
        '(Gather, Add, ScatterND; much faster in OpenVINO bf16)')
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        import_engine(args.backend)
        if args.out.endswith('.xml') and args.backend != 'openvino':
            raise EngineError(f'--out {args.out}: an .xml IR is for the '
                              f'openvino backend, not {args.backend}')
        sar = build_sar_backbone(args.config, args.checkpoint)
        if args.dense:
            model = dense_resnet(sar)
        else:
            model = sar
            model.switch_to_sparse()
        error = export_backbone(model, args.shape, args.backend, args.out,
                                args.batch, args.opset,
                                args.residual_scatter)
    except (AnalysisInputError, EngineError) as error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)
    print(f'wrote {args.out} ({args.backend}, input {args.batch}x3x'
          f'{args.shape[0]}x{args.shape[1]}); relative max error vs torch: '
          f'{error:.2e}')


if __name__ == '__main__':
    main()
