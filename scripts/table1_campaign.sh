#!/usr/bin/env bash
# The Table-1 campaign on a CPU machine: seeds 0, 1, 2 of yaml_experiments/mnist.yaml, 2,500 epochs
# each, trained in the background across many sittings by `python -m port_torch.table1`.
#
#   scripts/table1_campaign.sh start [REV]    pin the code: a clone of this repository at REV (a
#                                             tag or commit; default: the campaign's commit,
#                                             PINNED below), with its own .git so it outlives this
#                                             checkout, a venv and an MNIST copy, all inside the
#                                             campaign folder
#   scripts/table1_campaign.sh resume UNTIL   train in the background (nice 19) until UNTIL (any
#                                             `date -d` time, e.g. 22:55: a clock time already past
#                                             today means tomorrow); the driver pauses cleanly
#                                             before an epoch it could not finish
#   scripts/table1_campaign.sh status         epochs done and best validation per seed; running?
#   scripts/table1_campaign.sh land           copy the small records into results/table1/ of this
#                                             checkout (never checkpoints or data)
#   scripts/table1_campaign.sh finish         for every seed that reached its last epoch: the test
#                                             Parzen of its best-by-validation and final
#                                             checkpoints and the summary table (this checkout's
#                                             code and .venv), its released generator, figures
#                                             and learning curves; then land
#   scripts/table1_campaign.sh to-gpu SEED    a sitting of SEED on a GPU machine: its run folder as
#                                             a bundle, MNIST and the driver's options in .gpu/
#                                             of this checkout (copy it there, then run
#                                             scripts/table1_gpu_sitting.sh); the lanes wait
#   scripts/table1_campaign.sh from-gpu DIR   merge what the sitting brought back (DIR holds
#                                             from_gpu/ and sitting.log) into the run folder
#
# The campaign folder is $GAN2014_CAMPAIGN (default: gan2014-table1 in the home directory), outside
# any work tree, so later commits cannot change a run half-way; the driver log names the commit.
#
# Lanes (measured with `python -m port_torch.bench_setups`, REPRODUCING.md): seeds 0 and 1 train
# side by side with one torch thread each; seed 2 trains alone with two threads once both are done.
# A seed keeps its thread count for its whole life: the float32 sums of a matrix product split
# over 1 or 2 threads round differently, and a resumed seed must continue bit for bit.
set -euo pipefail

CAMPAIGN=${GAN2014_CAMPAIGN:-$HOME/gan2014-table1}
CODE=$CAMPAIGN/code
VENV=$CAMPAIGN/venv
RUNS=$CAMPAIGN/runs
LOGS=$CAMPAIGN/logs
PY=$VENV/bin/python
# The commit every seed of the campaign trains with (tagged table1-campaign-v1 where it was made).
PINNED=a0471b34488d542a8d8b1130733b928620b8e442
AWAY=$CAMPAIGN/seed_on_gpu       # holds the seed whose sitting on a GPU machine is not back yet
# The driver's options for every seed (REPRODUCING.md §3: validation every 50 epochs).
DRIVER_OPTIONS=(--epochs 2500 --valid-every 50 --save-every 10 --monitor-every 10 --device cpu -q)
REPO=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "table1_campaign: $*" >&2; exit 2; }
# shellcheck source=campaign_common.sh
source "$REPO/scripts/campaign_common.sh"

campaign_running() { pgrep -f "port_torch.table1 --out $RUNS" > /dev/null; }

seed_state() {  # finished | training | new
    local status=$RUNS/seed_$1/status.json
    if [[ -f $status ]] && grep -q '"state": "finished"' "$status"; then echo finished
    elif [[ -d $RUNS/seed_$1 ]]; then echo training
    else echo new; fi
}

cmd_start() {
    local rev=${1:-$PINNED}
    [[ -e $CODE ]] && die "$CODE exists already: the campaign is pinned to $(git -C "$CODE" rev-parse HEAD)"
    clone_pinned "$REPO" "$CODE" "$rev"
    mkdir -p "$LOGS"
    pin_environment "$CODE" "$VENV" "$CAMPAIGN" "$REPO"
    echo "pinned $(git -C "$CODE" rev-parse HEAD) ($rev)" | tee -a "$LOGS/campaign.log"
}

# One seed until the deadline; 75 from the driver means "paused, run it again".
train_seed() {
    local seed=$1 threads=$2 deadline=$3
    local budget=$(( deadline - $(date +%s) ))
    (( budget > 120 )) || return 75
    echo "$(date -u '+%F %T') seed $seed: ${threads} thread(s), budget ${budget} s" >> "$LOGS/campaign.log"
    local rc=0
    (cd "$CODE" && PYLEARN2_DATA_PATH=$CAMPAIGN/data nice -n 19 "$PY" -m port_torch.table1 \
        --out "$RUNS" --seeds "$seed" --threads "$threads" --time-budget "$budget" \
        "${DRIVER_OPTIONS[@]}" >> "$LOGS/seed_$seed.log" 2>&1) || rc=$?
    echo "$(date -u '+%F %T') seed $seed: exit $rc" >> "$LOGS/campaign.log"
    return $rc
}

lanes() {
    local deadline=$1 pids=()
    # Phase 1: seeds 0 and 1 side by side (the first creates the run folder's manifest before
    # the second starts).
    for seed in 0 1; do
        if [[ $(seed_state $seed) != finished ]]; then
            (( ${#pids[@]} )) && sleep 20
            train_seed $seed 1 "$deadline" & pids+=($!)
        fi
    done
    local rc=0
    for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
    # Phase 2: seed 2 alone, both cores, once 0 and 1 are finished.
    if [[ $(seed_state 0) == finished && $(seed_state 1) == finished \
          && $(seed_state 2) != finished ]]; then
        train_seed 2 2 "$deadline" || rc=1
    fi
    return $rc
}

cmd_resume() {
    local until=${1:?usage: resume UNTIL}
    [[ -d $CODE ]] || die "no pinned code in $CODE: run 'start' first"
    [[ -f $AWAY ]] && die "seed $(cat "$AWAY") is on a GPU machine: 'from-gpu DIR' first (or remove $AWAY to forget that sitting)"
    local deadline
    deadline=$(deadline_of "$until") || exit 2
    if campaign_running; then
        die "the campaign is already running"
    fi
    mkdir -p "$LOGS"
    nohup bash "$0" _lanes "$deadline" > /dev/null 2>&1 &
    echo "campaign resumed in the background until $(date -d "@$deadline"); logs in $LOGS"
}

cmd_status() {
    if [[ ! -d $CAMPAIGN ]]; then
        echo "no campaign folder at $CAMPAIGN: nothing has trained on this machine (a new machine"
        echo "loses the run; 'start' pins the code again, commit ${PINNED:0:12}, and 'resume UNTIL'"
        echo "restarts every seed that had not finished from epoch 0)"
        return 0
    fi
    campaign_running && echo "running" || echo "not running"
    echo "code: $(git -C "$CODE" rev-parse HEAD 2>/dev/null || echo 'not pinned')"
    for seed in 0 1 2; do
        local folder=$RUNS/seed_$seed
        local last
        last=$(last_checkpoint_epoch "$folder/checkpoints")
        local best=""
        if [[ -f $folder/valid_parzen.jsonl ]]; then
            best=$("$PY" -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
b = max(rows, key=lambda r: r["valid_ll"])
print("best validation %.2f at epoch %d" % (b["valid_ll"], b["epoch"]))' "$folder/valid_parzen.jsonl")
        fi
        echo "seed $seed: $(seed_state $seed), last checkpoint epoch ${last:-none}${best:+, $best}"
    done
}

cmd_land() {
    # Without the run folder there is nothing to copy, and the landed records must stay as they are.
    [[ -d $RUNS ]] || die "no run folder at $RUNS: nothing to land (results/table1/ left as it was)"
    local dest=$REPO/results/table1
    mkdir -p "$dest"
    cp "$RUNS/table1.json" "$RUNS/driver_log.jsonl" "$dest/" 2>/dev/null || true
    for seed in 0 1 2; do
        local folder=$RUNS/seed_$seed
        [[ -d $folder ]] || continue
        mkdir -p "$dest/seed_$seed"
        for name in valid_parzen.jsonl status.json test_parzen.json test_parzen_final.json \
                    monitor.csv; do
            [[ -f $folder/$name ]] && cp "$folder/$name" "$dest/seed_$seed/"
        done
    done
    # The records name no folder of this machine.
    copy_without_folder "$CAMPAIGN" "$LOGS/campaign.log" "$dest/campaign.log"
    cmd_status > "$dest/STATUS.txt"
    replay_report "$dest" >> "$dest/STATUS.txt"
    readme_status_line
    echo "landed the records in results/table1/ and the README's status line"
}

# A seed restarted on a new machine may replay the run that was lost with the old one: each landed
# seed is compared with the same seed in every earlier machine's records (DEST/*_machine/seed_K).
replay_report() {
    local dest=$1 earlier seed
    for earlier in "$dest"/*_machine/seed_*; do
        [[ -d $earlier ]] || continue
        seed=${earlier##*/}
        [[ -d $dest/$seed ]] || continue
        echo "$seed against ${earlier#"$dest"/}:"
        (cd "$REPO" && "$PY" -m gan2014.compare_runs "$earlier" "$dest/$seed" 2>&1 | sed 's/^/  /') || true
    done
}

# What a finished seed leaves in the repository (run from this checkout, with its .venv: reporting
# and drawing change no training number, so they need not be the pinned code):
# * results/table1/table1_summary.{md,json}: `--report` over the finished seeds (the test Parzen of
#   each one's best-by-validation and final checkpoints, by the paper's protocol; the means);
# * results/table1/seed_K/generator.npz: G of the final checkpoint, the one the table leads with;
# * figures/mnist_seedK_{samples,interpolation}_epochE.png (Figures 2a and 3 from that generator)
#   and figures/mnist_seedK_curves_epochE.png (the learning curves from the landed records).
# Paths are given relative to the checkout, so no record names a folder of this machine.
cmd_finish() {
    local python=$REPO/.venv/bin/python
    [[ -x $python ]] || die "no .venv in $REPO: 'make venv' first (the report runs this checkout's code)"
    local seeds=() seed
    for seed in 0 1 2; do
        [[ $(seed_state $seed) == finished ]] && seeds+=("$seed")
    done
    (( ${#seeds[@]} )) || die "no seed has finished yet: nothing to report"
    (cd "$REPO" && PYLEARN2_DATA_PATH=$CAMPAIGN/data "$python" -m port_torch.table1 \
        --out "$RUNS" --report --seeds "${seeds[@]}" --device cpu --threads 1 -q) \
        || die "the report failed"
    cmd_land
    local dest=results/table1 name
    for name in table1_summary.md table1_summary.json; do
        copy_without_folder "$CAMPAIGN" "$RUNS/$name" "$REPO/$dest/$name"
    done
    for seed in "${seeds[@]}"; do
        local epoch generator=$dest/seed_$seed/generator.npz
        epoch=$(last_checkpoint_epoch "$RUNS/seed_$seed/checkpoints")
        (cd "$REPO" \
         && "$python" -m gan2014.release_generator \
                "$RUNS/seed_$seed/checkpoints/$(printf 'epoch_%06d.npz' "$epoch")" "$generator" \
                --seed "$seed" \
         && PYLEARN2_DATA_PATH=$CAMPAIGN/data "$python" -m port_torch.figures "$generator" \
                --out figures --prefix "mnist_seed$seed" \
         && "$python" -m gan2014.figures.curves --monitor "$dest/seed_$seed/monitor.csv" \
                --validation "$dest/seed_$seed/valid_parzen.jsonl" \
                --title "port_torch, mnist.yaml, seed $seed, $epoch epochs (Table-1 campaign)" \
                --out "figures/mnist_seed${seed}_curves_epoch$epoch.png") \
            || die "seed $seed: releasing its generator or drawing its figures failed"
    done
    echo "finished seeds ${seeds[*]}: summary in $dest/table1_summary.md, generators and figures written"
}

# A GPU sitting (REPRODUCING.md §3). The lanes must not train while a seed is away: the bundle that
# comes back replaces the seed's files and the driver log.
cmd_to_gpu() {
    local seed=${1:?usage: to-gpu SEED}
    [[ $seed == [012] ]] || die "seed $seed is not one of the campaign's seeds (0, 1, 2)"
    local python=$REPO/.venv/bin/python transfer=$REPO/.gpu
    [[ -x $python ]] || die "no .venv in $REPO: 'make venv' first"
    campaign_running && die "the campaign is running: wait until it pauses"
    [[ -f $AWAY ]] && die "seed $(cat "$AWAY") is on a GPU machine already"
    [[ $(seed_state "$seed") == training ]] || die "seed $seed is $(seed_state "$seed"): only a seed in training moves"
    rm -rf "$transfer" "$CAMPAIGN/to_gpu"
    # The seed alone (with the manifest and the driver log): one seed's bundle fits the link.
    local scratch=$CAMPAIGN/to_gpu
    mkdir -p "$scratch/seed_$seed/checkpoints" "$transfer/data/mnist"
    cp "$RUNS/table1.json" "$RUNS/driver_log.jsonl" "$scratch/"
    find "$RUNS/seed_$seed" -maxdepth 1 -type f ! -name .lock -exec cp {} "$scratch/seed_$seed/" \;
    local last
    last=$(last_checkpoint_epoch "$RUNS/seed_$seed/checkpoints")
    cp "$RUNS/seed_$seed/checkpoints/$(printf 'epoch_%06d.npz' "$last")" "$scratch/seed_$seed/checkpoints/"
    (cd "$REPO" && "$python" -m port_torch.table1 --out "$scratch" --no-train \
        --pack-resume "$transfer/to_gpu" --piece-mib 16) || die "packing seed $seed failed"
    rm -rf "$scratch"
    local name
    for name in "$CAMPAIGN"/data/mnist/*-ubyte; do
        gzip -c "$name" > "$transfer/data/mnist/$(basename "$name").gz"
    done
    # The campaign's options but the device and -q, which the sitting sets itself.
    local options=() i
    for (( i = 0; i < ${#DRIVER_OPTIONS[@]}; i++ )); do
        case ${DRIVER_OPTIONS[i]} in
            --device) (( i++ )) ;;
            -q) ;;
            *) options+=("${DRIVER_OPTIONS[i]}") ;;
        esac
    done
    # The commit of this checkout, which the GPU machine receives without its git repository: the
    # driver log's rows of the sitting name it (gan2014/table1/backend.py, source_commit).
    local commit
    commit=$(cd "$REPO" && "$python" -c \
        'from gan2014.table1.backend import source_commit; print(source_commit() or "")')
    printf 'SEED=%s\nDRIVER_OPTIONS="%s"\nSOURCE_COMMIT=%s\n' "$seed" "${options[*]}" "$commit" \
        > "$transfer/sitting.env"
    echo "$seed" > "$AWAY"
    mkdir -p "$LOGS"
    echo "$(date -u '+%F %T') seed $seed: to a GPU machine from epoch $last" >> "$LOGS/campaign.log"
    echo "seed $seed (epoch $last) is ready in .gpu/ ($(du -sh "$transfer" | cut -f1)); on the GPU machine,"
    echo "with .gpu/ copied into its checkout: bash scripts/table1_gpu_sitting.sh SECONDS BACK; then"
    echo "from-gpu BACK here, with the folder BACK brought back"
}

cmd_from_gpu() {
    local back=${1:?usage: from-gpu DIR}
    local python=$REPO/.venv/bin/python
    [[ -f $AWAY ]] || die "no seed is on a GPU machine"
    [[ -d $back/from_gpu ]] || die "$back holds no from_gpu/ bundle"
    campaign_running && die "the campaign is running"
    local seed
    seed=$(cat "$AWAY")
    (cd "$REPO" && "$python" -m port_torch.table1 --out "$RUNS" --no-train --unpack "$back/from_gpu") \
        || die "unpacking $back/from_gpu failed; seed $seed stays marked away"
    if [[ -f $back/sitting.log ]]; then
        mkdir -p "$REPO/results/table1/gpu_sittings"
        cp "$back/sitting.log" "$REPO/results/table1/gpu_sittings/$(date -u '+%Y%m%d_%H%M')_seed_$seed.log"
    fi
    rm -f "$AWAY"
    rm -rf "$REPO/.gpu"
    local last
    last=$(last_checkpoint_epoch "$RUNS/seed_$seed/checkpoints")
    echo "$(date -u '+%F %T') seed $seed: back from a GPU machine at epoch $last" >> "$LOGS/campaign.log"
    echo "seed $seed is back at epoch $last; 'resume UNTIL' continues the lanes"
}

# The README's "Table 1 campaign status:" line, rewritten from the run folder (seeds, best
# validation, the last sitting's pace): gan2014/table1/campaign_status.py.
readme_status_line() {
    (cd "$REPO" && "$PY" -m gan2014.table1.campaign_status "$RUNS" "$REPO/README.md" \
        "$(git -C "$CODE" rev-parse --short=12 HEAD)")
}

# Bash reads a script as it runs it: the one line below parses whole before it runs, and its
# exit keeps a background process from reading on into a file edited since it started.
main() {
    case ${1:-} in
        start) shift; cmd_start "$@" ;;
        resume) shift; cmd_resume "$@" ;;
        status) cmd_status ;;
        land) cmd_land ;;
        finish) cmd_finish ;;
        to-gpu) shift; cmd_to_gpu "$@" ;;
        from-gpu) shift; cmd_from_gpu "$@" ;;
        _lanes) shift; lanes "$@" ;;
        _deadline) shift; deadline_of "$@" ;;
        *) sed -n '2,25p' "$0"; exit 2 ;;
    esac
}
main "$@"; exit $?
