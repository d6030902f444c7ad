#!/usr/bin/env bash
# The `make demo` recipe, the whole method end to end on the toy COCO set:
# train a Faster R-CNN with a SAR-ResNet18 backbone and the SAR loss, test
# its checkpoint (COCO mAP), count its per-image backbone MACs on the
# validation images, draw its refined patches, time its patch-sparse
# backbone against the dense ResNet-18, and print a summary.
# Override CONFIG (and WORK_DIR) to demo another toy detection config with a
# SAR backbone; TRAIN_ARGS are extra tools/train.py arguments (e.g.
# "--cfg-options train_cfg.max_epochs=1") and BENCH_RUNS the timed rounds of
# the latency step.
set -euo pipefail

PYTHON=${PYTHON:-.venv/bin/python}
CONFIG=${CONFIG:-configs/faster_rcnn/faster-rcnn_sar-r18-g2s2a2-t0.5_fpn_1xb8-24e_toy-coco.py}
WORK_DIR=${WORK_DIR:-work_dirs/demo/$(basename "$CONFIG" .py)}
read -r -a TRAIN_ARGS <<< "${TRAIN_ARGS:-}"
BENCH_RUNS=${BENCH_RUNS:-30}

step() { printf '\n\033[1m[demo %s] %s\033[0m\n' "$1" "$2"; }

step 1/6 "toy data (data/toy, generated once)"
"$PYTHON" tools/misc/make_toy_data.py --keep-valid

step 2/6 "training $CONFIG"
"$PYTHON" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "${TRAIN_ARGS[@]}"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")

step 3/6 "testing $CHECKPOINT"
"$PYTHON" tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR/test"

step 4/6 "per-image backbone MACs over the validation set"
"$PYTHON" tools/analysis/get_flops.py "$CONFIG" "$CHECKPOINT" \
    --num-images 100 --out-dir "$WORK_DIR/flops"

step 5/6 "refined patches of four validation images"
mapfile -t IMAGES < <(ls data/toy/coco/val/*.jpg | head -n 4)
"$PYTHON" tools/analysis/visualize_masks.py "$CONFIG" "$CHECKPOINT" \
    "${IMAGES[@]}" --out "$WORK_DIR/masks"

step 6/6 "CPU latency of the patch-sparse backbone vs dense ResNet-18"
RATE=$("$PYTHON" -c "import json; print(round(json.load(open('$WORK_DIR/flops/flops.json'))['activation_rate']['mean'], 3))")
"$PYTHON" tools/analysis/benchmark.py "$CONFIG" --checkpoint "$CHECKPOINT" \
    --rate "$RATE" --threads 1 --shape 224 224 --runs "$BENCH_RUNS" \
    --out-dir "$WORK_DIR/benchmark"

"$PYTHON" tools/misc/demo_summary.py "$CONFIG" "$WORK_DIR"
