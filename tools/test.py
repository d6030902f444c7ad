"""Test a checkpoint with an mmdet, mmseg or mmpretrain config.

The config's ``default_scope`` selects the library whose modules are used.
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction

import mmsar  # noqa: F401  (mmsar modules and the checkpoint loading fix)
from mmsar.datasets import ToyDataError
from mmsar.deploy import ENGINE_RUNS, EngineError, ExportedBackbone
from mmsar.utils import build_runner, finish_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Test a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs and metrics '
        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--out', help='dump the predictions to this pickle file')
    parser.add_argument(
        '--show-dir',
        help='draw the predictions on the test images into this dir '
        '(relative to the work dir)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings in the config, e.g. '
        'test_dataloader.batch_size=1')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--backbone-engine',
        choices=list(ENGINE_RUNS),
        help='run the backbone exported to this CPU engine (a SAR backbone '
        'after switch_to_sparse()), exported once per input shape; '
        'openvino-bf16: OpenVINO in bf16, not exact')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def enable_visualization(cfg: Config, show_dir: str) -> None:
    """Make the library's visualization hook draw every test image into
    ``show_dir`` (relative to the work dir)."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        sys.exit('error: --show-dir needs a `visualization` hook in '
                 'default_hooks')
    out_dir = osp.abspath(osp.join(cfg.work_dir, show_dir))
    scope = cfg.get('default_scope')
    if scope == 'mmdet':
        hook.update(draw=True, test_out_dir=out_dir)
    elif scope == 'mmseg':
        # the visualizer's backends save to <out_dir>/vis_data/vis_image
        hook.update(draw=True, interval=1)
        cfg.visualizer.save_dir = out_dir
    elif scope == 'mmpretrain':
        hook.update(enable=True, interval=1, out_dir=out_dir)
    else:
        sys.exit(f'error: --show-dir is not supported for default_scope '
                 f'{scope!r}')


def run_backbone_in_engine(runner, checkpoint: str, engine_run: str) -> None:
    """Load ``checkpoint`` into the runner's model now and replace its
    backbone by an :class:`~mmsar.deploy.ExportedBackbone` for
    ``engine_run`` (a key of ``ENGINE_RUNS``)."""
    backend, precision, residual_scatter = ENGINE_RUNS[engine_run]
    runner.load_checkpoint(checkpoint, map_location='cpu')
    model = getattr(runner.model, 'module', runner.model)
    backbone = model.backbone.eval()
    if hasattr(backbone, 'switch_to_sparse'):
        backbone.switch_to_sparse()
    model.backbone = ExportedBackbone(
        backbone,
        backend,
        precision=precision,
        residual_scatter=residual_scatter)


def main():
    args = parse_args()
    for what, path in dict(
            config=args.config, checkpoint=args.checkpoint).items():
        if not osp.isfile(path):
            sys.exit(f'error: {what} file not found: {path}')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        sys.exit('error: --out must be a .pkl or .pickle file')

    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # work_dir priority: CLI > config > work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    # With --backbone-engine the checkpoint is loaded before the backbone
    # is exported, not by runner.test().
    cfg.load_from = None if args.backbone_engine else args.checkpoint

    if args.show_dir is not None:
        enable_visualization(cfg, args.show_dir)
    if args.out is not None:
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, (list, tuple)):
            evaluators = [evaluators]
        cfg.test_evaluator = [
            *evaluators,
            dict(type='mmengine.DumpResults', out_file_path=args.out)
        ]

    try:
        runner = build_runner(cfg)
        if args.backbone_engine is not None:
            run_backbone_in_engine(runner, args.checkpoint,
                                   args.backbone_engine)
    except (ToyDataError, EngineError) as e:
        sys.exit(f'error: {e}')
    runner.test()
    finish_distributed()


if __name__ == '__main__':
    main()
