#!/usr/bin/env bash
# One sitting of a Table-1 seed on a GPU machine, run there from the repository root:
#
#   bash scripts/table1_gpu_sitting.sh SECONDS BACK
#
# `scripts/table1_campaign.sh to-gpu SEED` prepares .gpu/ here (the seed's run folder as a bundle,
# MNIST, the driver's options; copy it into the GPU machine's checkout) and `from-gpu BACK` takes
# the result back from BACK, the folder this script writes for the return. In SECONDS of wall time,
# this script:
#   1. prints the GPU and torch, runs the CUDA path tests (parity_tests/test_torch_paths.py -k cuda)
#      and `python -m port_torch.bench --device cuda`: the project's CUDA evidence;
#   2. trains the seed with the campaign's driver options (`python -m port_torch.table1 --device
#      cuda`) until about 90 s before the end, paused cleanly by --time-budget;
#   3. rewrites the seed's checkpoints' generator states for the CPU (port_torch.move_streams), so
#      the campaign's pinned code resumes them, and packs what changed into BACK/from_gpu/ (at most
#      4 pieces of 15 MiB) beside the sitting's log, BACK/sitting.log.
# A step that fails is reported in the log and the next still runs, so a failed test or bench
# costs no training. GAN2014_SITTING_DEVICE=cpu runs steps 2-3 on the CPU (a dry run of the moves).
set -uo pipefail

TOTAL=${1:?usage: table1_gpu_sitting.sh SECONDS BACK}
BACK=${2:?usage: table1_gpu_sitting.sh SECONDS BACK (the folder to bring back)}
GPU=${GAN2014_GPU_FOLDER:-.gpu}
DEVICE=${GAN2014_SITTING_DEVICE:-cuda}
PYTHON=${PYTHON:-python3}
START=$(date +%s)
LOG=$BACK/sitting.log
# The margin after training: the last validation can overrun the budget a little, then the
# streams are rewritten and the bundle packed.
MARGIN_S=90

export PYLEARN2_DATA_PATH=$GPU/data PYTHONUNBUFFERED=1
# shellcheck source=/dev/null
source "$GPU/sitting.env"    # SEED, DRIVER_OPTIONS and SOURCE_COMMIT, written by to-gpu
# Outside a git checkout the driver log names the commit to-gpu recorded.
export GAN2014_SOURCE_COMMIT=${SOURCE_COMMIT:-}
mkdir -p "$BACK"

step() {  # step NAME COMMAND...: run it into the log, say how it ended and how long it took
    local name=$1 began rc=0
    shift
    began=$(date +%s)
    echo "=== $name: $*" >> "$LOG"
    "$@" >> "$LOG" 2>&1 || rc=$?
    echo "=== $name: exit $rc after $(( $(date +%s) - began )) s" >> "$LOG"
    return $rc
}

if [[ $DEVICE == cuda ]]; then
    step gpu nvidia-smi
    step torch "$PYTHON" -c 'import torch; print(torch.__version__, torch.version.cuda,
torch.cuda.get_device_name(0))'
    step cuda-tests timeout 240 "$PYTHON" -m pytest -q -p no:cacheprovider \
        parity_tests/test_torch_paths.py -k cuda
    step bench timeout 150 "$PYTHON" -m port_torch.bench --device cuda
fi
train() {  # train [--path P]: the seed until the budget, from the bundle the first time
    local budget=$(( START + TOTAL - MARGIN_S - $(date +%s) )) unpack=()
    # Tests and bench that overran leave no time: the driver then unpacks and pauses at once.
    (( budget < 0 )) && budget=0
    [[ -d $GPU/runs ]] || unpack=(--unpack "$GPU/to_gpu")
    # The budget pauses the driver cleanly; the timeout only ends one that hangs, half the margin
    # later, so that the checkpoints it saved (every few epochs, each written whole) still go back.
    # shellcheck disable=SC2086  # DRIVER_OPTIONS is a list of words
    step train timeout -k 10 $(( budget + MARGIN_S / 2 )) \
        "$PYTHON" -m port_torch.table1 --out "$GPU/runs" --seeds "$SEED" \
        --device "$DEVICE" $DRIVER_OPTIONS --time-budget "$budget" "${unpack[@]}" -q "$@"
}
train
rc=$?
# 0: the seed finished; 75: paused by the budget. Anything else (the CUDA-graph step, the default
# there, has never run on a GPU before; 124, a hang ended by the timeout): once more on the
# autograd path, from the last checkpoint, with what is left of the budget.
if (( rc != 0 && rc != 75 )); then
    train --path autograd
fi
step move-streams "$PYTHON" -m port_torch.move_streams --device cpu \
    "$GPU/runs/seed_$SEED/checkpoints"/epoch_*.npz
step pack "$PYTHON" -m port_torch.table1 --out "$GPU/runs" --no-train --pack "$BACK/from_gpu" \
    --piece-mib 15 --max-pieces 4
# The log names no folder of the GPU machine.
sed -i "s|$PWD/||g; s|$PWD|.|g; s|$BACK/||g" "$LOG"
echo "sitting done in $(( $(date +%s) - START )) s"
tail -n 25 "$LOG"
