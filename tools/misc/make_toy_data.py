"""Generate the toy COCO, VOC and classification sets (see
:mod:`mmsar.datasets.toy_data`)."""
import argparse

from mmsar.datasets import ensure_toy_data, generate_toy_data


def parse_args():
    parser = argparse.ArgumentParser(
        description='Generate the deterministic toy datasets')
    parser.add_argument(
        '--out', default='data/toy', help='output root (replaced if present)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--keep-valid',
        action='store_true',
        help='keep existing data that matches its manifest')
    return parser.parse_args()


def main():
    args = parse_args()
    make = ensure_toy_data if args.keep_valid else generate_toy_data
    manifest = make(args.out, args.seed)
    for name, info in manifest['datasets'].items():
        print(f'{args.out}/{name}: {info["num_train"]} train + '
              f'{info["num_val"]} val images of {info["image_size"]}px')


if __name__ == '__main__':
    main()
