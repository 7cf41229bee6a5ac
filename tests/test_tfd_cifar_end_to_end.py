"""TFD's two stages across backends, and the CIFAR-10 fully connected model, through the real CLIs.

Every run is a `python -m <backend>.run` subprocess on the tiny smoke configs (same layer types and
options as the originals, small layers, 2 epochs), reading generated files in the real formats from
a temporary PYLEARN2_DATA_PATH:

* TFD: a TFD_48x48.mat of 360 images (300 unlabeled; 20 train / valid / test per fold);
* CIFAR-10: the six pickled batch files, with 100 images each instead of 10,000; the runs go through
  a two-line launcher that tells the reader so (gan2014.datasets.cifar10.EXAMPLES_PER_BATCH), since
  files of the real size would take ~150 MB and seconds per process for nothing.

Scenarios, each TFD chain in its own current directory, as a user would run them:

  chain A: legacy_aesara.run tfd_pretrain_tiny.yaml, then port_torch.run tfd_train_tiny.yaml, whose
           `pretrained: "./tfd_pretrain_tiny.pkl"` finds runs/tfd_pretrain_tiny-legacy_aesara/;
           then port_torch.parzen on the stage-2 checkpoint (all five TFD folds)
  chain B: the same with the backends swapped (no Parzen: the command is the shared gan2014 one)
  CIFAR:   cifar10_fully_connected_tiny.yaml on each backend

Aesara's graph compilation dominates each process (REPRODUCING.md §5 gives compile times), so the
processes run on two threads.
"""
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from gan2014 import checkpoint as ckpt
from gan2014.monitor_log import read_jsonl
from parity_tests.helpers import write_tiny_cifar10, write_tiny_tfd

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "yaml_experiments" / "smoke"
OTHER = {"legacy_aesara": "port_torch", "port_torch": "legacy_aesara"}
TIMEOUT = 400
CIFAR_PER_BATCH = 100
# Runs a backend's CLI module with the CIFAR-10 reader told the batch size of the tiny files.
CIFAR_LAUNCHER = (
    "import runpy, sys\n"
    "import gan2014.datasets.cifar10 as cifar10\n"
    f"cifar10.EXAMPLES_PER_BATCH = {CIFAR_PER_BATCH}\n"
    "sys.argv = [sys.argv[1]] + sys.argv[2:]\n"
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n")
# Weight-norm channels of G's layers: noise-free, so equal wherever the same weights are monitored.
NORM_CHANNELS = [f"valid_gen_{layer}_{kind}_norms_{stat}" for layer in ("h0", "h1", "y")
                 for kind in ("row", "col") for stat in ("min", "mean", "max")]


def run(args, cwd, data, launcher=None):
    head = [sys.executable, "-c", launcher] if launcher else [sys.executable, "-m"]
    env = dict(os.environ, PYLEARN2_DATA_PATH=str(data), PYTHONUNBUFFERED="1")
    return subprocess.run(head + [str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT)


def train_args(backend, config):
    extra = ["--device", "cpu", "--threads", "1"] if backend == "port_torch" else []
    module = f"{backend}.run"
    return [module, SMOKE / config, "--quiet"] + extra


def chain(first, root, data):
    """Stage 1 on `first`, stage 2 on the other backend (and the Parzen command for chain A), in
    their own current directory under `root`."""
    cwd = root / f"chain_{first}"
    cwd.mkdir()
    second = OTHER[first]
    results = {"cwd": cwd, "first": first, "second": second}
    results["stage1"] = run(train_args(first, "tfd_pretrain_tiny.yaml"), cwd, data)
    if results["stage1"].returncode == 0:
        results["stage2"] = run(train_args(second, "tfd_train_tiny.yaml"), cwd, data)
    if first == "legacy_aesara" and results.get("stage2") and results["stage2"].returncode == 0:
        run_dir = cwd / "runs" / f"tfd_train_tiny-{second}"
        checkpoint = ckpt.latest_checkpoint(run_dir / "checkpoints")
        results["parzen"] = run(["port_torch.parzen", checkpoint, "-n", "50", "--json",
                                 cwd / "parzen.json", "-q"], cwd, data)
    return results


def cifar(backend, root, data):
    cwd = root / f"cifar_{backend}"
    cwd.mkdir()
    args = train_args(backend, "cifar10_fully_connected_tiny.yaml")
    return {"cwd": cwd, "run": run(args, cwd, data, launcher=CIFAR_LAUNCHER)}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("tfd_cifar")
    data = root / "data"
    write_tiny_tfd(data)
    write_tiny_cifar10(data, CIFAR_PER_BATCH)
    # Two threads, each about one Aesara compilation behind the other.
    plans = {"A": [("chain", lambda: chain("legacy_aesara", root, data)),
                   ("cifar_port_torch", lambda: cifar("port_torch", root, data))],
             "B": [("chain_b", lambda: chain("port_torch", root, data)),
                   ("cifar_legacy_aesara", lambda: cifar("legacy_aesara", root, data))]}
    found = {}

    def work(plan):
        for name, job in plan:
            found[name] = job()

    threads = [threading.Thread(target=work, args=(plan,)) for plan in plans.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"A": found["chain"], "B": found["chain_b"],
            "cifar": {"port_torch": found["cifar_port_torch"],
                      "legacy_aesara": found["cifar_legacy_aesara"]}}


def check_done(result, epochs=2):
    assert result is not None and result.returncode == 0, \
        f"rc={getattr(result, 'returncode', None)}\n{getattr(result, 'stdout', '')[-3000:]}\n" \
        f"{getattr(result, 'stderr', '')[-3000:]}"
    assert f"Done: {epochs} epochs" in result.stdout


def last_arrays(run_folder):
    arrays, meta = ckpt.load_checkpoint(ckpt.latest_checkpoint(run_folder / "checkpoints"))
    return arrays, meta


@pytest.mark.parametrize("name", ["A", "B"])
def test_stage2_continues_from_the_other_backends_stage1(outcomes, name):
    """Stage 2 on backend Y takes the stage-1 run of backend X through add_layers: the message names
    the checkpoint; the stage-2 generator holds h0, h1 and the stage-1 layers as
    G/pretrained_{h0,h1,y}_*, starting from stage 1's final weights (its epoch-0 weight-norm
    channels equal stage 1's last ones within 1e-5: the same weights, monitored by two backends in
    float32, after a projection that moves them by ~1e-7) and trained jointly afterwards."""
    chain_result = outcomes[name]
    first, second, cwd = chain_result["first"], chain_result["second"], chain_result["cwd"]
    check_done(chain_result["stage1"])
    check_done(chain_result.get("stage2"))
    stage1_dir = cwd / "runs" / f"tfd_pretrain_tiny-{first}"
    stage2_dir = cwd / "runs" / f"tfd_train_tiny-{second}"
    assert (f"add_layers: 3 pretrained layer(s) ['h0', 'h1', 'y'] from "
            f"{stage1_dir / 'checkpoints' / 'epoch_000002.npz'} (epoch 2, written by {first})"
            in chain_result["stage2"].stdout)
    stage1, meta1 = last_arrays(stage1_dir)
    stage2, meta2 = last_arrays(stage2_dir)
    assert meta1["backend"] == first and meta2["backend"] == second
    assert [n for n in meta2["param_names"] if n.startswith("G/")] == [
        "G/h0_W", "G/h0_b", "G/h1_W", "G/h1_b", "G/pretrained_h0_W", "G/pretrained_h0_b",
        "G/pretrained_h1_W", "G/pretrained_h1_b", "G/pretrained_y_W", "G/pretrained_y_b"]
    for stem in ("h0", "h1", "y"):
        assert stage2[f"G/pretrained_{stem}_W"].shape == stage1[f"G/{stem}_W"].shape
        assert not np.array_equal(stage2[f"G/pretrained_{stem}_W"], stage1[f"G/{stem}_W"]), stem
    end_of_stage1 = read_jsonl(stage1_dir / "monitor.jsonl")[-1]
    start_of_stage2 = read_jsonl(stage2_dir / "monitor.jsonl")[0]
    assert end_of_stage1["epoch"] == 2 and start_of_stage2["epoch"] == 0
    for channel in NORM_CHANNELS:
        assert start_of_stage2[channel] == pytest.approx(end_of_stage1[channel], rel=1e-5), channel


def test_parzen_of_a_stage2_checkpoint_on_all_tfd_folds(outcomes):
    """port_torch.parzen on the stage-2 checkpoint written by chain A's torch run rebuilds the model
    (add_layers finds stage 1 again from the same directory), infers TFD from the 2304-pixel
    samples, and reports five folds and the summary across them. Exact: fold names, counts (20 test
    rows per fold of the generated TFD, 50 samples from -n 50) and five 'Using Sigma:' lines; the
    score need only be finite (se >= 0), as a tiny 2-epoch run has no reference value."""
    chain_result = outcomes["A"]
    check_done(chain_result.get("stage2"))
    result = chain_result.get("parzen")
    assert result is not None and result.returncode == 0, result
    record = json.loads((chain_result["cwd"] / "parzen.json").read_text())
    assert record["dataset"] == "tfd" and sorted(record["folds"]) == ["0", "1", "2", "3", "4"]
    assert all(fold["n_test"] == 20 and fold["n_samples"] == 50
               for fold in record["folds"].values())
    assert np.isfinite(record["mean_across_folds"]) and record["se_across_folds"] >= 0
    assert result.stdout.count("Using Sigma:") == 5


@pytest.mark.parametrize("backend", ["legacy_aesara", "port_torch"])
def test_cifar10_fully_connected_trains(outcomes, backend):
    """The CIFAR-10 FC model (Linear output layer, GCN'd data) trains 2 epochs on each backend and
    saves G/y_W of shape (32, 3072); the monitored objectives are finite. Exact: epoch, shape and
    parameter names; the objectives need only be finite, as 2 epochs on tiny data have no reference
    value."""
    result = outcomes["cifar"][backend]
    check_done(result["run"])
    run_folder = result["cwd"] / "runs" / f"cifar10_fully_connected_tiny-{backend}"
    arrays, meta = last_arrays(run_folder)
    assert meta["epoch"] == 2 and arrays["G/y_W"].shape == (32, 3072)
    assert [n for n in meta["param_names"] if n.startswith("D/")][:2] == ["D/dh0_W", "D/dh0_b"]
    last = read_jsonl(run_folder / "monitor.jsonl")[-1]
    assert np.isfinite(last["valid_objective_d"]) and np.isfinite(last["valid_objective_g"])
