# Shared by the campaign scripts (table1_campaign.sh, conditional_campaign.sh); sourced, not run.
# Each caller defines die() before sourcing.

# A venv with the pinned versions beside the pinned clone, and a copy of MNIST, in a campaign
# folder: pin_environment CODE VENV CAMPAIGN REPO. Dependencies only: the code is imported from
# the clone (PYTHONPATH or the working directory), so a record's commit is the clone's.
pin_environment() {
    local code=$1 venv=$2 campaign=$3 repo=$4
    python3.11 -m venv "$venv"
    "$venv/bin/python" -m pip install -q -c "$code/constraints.txt" torch==2.13.0
    "$venv/bin/python" -m pip install -q -c "$code/constraints.txt" "$code"
    "$venv/bin/python" -m pip uninstall -q -y gan2014-replication
    local data=${PYLEARN2_DATA_PATH:-$repo/data}
    if [[ -f $data/mnist/train-images-idx3-ubyte ]]; then
        mkdir -p "$campaign/data/mnist" && cp "$data"/mnist/*-ubyte "$campaign/data/mnist/"
    else
        (cd "$code" && PYLEARN2_DATA_PATH=$campaign/data "$venv/bin/python" \
            -m gan2014.datasets.fetch mnist)
    fi
}

# A clone of REPO at REV in CODE, with its own .git (so it outlives the checkout that made it):
# clone_pinned REPO CODE REV. A REV the repository lacks is refused before anything is made.
clone_pinned() {
    local repo=$1 code=$2 rev=$3
    git -C "$repo" rev-parse -q --verify "$rev^{commit}" > /dev/null \
        || die "this repository has no commit '$rev' to pin"
    mkdir -p "$(dirname "$code")"
    git clone -q --no-local "$repo" "$code"
    git -C "$code" checkout -q --detach "$rev"
}

# UNTIL as seconds since the epoch. A bare clock time already past today means that time
# tomorrow (a sitting that crosses midnight); anything less than 5 minutes ahead is refused.
deadline_of() {
    local until=$1 deadline
    deadline=$(date -d "$until" +%s 2>/dev/null) || die "cannot read the time '$until'"
    if [[ $until =~ ^[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?$ ]] && (( deadline <= $(date +%s) )); then
        deadline=$(date -d "tomorrow $until" +%s)
    fi
    (( deadline > $(date +%s) + 300 )) || die "'$until' is past or less than 5 minutes away"
    echo "$deadline"
}

# The epoch of the newest end-of-epoch checkpoint (epoch_NNNNNN.npz) in a folder, or nothing.
last_checkpoint_epoch() {
    ls "$1" 2>/dev/null | sed -n 's/^epoch_0*\([0-9][0-9]*\)\.npz$/\1/p' | sort -n | tail -1 || true
}

# Copy a log into the repository with the campaign folder's path replaced: the records name no
# folder of this machine. copy_without_folder CAMPAIGN SOURCE DEST (nothing if SOURCE is absent).
copy_without_folder() {
    [[ -f $2 ]] || return 0
    sed "s|$1|<campaign folder>|g" "$2" > "$3"
}
