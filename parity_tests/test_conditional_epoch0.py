"""Both backends start the conditional run (yaml_experiments/mnist_conditional.yaml) from the same
state and monitor it alike.

`python -m legacy_aesara.run` and `python -m port_torch.run --threads 1` (child processes, started
together when the module starts) run the unmodified file with `--max-epochs 0`: they build the model
from the YAML, monitor epoch 0 on the validation set and save the epoch-0 checkpoint. Properties:

* the 16 initial parameters are equal bit for bit: both backends draw them from the YAML's seeds
  with the same framework-free code (gan2014), so any difference is a wiring fault (a composite
  part given another part's draw, a label block initialised as pixels);
* both monitor the same channel names (225 of them, every layer part of G and D);
* the channels that draw nothing agree within 1e-5 (float32), each relative to the largest such
  channel of its layer part: D on the real batch (`dis_on_samp_*`, the 2014 name swap, kept),
  G's and D's label branches (`gen_h0_y_*`: G's first layer on the batch's labels;
  `dis_on_data_h0_y_*`: D's on the labels the fake half carries, the real half's), every weight
  norm, and `false_negatives`. Float32 sums in different orders differ by about 1e-7 to 1e-6
  relative (measured 1.4e-6 at worst); a label fed to the wrong branch, a part reading the wrong
  columns or the halves' names exchanged moves these channels by far more. A range channel
  (max - min of nearly equal activations) cancels, so its own size is no scale for its rounding.
  The channels of the noise and the dropout masks differ by design: each backend has its own
  random streams. These are statistics over the batch, blind to a permutation of its rows: the
  row-level wiring (each sample beside its own label) is test_conditional_parity.py's, on fed
  steps. Checked: the fake half's labels shifted by one class, or a composite part's columns by
  one, fail here.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from parity_tests.conftest import REPO, mnist_or_skip

CONDITIONAL_YAML = REPO / "yaml_experiments" / "mnist_conditional.yaml"
BACKENDS = ("legacy_aesara", "port_torch")
F32_BOUND = 1e-5
# The layer parts whose channels are compared, each with its own scale.
PARTS = ([f"valid_dis_on_samp_{part}_" for part in ("h0_x", "h0_y", "h1", "y")]
         + [f"valid_dis_on_data_{part}_" for part in ("h0_x", "h0_y", "h1", "y")]
         + [f"valid_gen_{part}_" for part in ("h0_z", "h0_y", "h1", "y")])


def draws_nothing(name):
    """Whether a channel is a function of the parameters and the real batch (and its labels)."""
    return (name.startswith(("valid_dis_on_samp_", "valid_gen_h0_y_", "valid_dis_on_data_h0_y_"))
            or "_norms_" in name or name == "valid_false_negatives")


@pytest.fixture(scope="module")
def epoch0(tmp_path_factory):
    """Each backend's epoch-0 monitoring row and checkpointed parameters."""
    mnist_or_skip()
    started = {}
    for backend in BACKENDS:
        out = tmp_path_factory.mktemp(f"epoch0-{backend}")
        extra = ["--threads", "1"] if backend == "port_torch" else []
        command = [sys.executable, "-m", f"{backend}.run", str(CONDITIONAL_YAML), "--out",
                   str(out), "--max-epochs", "0", "--quiet"] + extra
        started[backend] = (subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT, text=True), out)
    results = {}
    try:
        for backend, (child, out) in started.items():
            output, _ = child.communicate(timeout=900)
            assert child.returncode == 0, f"{backend} failed:\n{output[-3000:]}"
            with open(out / "monitor.jsonl", encoding="utf-8") as handle:
                rows = [json.loads(line) for line in handle if line.strip()]
            with np.load(out / "checkpoints" / "epoch_000000.npz", allow_pickle=False) as archive:
                params = {k: archive[k] for k in archive.files if k.startswith(("G/", "D/"))}
            results[backend] = {"rows": rows, "params": params}
    finally:
        for child, _ in started.values():
            if child.poll() is None:
                child.kill()
                child.wait()
    return results


def channels_of(row):
    return {k: v for k, v in row.items() if isinstance(v, (int, float)) and k.startswith("valid_")}


def test_both_backends_draw_the_same_initial_parameters(epoch0):
    """Bit for bit: the 16 arrays of G's and D's composite first layers and the rest."""
    a, t = epoch0["legacy_aesara"]["params"], epoch0["port_torch"]["params"]
    assert sorted(a) == sorted(t) and len(t) == 16
    for part in ("G/h0_z_W", "G/h0_y_W", "D/h0_x_W", "D/h0_y_W"):
        assert part in t
    for name in t:
        assert a[name].dtype == t[name].dtype == np.float32, name
        np.testing.assert_array_equal(a[name], t[name], err_msg=name)


def test_both_backends_monitor_the_same_channels(epoch0):
    """One row (epoch 0) each, with the same 225 channel names."""
    rows = {backend: epoch0[backend]["rows"] for backend in BACKENDS}
    assert [row["epoch"] for row in rows["port_torch"]] == [0]
    assert [row["epoch"] for row in rows["legacy_aesara"]] == [0]
    names = {backend: sorted(channels_of(rows[backend][0])) for backend in BACKENDS}
    assert names["legacy_aesara"] == names["port_torch"]
    assert len(names["port_torch"]) == 225


def test_the_channels_that_draw_nothing_agree(epoch0, parity_record):
    """Within 1e-5 of the largest channel of the same layer part (float32); every channel that
    draws nothing is compared, 145 of them."""
    a = channels_of(epoch0["legacy_aesara"]["rows"][0])
    t = channels_of(epoch0["port_torch"]["rows"][0])
    compared = {"valid_false_negatives"}
    assert abs(a["valid_false_negatives"] - t["valid_false_negatives"]) <= F32_BOUND
    for prefix in PARTS:
        keys = [k for k in t if k.startswith(prefix) and draws_nothing(k)]
        assert keys, prefix
        scale = max(abs(t[k]) for k in keys)
        worst = max(abs(a[k] - t[k]) for k in keys) / scale
        parity_record(f"conditional model: epoch-0 channels {prefix}* (float32)", "aesara/torch",
                      worst, F32_BOUND)
        compared.update(keys)
    assert compared == {k for k in t if draws_nothing(k)} and len(compared) == 145
