#!/usr/bin/env bash
# The `make demo` recipe: train the toy model, then test its last checkpoint.
# Override CONFIG (and WORK_DIR) to demo another config.
set -euo pipefail

PYTHON=${PYTHON:-.venv/bin/python}
CONFIG=${CONFIG:-configs/toy/faster_rcnn_r18_toy.py}
WORK_DIR=${WORK_DIR:-work_dirs/demo/$(basename "$CONFIG" .py)}

"$PYTHON" tools/misc/make_toy_data.py --keep-valid
"$PYTHON" tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
"$PYTHON" tools/test.py "$CONFIG" "$(cat "$WORK_DIR/last_checkpoint")" \
    --work-dir "$WORK_DIR"
