#!/usr/bin/env bash
# The conditional MNIST run (yaml_experiments/mnist_conditional.yaml, port_torch, one thread) to its
# stopping point, trained and scored in the background across many sittings.
#
#   scripts/conditional_campaign.sh start [REV]    pin the code: a clone of this repository at REV
#                                                  (tag or commit; default: the run's commit,
#                                                  PINNED below), a venv and an MNIST copy, all
#                                                  inside the campaign folder
#   scripts/conditional_campaign.sh resume UNTIL   train in the background (nice 19) until UNTIL
#                                                  (any `date -d` time; a clock time already past
#                                                  today means tomorrow), and score the new
#                                                  checkpoints both ways every half hour meanwhile
#   scripts/conditional_campaign.sh score          score the new checkpoints now (every 5th epoch,
#                                                  deterministic G and G with its training dropout)
#   scripts/conditional_campaign.sh status         epochs done, best by validation both ways
#   scripts/conditional_campaign.sh land [GRID..]  copy the records, score tables and monitor log
#                                                  (and the named class grids) into
#                                                  results/conditional/ here
#   scripts/conditional_campaign.sh finish         once the run has stopped at its last epoch:
#                                                  score what is left, land the records with the
#                                                  class grids of both best checkpoints, and write
#                                                  both tables as one (scores_table.md)
#
# The campaign folder is $GAN2014_CONDITIONAL (default: gan2014-conditional in the home directory),
# outside any work tree. Training and scoring run with that folder as working directory, so every
# record names its checkpoint as runs/<run>/checkpoints/... and its grid as results/conditional/
# <run>/..., the paths they have in this repository: landing is a copy.
set -euo pipefail

CAMPAIGN=${GAN2014_CONDITIONAL:-$HOME/gan2014-conditional}
CODE=$CAMPAIGN/code
VENV=$CAMPAIGN/venv
LOGS=$CAMPAIGN/logs
PY=$VENV/bin/python
PINNED=df0918fff42be5bc6aab6057d294558d33fc852f  # the commit the run trains with
RUN=mnist_conditional-port_torch
RUN_DIR=runs/$RUN                              # relative to $CAMPAIGN
RESULTS=results/conditional/$RUN               # relative to $CAMPAIGN and to this repository
SCORE_EVERY_S=${GAN2014_SCORE_EVERY_S:-1800}   # seconds between scorings while training
# Every checkpoint is kept (the stopping point is chosen among them afterwards); the monitor runs
# every 5th epoch, which changes no training number.
TRAIN_OPTIONS=(--threads 1 --keep-checkpoints 0 --monitor-every 5 --quiet)
REPO=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "conditional_campaign: $*" >&2; exit 2; }
# shellcheck source=campaign_common.sh
source "$REPO/scripts/campaign_common.sh"

in_campaign() {  # run the pinned code's python in the campaign folder, at nice 19
    (cd "$CAMPAIGN" && PYTHONPATH=$CODE PYLEARN2_DATA_PATH=$CAMPAIGN/data OMP_NUM_THREADS=1 \
        nice -n 19 "$PY" "$@")
}

has_checkpoints() { ls "$CAMPAIGN/$RUN_DIR/checkpoints"/epoch_*.npz > /dev/null 2>&1; }

training_running() { pgrep -f "port_torch.run $CODE/yaml_experiments/mnist_conditional.yaml" \
    > /dev/null; }

cmd_start() {
    local rev=${1:-$PINNED}
    [[ -e $CODE ]] && die "$CODE exists already: the run is pinned to $(git -C "$CODE" rev-parse HEAD)"
    clone_pinned "$REPO" "$CODE" "$rev"
    mkdir -p "$LOGS"
    pin_environment "$CODE" "$VENV" "$CAMPAIGN" "$REPO"
    echo "$(date -u '+%F %T') pinned $(git -C "$CODE" rev-parse HEAD) ($rev)" | tee -a "$LOGS/campaign.log"
}

cmd_resume() {
    local until=${1:?usage: resume UNTIL}
    [[ -d $CODE ]] || die "no pinned code in $CODE: run 'start' first"
    local deadline
    deadline=$(deadline_of "$until") || exit 2
    training_running && die "the run is already training"
    local resume=()
    has_checkpoints && resume=(--resume)
    local budget=$(( deadline - $(date +%s) ))
    echo "$(date -u '+%F %T') train${resume[*]:+ (resumed)}: budget ${budget} s" >> "$LOGS/campaign.log"
    # The redirection covers the whole background list, so no shell in it keeps the caller's
    # output open (a caller reading it through a pipe would otherwise wait for the training).
    (cd "$CAMPAIGN" && PYTHONPATH=$CODE PYLEARN2_DATA_PATH=$CAMPAIGN/data nohup nice -n 19 "$PY" \
        -m port_torch.run "$CODE/yaml_experiments/mnist_conditional.yaml" --out "$RUN_DIR" \
        "${resume[@]}" "${TRAIN_OPTIONS[@]}" --time-budget "$budget") \
        >> "$LOGS/train.log" 2>&1 < /dev/null &
    nohup bash "$0" _score_loop "$deadline" > /dev/null 2>&1 &
    echo "conditional run resumed in the background until $(date -d "@$deadline"); logs in $LOGS"
}

cmd_score() {
    [[ -d $CAMPAIGN/$RUN_DIR/checkpoints ]] || die "no checkpoints in $CAMPAIGN/$RUN_DIR yet"
    local way
    for way in "" --generator-dropout; do
        in_campaign -m port_torch.conditional "$RUN_DIR/checkpoints" --out "$RESULTS" -q $way \
            >> "$LOGS/scoring.log" 2>&1 || echo "scoring ${way:-deterministic} failed: $LOGS/scoring.log"
    done
}

# A run that starts from epoch 0 has nothing to score at first, and the loop must outlive that
# (cmd_score's refusal would end it).
score_if_any() {
    if has_checkpoints; then
        cmd_score
    else
        echo "$(date -u '+%F %T') no checkpoint to score yet" >> "$LOGS/scoring.log"
    fi
}

# Score every half hour until ten minutes before the deadline, and once more after training ends.
score_loop() {
    local deadline=$1
    local left
    while (( (left = deadline - 600 - $(date +%s)) > 0 )); do
        score_if_any
        sleep $(( left < SCORE_EVERY_S ? left : SCORE_EVERY_S ))
    done
    while training_running; do sleep 30; done
    score_if_any
}

# The best row by validation of a scores table: best_of TABLE prints "epoch E: validation V, test
# T +- S (N checkpoints scored)" ("not scored" without the table); best_of TABLE epoch prints E.
best_of() {
    [[ -f $1 ]] || { echo "not scored"; return; }
    local python=$PY
    [[ -x $python ]] || python=python3
    "$python" -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
b = max(rows, key=lambda r: float(r["validation_ll"]))
if sys.argv[2:] == ["epoch"]:
    print(b["epoch"])
else:
    print("epoch %s: validation %.2f, test %.2f +- %.2f (%d checkpoints scored)" % (b["epoch"],
          float(b["validation_ll"]), float(b["test_ll"]), float(b["test_se"]), len(rows)))' "$@"
}

cmd_status() {
    if [[ ! -d $CAMPAIGN ]]; then
        echo "no campaign folder at $CAMPAIGN: nothing has trained on this machine ('start', which"
        echo "pins commit ${PINNED:0:12}, then 'resume UNTIL', which starts the run from epoch 0)"
        return 0
    fi
    training_running && echo "training" || echo "not training"
    echo "code: $(git -C "$CODE" rev-parse HEAD 2>/dev/null || echo 'not pinned')"
    local last end
    last=$(last_checkpoint_epoch "$CAMPAIGN/$RUN_DIR/checkpoints")
    end=$(last_epoch_of_run) || end="? (no pinned YAML to read the run's length from)"
    echo "last checkpoint: epoch ${last:-none} of ${end:-? (no EpochCounter in the pinned YAML)}"
    echo "best, deterministic G: $(best_of "$CAMPAIGN/$RESULTS/scores.csv")"
    echo "best, G with its training dropout: $(best_of "$CAMPAIGN/$RESULTS/scores_gdropout.csv")"
}

# The run's last epoch: the EpochCounter of the pinned YAML.
last_epoch_of_run() {  # nothing printed (and status 1) before the code is pinned
    [[ -f $CODE/yaml_experiments/mnist_conditional.yaml ]] || return 1
    sed -n 's/^ *max_epochs: *\([0-9][0-9]*\).*/\1/p' "$CODE/yaml_experiments/mnist_conditional.yaml" \
        | tail -1
}

cmd_finish() {
    training_running && die "the run is still training: finish once it has stopped"
    local last end
    last=$(last_checkpoint_epoch "$CAMPAIGN/$RUN_DIR/checkpoints")
    [[ -f $CODE/yaml_experiments/mnist_conditional.yaml ]] \
        || die "no pinned code in $CODE: nothing to finish ('start', then 'resume UNTIL')"
    end=$(last_epoch_of_run) || true
    [[ -n $end ]] || die "no EpochCounter max_epochs in the pinned YAML under $CODE"
    [[ ${last:-0} -ge $end ]] || die "the run is at epoch ${last:-0} of $end: resume it first"
    cmd_score
    local table way best grids=()
    for way in "" _gdropout; do
        table=$CAMPAIGN/$RESULTS/scores$way.csv
        grep -q "^$(( end / 5 * 5 ))," "$table" 2>/dev/null \
            || die "epoch $(( end / 5 * 5 )) is not in $table: scoring failed ($LOGS/scoring.log)"
        best=$(best_of "$table" epoch)
        grids+=("$(printf 'epoch%06d%s_class_grid.png' "$best" "$way")")
    done
    cmd_land "${grids[@]}"
    (cd "$REPO" && "$REPO/.venv/bin/python" -m gan2014.conditional_table "$RESULTS") \
        > "$REPO/$RESULTS/scores_table.md" || die "could not write $RESULTS/scores_table.md"
    cat "$REPO/$RESULTS/scores_table.md"
}

cmd_land() {
    local dest=$REPO/$RESULTS
    [[ -d $CAMPAIGN/$RESULTS ]] || die "nothing scored yet in $CAMPAIGN/$RESULTS"
    mkdir -p "$dest"
    cp "$CAMPAIGN/$RESULTS"/*_parzen.json "$dest/"
    cp "$CAMPAIGN/$RESULTS"/scores*.csv "$dest/" 2>/dev/null || true
    # The run's monitoring channels and its step and seed facts.
    local name
    for name in monitor.csv run_facts.jsonl; do
        [[ -f $CAMPAIGN/$RUN_DIR/$name ]] && cp "$CAMPAIGN/$RUN_DIR/$name" "$dest/"
    done
    local grid
    for grid in "$@"; do
        [[ -f $CAMPAIGN/$RESULTS/$grid ]] || die "no class grid $grid in $CAMPAIGN/$RESULTS"
        cp "$CAMPAIGN/$RESULTS/$grid" "$dest/"
    done
    # The records name no folder of this machine.
    copy_without_folder "$CAMPAIGN" "$LOGS/campaign.log" "$dest/campaign.log"
    cmd_status | sed "s|$CAMPAIGN|<campaign folder>|g" > "$dest/STATUS.txt"
    echo "landed the records in $RESULTS/"
}

# Bash reads a script as it runs it: the one line below parses whole before it runs, and its
# exit keeps a background process from reading on into a file edited since it started.
main() {
    case ${1:-} in
        start) shift; cmd_start "$@" ;;
        resume) shift; cmd_resume "$@" ;;
        score) cmd_score ;;
        status) cmd_status ;;
        land) shift; cmd_land "$@" ;;
        finish) cmd_finish ;;
        _score_loop) shift; score_loop "$@" ;;
        *) sed -n '2,21p' "$0"; exit 2 ;;
    esac
}
main "$@"; exit $?
