#!/usr/bin/env bash
# Create .venv with the pinned OpenMMLab stack on a CPU machine (Python 3.11).
#
# mmcv 2.1.0 has no wheels on PyPI, so it is built from its sdist once (about
# 6 minutes on 2 cores) and the wheel is cached per torch version in
# $MMSAR_CACHE (default ~/.cache/mmsar) so that later installs and fresh
# clones reuse it.
#
# Environment: TORCH_PINS (pip arguments for torch/torchvision, e.g. a CUDA
# build and its --index-url), MMCV_FIND_LINKS (install a prebuilt mmcv from
# this pip --find-links URL instead, e.g. OpenMMLab's wheels for CUDA).
set -euo pipefail

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
CACHE=${MMSAR_CACHE:-$HOME/.cache/mmsar}
TORCH_PINS=${TORCH_PINS:-"torch==2.14.1 torchvision==0.29.1"}
MMCV_VERSION=2.1.0

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"
$PIP install --quiet --upgrade pip
# setuptools 82 dropped pkg_resources, which mmcv's setup.py and mmengine's
# `mmdet::` config lookup import; torch wants >= 77.
$PIP install --quiet "setuptools>=77,<82" wheel ninja

log "installing $TORCH_PINS"
# shellcheck disable=SC2086
$PIP install --quiet $TORCH_PINS

# mmcv's compiled ops only work with the torch they were built against.
TORCH_VERSION=$($VENV/bin/python -c 'import torch; print(torch.__version__)')
WHEELS=$CACHE/wheels/torch-$TORCH_VERSION

# Its output (hundreds of lines of compiler and setuptools messages) goes to
# a log file, shown only when the build fails.
build_mmcv() {
    local work
    work=$(mktemp -d)
    $PIP download --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV_VERSION" -d "$work" &&
        tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work" &&
        # torch >= 2.10 headers need C++20; mmcv's setup.py hard-codes older
        # standards.
        sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' \
            "$work/mmcv-$MMCV_VERSION/setup.py" &&
        (cd "$work/mmcv-$MMCV_VERSION" &&
            MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
            "$OLDPWD/$VENV/bin/python" -m pip wheel --no-deps \
            --no-build-isolation . -w "$WHEELS") &&
        rm -rf "$work"
}

$PIP install --quiet opencv-python-headless
if [ -n "${MMCV_FIND_LINKS:-}" ]; then
    log "installing mmcv $MMCV_VERSION from $MMCV_FIND_LINKS"
    $PIP install --quiet "mmcv==$MMCV_VERSION" -f "$MMCV_FIND_LINKS"
else
    mkdir -p "$WHEELS"
    if ! ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
        $PIP install --quiet addict yapf packaging pyyaml Pillow "mmengine==0.10.7"
        MMCV_LOG=$WHEELS/mmcv-$MMCV_VERSION-build.log
        log "building mmcv $MMCV_VERSION with ops from source (about 6 minutes on 2 cores), log: $MMCV_LOG"
        if ! build_mmcv >"$MMCV_LOG" 2>&1; then
            tail -n 40 "$MMCV_LOG" >&2
            log "building mmcv failed; the full log is $MMCV_LOG"
            exit 1
        fi
    fi
    log "installing mmcv $MMCV_VERSION from $WHEELS"
    $PIP install --quiet "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl
fi

log "installing the OpenMMLab stack and mmsar"
$PIP install --quiet -r requirements.txt
$PIP install --quiet --no-deps --no-build-isolation -e .
log "done: $($VENV/bin/python -c 'import torch, mmcv, mmdet, mmseg, mmpretrain; print(f"torch {torch.__version__}, mmcv {mmcv.__version__}, mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmpretrain {mmpretrain.__version__}")')"
