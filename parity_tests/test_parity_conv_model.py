"""cifar10_convolutional.yaml's model end to end: one step agrees between the backends, and it
trains on both.

yaml_experiments/smoke/cifar10_convolutional_tiny.yaml has the conv config's structure (ReLU ->
Sigmoid -> SpaceConverter to c01b -> Deconv generator; three MaxoutConvC01B -> Maxout -> Sigmoid
discriminator on c01b images; the same cost, dropout, momentum, decay and schedules) with small
layers. It reads synthetic CIFAR-10 batches written in the real pickle format
(parity_tests/helpers.py :: write_tiny_cifar10, 40 images per file).

* One step (parity_tests/conv_step_worker.py): given the same parameters, a c01b batch of the
  training set, the same noise and the same dropout masks (4-D masks on the conv layers' inputs, a
  matrix on the last layer's), both backends' evaluate_step give the same d_obj, g_obj, samples S
  (c01b), D outputs and 16 gradients, in float64 within 1e-10 relative to each array's absmax
  (summation order at ~1e-16 per operation, measured 2.4e-15 at worst; a wrong formula differs at
  1e-2 or more). float64,
  because in float32 the comparison would hinge on near-ties: with ~10^5 max comparisons per step
  (channel maxout, overlapping pooling windows, dense maxout), a float32 rounding difference flips a
  winner in about 2% of random draws (measured with torch float32 against float64), and that
  re-routes a gradient by ~1e-2. The float32 layers are compared in test_parity_conv.py (few
  comparisons) and through training's epoch-0 channels below.
* Training: `python -m legacy_aesara.run` and `python -m port_torch.run --device cpu --threads 1`
  (child processes, started when the module starts) run the file's 2 epochs: exit status 0, three
  monitoring rows (epochs 0, 1, 2) with the same channel names on both backends, finite parameters
  (D's moved), and the epoch-0 channels that involve no random draw -- D on the data without dropout
  (`dis_on_samp_*`), the weight and kernel norms -- equal across the backends within 1e-5 of the
  largest such channel of the same layer: float32 convolutions and reductions summed in different
  orders (measured 2.5e-7 at worst; these are forward values, which a near-tie does not make
  jump). The noise- and dropout-dependent channels differ by design: each backend has its own
  random streams.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from gan2014.datasets import cifar10
from parity_tests import conv_step_worker
from parity_tests.children import AesaraChild
from parity_tests.conftest import REPO
from parity_tests.helpers import relative_error, write_tiny_cifar10
from parity_tests.trajectory import build

TINY_YAML = conv_step_worker.TINY_YAML
PER_BATCH = 40
BACKENDS = ("legacy_aesara", "port_torch")
F64_BOUND = 1e-10
F32_BOUND = 1e-5

# Runs a backend's command line (argv[2:]) as `python -m <argv[1]>` would, with CIFAR-10 files of
# PER_BATCH images (the constant is patched before the dataset module is used).
LAUNCHER = (
    "import runpy, sys\n"
    "from gan2014.datasets import cifar10\n"
    "cifar10.EXAMPLES_PER_BATCH = %d\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n" % PER_BATCH)


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    root = tmp_path_factory.mktemp("cifar")
    write_tiny_cifar10(root, PER_BATCH)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYLEARN2_DATA_PATH", str(root))
        patch.setattr(cifar10, "EXAMPLES_PER_BATCH", PER_BATCH)
        cifar10.clear_cache()
        yield root
    cifar10.clear_cache()


@pytest.fixture(scope="module")
def step_inputs(cifar, tmp_path_factory):
    inputs = conv_step_worker.make_inputs(build("port_torch", TINY_YAML))
    path = tmp_path_factory.mktemp("step") / "inputs.npz"
    np.savez(path, **inputs)
    return inputs, path


@pytest.fixture(scope="module", autouse=True)
def children(cifar, step_inputs, tmp_path_factory):
    """Started when the module starts, so that Aesara's compilations (the float64 step's and the
    training run's, the slow part of this module) overlap: the float64 step of Aesara, then both
    training runs."""
    started = {}
    step_out = tmp_path_factory.mktemp("step64") / "aesara64.npz"
    step64 = AesaraChild("conv_step_worker", ["legacy_aesara", step_inputs[1], step_out,
                                              "float64", PER_BATCH], step_out)
    for backend in BACKENDS:
        out = tmp_path_factory.mktemp(f"run-{backend}")
        extra = ["--device", "cpu", "--threads", "1"] if backend == "port_torch" else []
        command = [sys.executable, "-c", LAUNCHER, f"{backend}.run", str(TINY_YAML), "--out",
                   str(out), "--quiet"] + extra
        started[backend] = (subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT, text=True), out)
    with step64:
        yield {"step64": step64, **started}
    for child, _ in started.values():
        if child.poll() is None:
            child.kill()
            child.wait()


def finished(children, name):
    child, out = children[name]
    output, _ = child.communicate(timeout=600)
    assert child.returncode == 0, f"{name} failed:\n{output[-3000:]}"
    return out


# --------------------------------------------------------------------------------- one step
def test_one_step_with_fed_noise_and_masks_agrees_in_float64(children, step_inputs,
                                                             parity_record):
    """d_obj, g_obj, S (3x32x32 c01b samples), D on data and samples, and the 16 gradients:
    Aesara (GAN2014_FLOATX=float64 child) and torch (float64) within 1e-10 relative to each
    array's absmax; the 4-D masks matter (without them the gradients differ by > 1%)."""
    inputs, _ = step_inputs
    t = conv_step_worker.compute("port_torch", inputs, "float64")
    plain = conv_step_worker.compute("port_torch", inputs, "float64", masked=False)
    a = children["step64"].arrays()
    assert inputs["X"].shape == (3, 32, 32, 6) and inputs["mask/data/h1"].shape == (8, 16, 16, 6)
    assert inputs["mask/samp/y"].shape == (6, 16)
    assert a["S"].shape == t["S"].shape == (3, 32, 32, 6) and a["S"].dtype == np.float64
    grads = sorted(k for k in t if k.startswith("grad/"))
    assert sorted(k for k in a if k.startswith("grad/")) == grads and len(grads) == 16
    for name in ("grad/D/dh0_W", "grad/D/h1_W", "grad/D/h3_W", "grad/G/y_W"):
        assert relative_error(t[name], plain[name]) > 1e-2, name
    for key in ["d_obj", "g_obj", "S", "D_data", "D_samp"] + grads:
        parity_record(f"tiny conv model: {key} (1 step, float64)", "aesara/torch",
                      relative_error(a[key], t[key]), F64_BOUND)


# --------------------------------------------------------------------------------- training
@pytest.fixture(scope="module")
def runs(children):
    results = {}
    for backend in BACKENDS:
        out = finished(children, backend)
        with open(out / "monitor.jsonl", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        checkpoints = sorted((out / "checkpoints").glob("epoch_*.npz"))
        with np.load(checkpoints[-1], allow_pickle=False) as archive:
            final = {k: archive[k] for k in archive.files if k.startswith(("G/", "D/"))}
        results[backend] = {"rows": rows, "final": final}
    return results


def channels_of(row):
    return {k: v for k, v in row.items() if isinstance(v, (int, float)) and k.startswith("valid_")}


def test_tiny_conv_yaml_trains_two_epochs_on_both_backends(runs, cifar):
    """Exit status 0; epochs 0, 1, 2 monitored with identical channel names on both backends; all
    16 parameters finite, in the 2014 layouts; D's moved by training."""
    initial = build("port_torch", TINY_YAML).model.get_param_values()
    names = None
    for backend in BACKENDS:
        result = runs[backend]
        assert [row.get("epoch") for row in result["rows"]] == [0, 1, 2], backend
        keys = sorted(channels_of(result["rows"][-1]))
        assert names is None or keys == names, backend
        names = keys
        final = result["final"]
        assert sorted(final) == sorted(initial), backend
        for name, value in final.items():
            assert value.shape == initial[name].shape and np.isfinite(value).all(), (backend, name)
            # G's first steps are below float32 resolution: D is nearly constant at its
            # initialisation (irange .005), so dg_obj/dS is ~1e-15 (valid_sample_grad_norm).
            if name.startswith("D/"):
                assert not np.array_equal(value, initial[name]), (backend, name)
    assert initial["G/y_W"].shape == (3, 5, 5, 16) and initial["G/y_b"].shape == (3, 32, 32)
    assert initial["D/dh0_W"].shape == (3, 8, 8, 16) and initial["D/h2_b"].shape == (32,)
    assert any(k.startswith("valid_dis_on_samp_dh0_") for k in names)
    assert "valid_gen_y_kernel_norms_max" in names


def test_epoch0_deterministic_channels_agree(runs, parity_record):
    """At epoch 0 (the initial parameters, equal in both backends) the channels that draw nothing --
    D on the data without dropout (dis_on_samp_*: every layer's kernel/row/column norms and
    activation statistics) and G's and D's weight norms -- agree within 1e-5 (float32), each
    relative to the largest such channel of its layer: a range (max - min) of nearly equal
    activations is a difference that cancels, so its own size is no scale for rounding errors."""
    a = channels_of(runs["legacy_aesara"]["rows"][0])
    t = channels_of(runs["port_torch"]["rows"][0])
    layers = [f"valid_{part}_{layer}_" for part in ("dis_on_samp", "dis_on_data")
              for layer in conv_step_worker.D_LAYERS]
    layers += [f"valid_gen_{layer}_" for layer in ("gh0", "h1", "y")]
    compared = 0
    for prefix in layers:
        keys = [k for k in t if k.startswith(prefix)
                and (prefix.startswith("valid_dis_on_samp_") or "norms" in k)]
        scale = max(abs(t[k]) for k in keys)
        worst = max(abs(a[k] - t[k]) for k in keys) / scale
        parity_record(f"tiny conv model: epoch-0 channels {prefix}* (float32)", "aesara/torch",
                      worst, F32_BOUND)
        compared += len(keys)
    assert compared > 100
