"""Exact resume and clear failures of the real command lines, on both backends.

Every training run here is a real `python -m legacy_aesara.run ...` / `python -m port_torch.run ...`
subprocess on yaml_experiments/smoke/mnist_tiny.yaml (a 4-epoch copy), reading generated IDX files
in the real format from a temporary PYLEARN2_DATA_PATH (the train file has the full 60,000 images,
so that no constant needs patching in the child processes: the first 800 are random with pixels
hitting 0 and 255, the rest zeros; the tiny config only reads rows 0-800).

Aesara's graph compilation (in every process, even with the warm compile cache) dominates the
cost, so the runs are scheduled once per module on two background workers, in dependency order, and
each scenario process serves several tests:

  S   4 epochs straight, --keep-checkpoints 2        (reference; rotation)
  A1  2 epochs (--max-epochs 2); A2 --resume to 4    (exact resume)
  K1  4 epochs, slowed, SIGKILLed at a random moment after the epoch-2 checkpoint exists
  K2  --resume, slowed, SIGINT after its second batch (exit 130, a mid-epoch checkpoint)
  K3  --resume to the end                            (kill -9 and Ctrl-C are exact)
  N   --resume from A1's epoch 2 with min_lr 1e30 (the learning rate explodes from the next batch)
  X   --resume from the OTHER backend's epoch-2 checkpoint, --max-epochs 2 (what was loaded is
  saved)

"Slowed" runs go through a small launcher (LAUNCHER) that wraps the same CLI module and sleeps
after each training step (printing a marker to stderr), so that the kill and the Ctrl-C land inside
a training epoch; the sleep does not touch any number.
"""
import csv
import errno
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gan2014 import checkpoint as ckpt
from gan2014.datasets import mnist
from gan2014.monitor_log import MonitorLog, read_jsonl
from parity_tests.helpers import write_tiny_mnist as write_mnist_files

REPO = Path(__file__).resolve().parents[1]
TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"
FULL_YAML = REPO / "yaml_experiments" / "mnist.yaml"
BACKENDS = ("legacy_aesara", "port_torch")
OTHER = {"legacy_aesara": "port_torch", "port_torch": "legacy_aesara"}
BATCHES_PER_EPOCH = 6  # 600 training examples, batch_size 100
RUN_TIMEOUT = 400      # seconds for one CLI process (the Aesara ones compile first)
SLOW_DELAY = "0.25"    # seconds slept after each training step in the slowed runs

# Runs the CLI module named in argv[1] with the remaining arguments, as `python -m` would. With
# GAN2014_TEST_BATCH_DELAY set, it first wraps the SGD's per-step hook to print a marker to stderr
# and sleep. SIGINT gets Python's default handler back even where the test runner was started with
# SIGINT ignored (a background job of a non-interactive shell), which a child would otherwise
# inherit.
LAUNCHER = r"""
import os, runpy, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
module = sys.argv[1]
delay = float(os.environ.get("GAN2014_TEST_BATCH_DELAY") or 0)
if delay:
    if module.startswith("legacy_aesara"):
        import legacy_aesara
        from legacy_aesara.training_algorithms import sgd
        hooked = "_run_step"
    else:
        from port_torch.training_algorithms import sgd
        hooked = "_after_batch"
    original = getattr(sgd.SGD, hooked)
    def slowed(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        print("[test-hook] batches_seen=%d" % self.batches_seen, file=sys.stderr, flush=True)
        time.sleep(delay)
        return result
    setattr(sgd.SGD, hooked, slowed)
sys.argv = [module] + sys.argv[2:]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


# ------------------------------------------------------------------------------------------ data
def cli(backend, config, out, *args, launcher=False):
    head = [sys.executable, "-c", LAUNCHER, f"{backend}.run"] if launcher else \
        [sys.executable, "-m", f"{backend}.run"]
    extra = ["--device", "cpu", "--threads", "1"] if backend == "port_torch" else []
    return head + [str(config), "--out", str(out), "--quiet"] + extra + [str(a) for a in args]


def child_env(data, **more):
    env = dict(os.environ)
    env.pop("GAN2014_TEST_BATCH_DELAY", None)
    env.update(PYLEARN2_DATA_PATH=str(data), PYTHONUNBUFFERED="1", **more)
    return env


class Result:
    def __init__(self, rc, stdout, stderr, **facts):
        self.rc, self.stdout, self.stderr, self.facts = rc, stdout, stderr, facts

    def __repr__(self):
        return (f"<rc={self.rc} facts={self.facts}\n--- stdout (tail) ---\n{self.stdout[-3000:]}"
                f"\n--- stderr (tail) ---\n{self.stderr[-3000:]}>")


# ------------------------------------------------------------------------------ background runs
class Runs:
    """The scenario processes, run by two worker threads in priority order as their dependencies
    finish. `get(name, backend)` waits for one (starting it, and what it needs, if nobody has)."""

    PRIORITY = ["K1/legacy_aesara", "A1/port_torch", "S/legacy_aesara", "A1/legacy_aesara",
                "S/port_torch", "K1/port_torch", "A2/port_torch", "K2/port_torch", "K3/port_torch",
                "N/port_torch", "K2/legacy_aesara", "X/port_torch", "A2/legacy_aesara",
                "X/legacy_aesara", "K3/legacy_aesara", "N/legacy_aesara"]

    def __init__(self, root):
        self.root = Path(root)
        self.data = self.root / "data"
        write_mnist_files(self.data)
        yaml_dir = self.root / "yaml"
        yaml_dir.mkdir()
        text = TINY_YAML.read_text(encoding="utf-8")
        assert text.count("max_epochs: 2") == 1 and text.count("min_lr: .000001") == 1
        self.tiny4 = yaml_dir / "mnist_tiny4.yaml"
        self.tiny4.write_text(text.replace("max_epochs: 2", "max_epochs: 4"), encoding="utf-8")
        # From the first batch after resuming, ExponentialDecay floors the learning rate at min_lr.
        self.exploding = yaml_dir / "mnist_tiny4_exploding_lr.yaml"
        self.exploding.write_text(text.replace("max_epochs: 2", "max_epochs: 4")
                                  .replace("min_lr: .000001", "min_lr: 1.0e+30"), encoding="utf-8")
        self.jobs, self.results, self.queue = {}, {}, []
        self.running, self.closing, self.procs = set(), False, set()
        self.cv = threading.Condition()
        for backend in BACKENDS:
            self._add("S", backend, self._straight)
            self._add("A1", backend, self._first_half)
            self._add("A2", backend, self._second_half, "A1")
            self._add("K1", backend, self._killed)
            self._add("K2", backend, self._interrupted, "K1")
            self._add("K3", backend, self._finished, "K2")
            self._add("N", backend, self._diverging, "A1")
            self._add("X", backend, self._cross_loaded, f"A1/{OTHER[backend]}")
        self.workers = [threading.Thread(target=self._work, daemon=True) for _ in range(2)]
        for worker in self.workers:
            worker.start()

    def dir(self, name, backend):
        return self.root / backend / name

    # -- scheduling
    def _add(self, name, backend, function, *deps):
        deps = [d if "/" in d else f"{d}/{backend}" for d in deps]
        self.jobs[f"{name}/{backend}"] = (function, backend, deps)

    def start(self, keys):
        with self.cv:
            wanted, stack = set(), list(keys)
            while stack:
                key = stack.pop()
                if key not in wanted:
                    wanted.add(key)
                    stack.extend(self.jobs[key][2])
            for key in self.PRIORITY:
                if key in wanted and key not in self.queue and key not in self.results \
                        and key not in self.running:
                    self.queue.append(key)
            self.cv.notify_all()

    def get(self, name, backend):
        key = f"{name}/{backend}"
        self.start([key])
        with self.cv:
            while key not in self.results:
                self.cv.wait(1.0)
        ok, value = self.results[key]
        if not ok:
            pytest.fail(f"scenario run {key} failed: {value}")
        return value

    def _work(self):
        while True:
            with self.cv:
                key = None
                while key is None:
                    if self.closing:
                        return
                    for candidate in self.queue:
                        deps = self.jobs[candidate][2]
                        if all(d in self.results for d in deps):
                            key = candidate
                            break
                    else:
                        self.cv.wait(1.0)
                self.queue.remove(key)
                self.running.add(key)
                function, backend, deps = self.jobs[key]
                failed = [d for d in deps if not self.results[d][0]]
            try:
                if failed:
                    raise RuntimeError(f"needs {failed}, which failed")
                outcome = (True, function(backend))
            except Exception as error:  # noqa: BLE001  (reported by the test that asks)
                outcome = (False, f"{type(error).__name__}: {error}")
            with self.cv:
                self.running.discard(key)
                self.results[key] = outcome
                self.cv.notify_all()

    def close(self):
        """Drop the runs nobody started and kill the processes still running (ours only)."""
        with self.cv:
            self.closing = True
            self.cv.notify_all()
            for proc in list(self.procs):
                if proc.poll() is None:
                    proc.kill()

    # -- processes
    def _run(self, argv, log):
        proc = self._popen(argv, log, child_env(self.data))
        self._finish(proc, log)
        return self._result(proc, log)

    def _popen(self, argv, log, env):
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{log}.out", "w") as out, open(f"{log}.err", "w") as err:
            with self.cv:
                if self.closing:
                    raise RuntimeError("the test module ended")
                proc = subprocess.Popen(argv, cwd=REPO, stdout=out, stderr=err, env=env)
                self.procs.add(proc)
        return proc

    def _finish(self, proc, log):
        try:
            proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"timed out: {self._result(proc, log)}") from None

    @staticmethod
    def _result(proc, log, **facts):
        return Result(proc.returncode, Path(f"{log}.out").read_text(),
                      Path(f"{log}.err").read_text(), **facts)

    def _wait_for(self, proc, log, condition, what):
        deadline = time.time() + RUN_TIMEOUT
        while not condition():
            if proc.poll() is not None:
                raise RuntimeError(f"the process ended before {what}: {self._result(proc, log)}")
            if time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"timed out waiting for {what}: {self._result(proc, log)}")
            time.sleep(0.02)

    # -- the scenarios
    def _straight(self, backend):
        out = self.dir("S", backend)
        return self._run(cli(backend, self.tiny4, out, "--keep-checkpoints", 2), out.parent / "S")

    def _first_half(self, backend):
        out = self.dir("A", backend)
        result = self._run(cli(backend, self.tiny4, out, "--max-epochs", 2), out.parent / "A1")
        # A safe copy of the epoch-2 checkpoint for the scenarios that start from it.
        shutil.copyfile(out / "checkpoints" / "epoch_000002.npz", out.parent / "A_epoch2.npz")
        return result

    def _second_half(self, backend):
        out = self.dir("A", backend)
        return self._run(cli(backend, self.tiny4, out, "--resume"), out.parent / "A2")

    def _killed(self, backend):
        out = self.dir("K", backend)
        env = child_env(self.data, GAN2014_TEST_BATCH_DELAY=SLOW_DELAY)
        log = out.parent / "K1"
        proc = self._popen(cli(backend, self.tiny4, out, launcher=True), log, env)
        epoch2 = out / "checkpoints" / "epoch_000002.npz"
        self._wait_for(proc, log, epoch2.exists, "the epoch-2 checkpoint appeared")
        delay = random.uniform(0.0, 1.2)  # an arbitrary moment of epoch 3
        time.sleep(delay)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        checkpoints = sorted(p.name for p in (out / "checkpoints").iterdir())
        # What the kill left must load (read now: later runs in this folder rotate checkpoints).
        arrays, meta = ckpt.load_checkpoint(ckpt.latest_checkpoint(out / "checkpoints"))
        finite = all(np.isfinite(v).all() for v in arrays.values() if v.dtype.kind == "f")
        return self._result(proc, log, delay=delay, alive=alive, checkpoints=checkpoints,
                            latest_epoch=meta["epoch"], latest_finite=finite)

    def _interrupted(self, backend):
        out = self.dir("K", backend)
        # What a kill during a save leaves behind, and a file of the user's: the resumed run must
        # remove the first and keep the second.
        (out / "checkpoints" / "epoch_000003.npz.k9x_2q.tmp").write_bytes(b"PK\x03\x04 torn")
        (out / "checkpoints" / "my_notes.txt").write_text("mine")
        env = child_env(self.data, GAN2014_TEST_BATCH_DELAY=SLOW_DELAY)
        log = out.parent / "K2"
        proc = self._popen(cli(backend, self.tiny4, out, "--resume", launcher=True), log, env)
        markers = lambda: Path(f"{log}.err").read_text().count("[test-hook]")  # noqa: E731
        # Ctrl-C while the second batch after resuming sleeps: well inside the epoch.
        self._wait_for(proc, log, lambda: markers() >= 2, "two training steps")
        proc.send_signal(signal.SIGINT)
        self._finish(proc, log)
        checkpoints = sorted(p.name for p in (out / "checkpoints").iterdir())
        return self._result(proc, log, checkpoints=checkpoints)

    def _finished(self, backend):
        out = self.dir("K", backend)
        return self._run(cli(backend, self.tiny4, out, "--resume"), out.parent / "K3")

    def _diverging(self, backend):
        out = self.dir("N", backend)
        (out / "checkpoints").mkdir(parents=True)
        shutil.copyfile(self.dir("A", backend).parent / "A_epoch2.npz",
                        out / "checkpoints" / "epoch_000002.npz")
        return self._run(cli(backend, self.exploding, out, "--resume"), out.parent / "N")

    def _cross_loaded(self, backend):
        out = self.dir("X", backend)
        source = self.dir("A", OTHER[backend]).parent / "A_epoch2.npz"
        return self._run(cli(backend, self.tiny4, out, "--resume", source, "--max-epochs", 2),
                         out.parent / "X")


# Which scenario runs each test needs (started in the background as soon as the module begins).
NEEDS = {
    "test_exact_resume": ["S", "A2"],
    "test_kill9_at_an_arbitrary_moment_then_resume": ["S", "K3"],
    "test_ctrl_c_saves_the_exact_place_and_resume_continues": ["S", "K3"],
    "test_divergence_names_epoch_and_batch_and_keeps_last_good_checkpoint": ["N"],
    "test_checkpoints_cross_backends": ["X"],
    "test_rotation_keeps_at_most_k": ["S", "K3"],
    "test_bad_checkpoint": [("A1", "port_torch")],
    "test_resuming_a_finished_run_trains_nothing_more": [("S", "port_torch")],
    "test_step_seed_and_floatx_are_in_the_log_and_every_checkpoint": ["S", "A2"],
    "test_a_checkpoint_without_run_facts_resumes_exactly": [("S", "port_torch"),
                                                            ("A1", "port_torch")],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    background = Runs(tmp_path_factory.mktemp("resume_runs"))
    yield background
    background.close()


@pytest.fixture(scope="module", autouse=True)
def _start_needed_runs(request):
    """Start, before the first test, every scenario run that a selected test of this module needs,
    so that they overlap with each other and with the quick tests."""
    wanted = []
    for item in request.session.items:
        if item.module.__name__ != __name__:
            continue
        params = getattr(item, "callspec", None)
        backend = params.params.get("backend") if params else None
        for need in NEEDS.get(item.originalname, []):
            name, for_backend = need if isinstance(need, tuple) else (need, backend)
            wanted.append(f"{name}/{for_backend}")
    if wanted:
        request.getfixturevalue("runs").start(wanted)


# ------------------------------------------------------------------------------------ helpers
def latest(folder):
    path = ckpt.latest_checkpoint(Path(folder) / "checkpoints")
    assert path is not None, f"no checkpoint in {folder}"
    return path


def assert_same_state(path_a, path_b):
    """Every array (parameters, velocities, RNG states) bit-identical; metadata equal but timing."""
    arrays_a, meta_a = ckpt.load_checkpoint(path_a)
    arrays_b, meta_b = ckpt.load_checkpoint(path_b)
    assert sorted(arrays_a) == sorted(arrays_b)
    for name in arrays_a:
        assert arrays_a[name].dtype == arrays_b[name].dtype, name
        assert np.array_equal(arrays_a[name], arrays_b[name]), f"{name} differs"
    for meta in (meta_a, meta_b):
        meta.pop("total_seconds_last_epoch")
    assert meta_a == meta_b


def monitor_rows(folder):
    """monitor.jsonl rows without the timing columns (the only ones that may differ)."""
    rows = [json.loads(line) for line in (Path(folder) / "monitor.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if "seconds" not in k} for row in rows]


def assert_clean_exit(result, rc):
    assert result.rc == rc, result
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result


def params_and_velocities(arrays):
    return {name: value for name, value in arrays.items()
            if name.startswith(("G/", "D/", "velocity/"))}


# ------------------------------------------------------------------------------ 6. bad inputs
def _snapshot(folder):
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def restore_environ():
    """The YAML loader publishes PYLEARN2_TRAIN_* in os.environ, as Pylearn2 did: undo that after
    calling a command line in this process."""
    environ = dict(os.environ)
    yield
    for key in set(os.environ) - set(environ):
        del os.environ[key]
    os.environ.update(environ)


@pytest.fixture
def in_process_cli(monkeypatch, capsys, restore_environ):
    """Call a backend's command line in this process (what `python -m <backend>.run` runs: these
    inputs fail before any training, so a fresh interpreter per case would only cost imports).
    Everything under `watched` (inputs, an existing output folder holding a file of the user's)
    must be unchanged afterwards."""

    def call(backend, argv_tail, data, watched):
        monkeypatch.setenv("PYLEARN2_DATA_PATH", str(data))
        before = _snapshot(watched)
        argv = [str(a) for a in argv_tail]
        try:
            if backend == "port_torch":
                from port_torch import run
                rc = run.main(argv + ["--device", "cpu"])
            else:
                from legacy_aesara import run
                rc = run.run_main(argv)
        finally:
            mnist.clear_cache()
        captured = capsys.readouterr()
        result = Result(rc, captured.out, captured.err)
        assert _snapshot(watched) == before, f"files changed or deleted: {result}"
        return result

    return call


YAML_CASES = {
    # case: (substitution in mnist_tiny.yaml, regex the error must match)
    "unknown_class": (("pylearn2.models.maxout.Maxout {", "pylearn2.models.maxout.Maxoot {"),
                      r"bad\.yaml:\d+:\d+: unknown name 'pylearn2\.models\.maxout\.Maxoot'.*"
                      r"Did you mean 'pylearn2\.models\.maxout\.Maxout'"),
    "forbidden_target": (("batch_size: 100,", "batch_size: 100, "
                          "x: !obj:os.system { command: 'touch PWNED' },"),
                         r"bad\.yaml:\d+:\d+: unknown name 'os\.system'"),
    "wrong_type": (("batch_size: 100,", "batch_size: 'abc',"),
                   r"bad\.yaml:\d+:\d+: building !obj:pylearn2\.training_algorithms\.sgd\.SGD "
                   r"failed: ValueError: SGD: batch_size must be a positive integer, got 'abc'"),
    "missing_key": (("learning_rate: .1,", ""),
                    r"bad\.yaml:\d+:\d+: pylearn2\.training_algorithms\.sgd\.SGD did not get these "
                    r"expected arguments: learning_rate"),
    "duplicate_key": (("batch_size: 100,", "batch_size: 100, batch_size: 50,"),
                      r"bad\.yaml:\d+:\d+: duplicate key 'batch_size'"),
    # YAML 1.1 reads -.05 as text; Pylearn2 failed on it with "bad operand type for unary -".
    "text_for_a_number": (("irange: .05,", "irange: -.05,"),
                          r"bad\.yaml:\d+:\d+: .*ValueError: layer 'h0': irange must be a "
                          r"number, got '-\.05' \(text to YAML 1\.1.*write -0\.05, unquoted"),
    "no_pieces": (("num_pieces: 5,", "num_pieces: 0,"),     # was an IndexError / ZeroDivisionError
                  r"bad\.yaml:\d+:\d+: building !obj:pylearn2\.models\.maxout\.Maxout failed: "
                  r"ValueError: Maxout 'h0': num_pieces must be a positive integer, got 0"),
    "probability_above_1": (("discriminator_default_input_include_prob: .5,",
                             "discriminator_default_input_include_prob: 1.5,"),   # was accepted
                            r"bad\.yaml:\d+:\d+: building !obj:adversarial\.AdversaryCost2 "
                            r"failed: ValueError: AdversaryCost2: "
                            r"discriminator_default_input_include_prob must be in \(0, 1\], "
                            r"got 1\.5"),
    "negative_learning_rate": (("learning_rate: .1,", "learning_rate: -0.1,"),   # was accepted
                               r"bad\.yaml:\d+:\d+: .*SGD: learning_rate must be >= 0, "
                               r"got -0\.1"),
    # Text in a layer's W_lr_scale failed only at the first update (numpy / torch messages).
    "lr_scale_as_text": (("layer_name: 'h0',\n", "layer_name: 'h0', W_lr_scale: 5e-1,\n"),
                         r"bad\.yaml:\d+:\d+: .*layer 'h0': W_lr_scale must be a number, got "
                         r"'5e-1' \(text to YAML 1\.1.*write 0\.5"),
    "quoted_flag": (("scale_grads: 0,", "scale_grads: 'no',"),   # was on: 'no' is true to Python
                    r"bad\.yaml:\d+:\d+: .*AdversaryCost2: scale_grads must be true, false, 0 "
                    r"or 1, got 'no' \(text: write it unquoted\)"),
    "momentum_above_1": (("final_momentum: .7", "final_momentum: 2."),   # was accepted
                         r"bad\.yaml:\d+:\d+: .*MomentumAdjustor: final_momentum must be in "
                         r"\[0, 1\), got 2\.0"),
    "negative_epochs": (("max_epochs: 2", "max_epochs: -1"),   # was accepted
                        r"bad\.yaml:\d+:\d+: .*EpochCounter: max_epochs must be a whole number "
                        r">= 0, got -1"),
    # The 2014 code raised NotImplementedError('unifrom') only when it first drew noise.
    "unknown_noise": (("noise: 'uniform',", "noise: 'unifrom',"),
                      r"bad\.yaml:\d+:\d+: building !obj:adversarial\.Generator failed: "
                      r"ValueError: Generator: noise must be one of 'uniform', 'gaussian', "
                      r"'spherical', got 'unifrom'"),
}


@pytest.fixture(scope="module")
def data_root(runs):
    return runs.data


def _bad_yaml_and_a_used_out_folder(tmp_path, config_dir, old, new):
    """mnist_tiny.yaml with the first `old` replaced by `new`, in config_dir/bad.yaml, and an
    output folder that already holds a file of the user's."""
    text = TINY_YAML.read_text(encoding="utf-8")
    assert old in text
    config_dir.mkdir(exist_ok=True)
    config = config_dir / "bad.yaml"
    config.write_text(text.replace(old, new, 1), encoding="utf-8")
    out = tmp_path / "out"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "keep_me.txt").write_text("user file")
    return config, out


@pytest.mark.parametrize("case", sorted(YAML_CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_yaml(tmp_path, data_root, in_process_cli, backend, case):
    """A bad YAML (unknown class, forbidden !obj: target, wrong type, missing required argument,
    duplicate key, unknown noise kind, a number YAML reads as text, a value no run can mean)
    stops before anything is built or written: exit code 2,
    one error naming the file and line, no traceback, nothing created or deleted (an existing
    output folder untouched). Exact: exit code, each case's message pattern and every file's
    bytes (the fixture's snapshot); the message is the user's only guide."""
    (old, new), pattern = YAML_CASES[case]
    config, out = _bad_yaml_and_a_used_out_folder(tmp_path, tmp_path, old, new)
    result = in_process_cli(backend, [config, "--out", out], data_root, tmp_path)
    assert_clean_exit(result, 2)
    assert re.search(r"error: .*" + pattern, result.stderr), result
    assert not (REPO / "PWNED").exists() and not (tmp_path / "PWNED").exists()


SETUP_CASES = {
    # Only when training is set up is it known which layers the MLP has and how wide the data are.
    "dropout_for_a_missing_layer": (("'h0': .8", "'h9': .8"),
                                    r"bad\.yaml: a dropout setting names layer\(s\) \['h9'\] "
                                    r"that the MLP does not have \(its layers: \['h0', 'h1', "
                                    r"'y'\]\)"),
    "input_narrower_than_the_data": (("nvis: 784,", "nvis: 99,"),
                                     r"bad\.yaml: the model's input space VectorSpace\(dim=99\) "
                                     r"has 99 dimensions but the dataset's rows have 784"),
}


@pytest.mark.parametrize("case", sorted(SETUP_CASES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_objects_that_do_not_fit_together_stop_when_training_is_set_up(tmp_path, data_root,
                                                                      in_process_cli, backend,
                                                                      case):
    """A YAML whose objects are each valid but do not fit together (both were tracebacks): exit
    code 2, one error naming the file, the user's file in the output folder kept. Exact: exit
    code and the message pattern."""
    (old, new), pattern = SETUP_CASES[case]
    inputs = tmp_path / "inputs"
    config, out = _bad_yaml_and_a_used_out_folder(tmp_path, inputs, old, new)
    result = in_process_cli(backend, [config, "--out", out], data_root, inputs)
    assert_clean_exit(result, 2)
    assert re.search(r"error: .*" + pattern, result.stderr), result
    assert (out / "checkpoints" / "keep_me.txt").read_text() == "user file"


def test_fused_path_refuses_a_cost_it_cannot_do(tmp_path, data_root, in_process_cli):
    """`legacy_aesara.run --path fused` on a cost option the fused gradients do not implement
    (no_drop_in_d_for_g) stops before training with exit code 2 and names the option; `--path
    auto` would quietly use aesara.grad instead. Exact: exit code and a message naming fused and
    the option; the message is the user's only guide."""
    text = TINY_YAML.read_text(encoding="utf-8")
    old = "            scale_grads: 0,\n"
    assert old in text
    config = tmp_path / "no_drop.yaml"
    config.write_text(text.replace(old, old + "            no_drop_in_d_for_g: 1,\n", 1),
                      encoding="utf-8")
    result = in_process_cli("legacy_aesara", [config, "--out", tmp_path / "out", "--path", "fused"],
                            data_root, tmp_path)
    assert_clean_exit(result, 2)
    assert re.search(r"error: .*fused.*no_drop_in_d_for_g", result.stderr), result


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_dataset_file(tmp_path, in_process_cli, backend):
    """A PYLEARN2_DATA_PATH without mnist/: exit code 2, the error names the YAML line, the missing
    file and how to get it; no traceback, nothing written. Exact: exit code, the message text (YAML
    position, missing file, fetch command) and no output folder; the message is the user's only
    guide."""
    empty = tmp_path / "empty_data"
    empty.mkdir()
    result = in_process_cli(backend, [TINY_YAML, "--out", tmp_path / "out"], empty, tmp_path)
    assert_clean_exit(result, 2)
    assert re.search(r"mnist_tiny\.yaml:\d+:\d+: building !obj:pylearn2\.datasets\.mnist\.MNIST "
                     r"failed: DatasetError: IDX file not found: .*train-images-idx3-ubyte",
                     result.stderr), result
    assert "python -m gan2014.datasets.fetch mnist" in result.stderr
    assert not (tmp_path / "out").exists()


def _full_size_checkpoint(template, target, data_root, monkeypatch):
    """`template` (a tiny-model checkpoint) with every parameter and velocity replaced by the
    full-size model of yaml_experiments/mnist.yaml (built here with the torch registry)."""
    from gan2014.config.yaml_parse import load, train_file_variables
    from port_torch.registry import REGISTRY

    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(data_root))
    mnist.clear_cache()
    try:
        train = load(FULL_YAML.read_text(encoding="utf-8"), REGISTRY, filename=str(FULL_YAML),
                     environ=train_file_variables(str(FULL_YAML)))
        values = train.model.get_param_values()
    finally:
        mnist.clear_cache()
    arrays, meta = ckpt.load_checkpoint(template)
    for name, value in values.items():
        arrays[name] = value
        arrays["velocity/" + name] = np.zeros_like(value)
    ckpt.save_checkpoint(target, arrays, meta)
    return values["G/h0_W"].shape


@pytest.mark.parametrize("case", ["truncated", "other_model", "newer_format", "none_in_out"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_checkpoint(tmp_path, runs, monkeypatch, in_process_cli, backend, case):
    """--resume with a truncated checkpoint, one of another model (the full-size mnist.yaml model's
    shapes), one of a newer format version, or an output folder without checkpoints: exit code 2
    before any compilation, one error naming the file and the problem (for another model: the
    parameter and both shapes), no traceback; the checkpoint file itself is left as it was. Exact:
    exit code, each case's message and the files' bytes; the 60 s wall-clock limit is only a loose
    backstop to the 'Compiling' check, not a timing."""
    runs.get("A1", "port_torch")
    template = runs.dir("A", "port_torch").parent / "A_epoch2.npz"
    bad = tmp_path / "given.npz"
    if case == "truncated":
        data = template.read_bytes()
        bad.write_bytes(data[:len(data) // 2])
        pattern = (rf"{re.escape(str(bad))} is not a readable checkpoint \(\.npz\), "
                   r"it may be truncated")
    elif case == "other_model":
        shape = _full_size_checkpoint(template, bad, runs.data, monkeypatch)
        pattern = (rf"{re.escape(str(bad))}: parameter G/h0_W has shape \({shape[0]}, "
                   rf"{shape[1]}\), "
                   r"the model expects \(10, 32\): it comes from another model")
    elif case == "newer_format":
        arrays, meta = ckpt.load_checkpoint(template)
        meta["format_version"] = ckpt.FORMAT_VERSION + 1
        arrays[ckpt.META_KEY] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        with open(bad, "wb") as handle:
            np.savez(handle, **arrays)
        pattern = (rf"{re.escape(str(bad))} has checkpoint format version "
                   rf"{ckpt.FORMAT_VERSION + 1}, "
                   "newer than this code's")
    else:
        pattern = r"--resume: no checkpoint in \S+checkpoints"
    out = tmp_path / "out"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / "keep_me.txt").write_text("user file")
    resume = ["--resume"] if case == "none_in_out" else ["--resume", bad]
    began = time.time()
    result = in_process_cli(backend, [runs.tiny4, "--out", out] + resume, runs.data, tmp_path)
    assert_clean_exit(result, 2)
    assert re.search("error: " + pattern, result.stderr), result
    assert "Compiling" not in result.stdout, "the checkpoint must be checked before compiling"
    assert time.time() - began < 60


def run_torch_cli_in_process(argv):
    """port_torch's command line in this process, with one torch thread (restored afterwards)."""
    import torch

    from port_torch import run as torch_run

    threads = torch.get_num_threads()
    try:
        return torch_run.main([str(a) for a in argv] + ["--device", "cpu", "--threads", "1"])
    finally:
        mnist.clear_cache()
        torch.set_num_threads(threads)


# ------------------------------------------------------------------------------ 7. disk full
def test_disk_full_while_saving_keeps_the_previous_checkpoint(runs, tmp_path, monkeypatch, capsys,
                                                              restore_environ):
    """np.savez failing with ENOSPC on the second save (in-process run of the torch CLI; the save
    path is the shared gan2014 one): exit code 1, the error says the disk is full and that the last
    checkpoint is intact; that checkpoint is byte-identical to what was written and loadable, and
    no temporary file is left."""
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(runs.data))
    out = tmp_path / "out"
    first = out / "checkpoints" / "epoch_000001.npz"
    real_savez, calls, seen = np.savez, [], {}

    def savez(file, **arrays):
        calls.append(1)
        if len(calls) == 2:
            seen["first"] = first.read_bytes()
            file.write(b"partial data before the disk filled up")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_savez(file, **arrays)

    monkeypatch.setattr(np, "savez", savez)
    rc = run_torch_cli_in_process([runs.tiny4, "--out", out, "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "No space left on device" in err
    assert f"The last checkpoint written, {first}, is intact" in err, err
    assert len(calls) == 2
    assert sorted(p.name for p in first.parent.iterdir()) == ["epoch_000001.npz"]
    assert first.read_bytes() == seen["first"]
    monkeypatch.setattr(np, "savez", real_savez)
    arrays, meta = ckpt.load_checkpoint(first)
    assert meta["epoch"] == 1


# ------------------------------------------------------------------------------ 1. exact resume
@pytest.mark.parametrize("backend", BACKENDS)
def test_exact_resume(runs, backend):
    """4 epochs straight == 2 epochs, then --resume to 4 in a new process: the final checkpoint's
    parameters, velocities and RNG states are bit-identical (np.array_equal), and monitor.jsonl has
    the same rows (every channel of epochs 0-4, in particular 3-4), each epoch exactly once."""
    straight, first, second = (runs.get(n, backend) for n in ("S", "A1", "A2"))
    for result in (straight, first, second):
        assert_clean_exit(result, 0)
    assert "Resumed from" in second.stdout and "epoch_000002.npz" in second.stdout
    resumed = runs.dir("A", backend)
    assert latest(resumed).name == "epoch_000004.npz"
    assert_same_state(latest(runs.dir("S", backend)), latest(resumed))
    rows = monitor_rows(resumed)
    assert [row["epoch"] for row in rows] == [0, 1, 2, 3, 4]
    assert rows[3:] == monitor_rows(runs.dir("S", backend))[3:]
    assert rows == monitor_rows(runs.dir("S", backend))


# ------------------------------------------------------------------------------ 2. kill -9
@pytest.mark.parametrize("backend", BACKENDS)
def test_kill9_at_an_arbitrary_moment_then_resume(runs, backend):
    """SIGKILL at a random moment after the epoch-2 checkpoint exists: the latest checkpoint left
    on disk loads; resuming (here through a Ctrl-C stop and a second resume) ends with parameters,
    velocities and monitor rows bit-identical to the straight run; the temporary file a kill during
    a save leaves is removed by the next run (a file of the user's is not), none is left at the
    end."""
    killed = runs.get("K1", backend)
    assert killed.facts["alive"], f"the run had already ended when killed: {killed}"
    assert killed.rc == -9, killed
    # What the kill left: the latest checkpoint (epoch 2 or 3, wherever the kill landed) loads.
    assert "epoch_000002.npz" in killed.facts["checkpoints"], killed
    assert killed.facts["latest_epoch"] in (2, 3) and killed.facts["latest_finite"], killed
    interrupted, finished = runs.get("K2", backend), runs.get("K3", backend)
    assert "Removed" in interrupted.stdout and "k9x_2q.tmp" in interrupted.stdout, interrupted
    assert_clean_exit(finished, 0)
    folder = runs.dir("K", backend)
    names = sorted(p.name for p in (folder / "checkpoints").iterdir())
    assert not [n for n in names if n.endswith(".tmp")], names
    assert (folder / "checkpoints" / "my_notes.txt").read_text() == "mine"
    assert latest(folder).name == "epoch_000004.npz"
    ckpt.load_checkpoint(latest(folder))
    straight = ckpt.load_checkpoint(latest(runs.dir("S", backend)))[0]
    final = ckpt.load_checkpoint(latest(folder))[0]
    for name, value in params_and_velocities(straight).items():
        assert np.array_equal(value, final[name]), f"{name} differs after kill -9 + resume"
    assert_same_state(latest(runs.dir("S", backend)), latest(folder))
    # Rows of epochs the killed run monitored but never checkpointed are not doubled.
    assert monitor_rows(folder) == monitor_rows(runs.dir("S", backend))


# ------------------------------------------------------------------------------ 3. Ctrl-C
@pytest.mark.parametrize("backend", BACKENDS)
def test_ctrl_c_saves_the_exact_place_and_resume_continues(runs, backend):
    """SIGINT inside an epoch: the process finishes the batch in progress, writes a mid-epoch
    checkpoint (epoch_E_batch_B.npz: the SGD's place in the epoch's batch order included), prints
    one message naming it, no traceback, exits 130; --resume continues from exactly there (the final
    state is bit-identical to the straight run's)."""
    interrupted, finished = runs.get("K2", backend), runs.get("K3", backend)
    assert_clean_exit(interrupted, 130)
    match = re.search(r"Interrupted \(Ctrl-C\) in epoch (\d) after batch (\d) of 6\. Saved "
                      r"checkpoint (\S+\.npz); --resume continues exactly from "
                      r"there", interrupted.stderr)
    assert match, interrupted
    epoch, batch, path = int(match.group(1)), int(match.group(2)), Path(match.group(3))
    assert epoch in (3, 4) and 1 <= batch < BATCHES_PER_EPOCH
    assert path.name == f"epoch_{epoch - 1:06d}_batch_{batch:06d}.npz"
    assert path.name in interrupted.facts["checkpoints"], interrupted
    assert f"Resumed from {path} (epoch {epoch - 1} + {batch} batches of epoch {epoch}" \
        in finished.stdout, finished
    assert_same_state(latest(runs.dir("S", backend)), latest(runs.dir("K", backend)))


# ------------------------------------------------------------------------------ 4. NaN / Inf
@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_names_epoch_and_batch_and_keeps_last_good_checkpoint(runs, backend):
    """An exploding learning rate: the SGD's per-batch check stops the run with a message naming the
    epoch, the batch and the parameters, exit code 1, no traceback; the last good checkpoint stays
    byte-identical and loadable, and nothing was saved after it."""
    result = runs.get("N", backend)
    assert_clean_exit(result, 1)
    folder = runs.dir("N", backend)
    good = folder / "checkpoints" / "epoch_000002.npz"
    assert re.search(r"error: training diverged: non-finite values \(NaN or Inf\) in [GD]/\S+.* "
                     r"after epoch 3, batch [1-6] of 6 \(batches seen in total: 1[3-8]\)",
                     result.stderr), result
    assert f"last good checkpoint, {good}, which is intact" in result.stderr, result
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["epoch_000002.npz"]
    assert good.read_bytes() == (runs.dir("A", backend).parent / "A_epoch2.npz").read_bytes()
    arrays, meta = ckpt.load_checkpoint(good)
    assert meta["epoch"] == 2 and all(np.isfinite(v).all() for v in arrays.values()
                                      if v.dtype.kind == "f")


# ------------------------------------------------------------------------------ 5. cross-backend
def _epoch_counter(state):
    """EpochCounter's count under either backend's key (legacy_aesara: epochs_done, torch:
    count)."""
    value = state.get("epochs_done", state.get("count"))
    return value or 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_checkpoints_cross_backends(runs, backend):
    """A checkpoint of the other backend resumes here: parameters, velocities, learning rate,
    momentum, the ExponentialDecay / MomentumAdjustor / EpochCounter states, counters and the
    batch-order RNG are carried exactly (the run re-saves what it loaded: compared with the source);
    the noise/dropout stream states are not transferable, and the run says they are re-seeded."""
    result = runs.get("X", backend)
    assert_clean_exit(result, 0)
    other = OTHER[backend]
    assert f"was written by the {other} backend" in result.stdout, result
    assert "re-seeded" in result.stdout, result
    source_arrays, source = ckpt.load_checkpoint(runs.dir("A", other).parent / "A_epoch2.npz")
    arrays, meta = ckpt.load_checkpoint(runs.dir("X", backend) / "checkpoints" / "epoch_000002.npz")
    assert meta["backend"] == backend and source["backend"] == other
    carried = params_and_velocities(source_arrays)
    assert len(carried) == 24  # 12 parameters, 12 velocities
    for name, value in carried.items():
        assert arrays[name].dtype == value.dtype and np.array_equal(arrays[name], value), name
    assert np.array_equal(arrays["rng/sgd_iterator/keys"], source_arrays["rng/sgd_iterator/keys"])
    mine, theirs = meta["algorithm"], source["algorithm"]
    for key in ("learning_rate", "momentum", "batches_seen", "examples_seen", "sgd_iterator_rng",
                "update_callbacks"):
        assert mine[key] == theirs[key], key
    assert meta["extensions"] == source["extensions"]  # MomentumAdjustor
    assert meta["epoch"] == source["epoch"] == 2
    # The source was saved before its EpochCounter was asked after epoch 2; resuming asks it.
    assert _epoch_counter(mine["termination_criterion"]) == \
        _epoch_counter(theirs["termination_criterion"]) + 1
    # Backend-specific stream states: this backend's own, not the other's.
    own = [n for n in arrays if n.startswith("rng/") and n != "rng/sgd_iterator/keys"]
    assert own and not [n for n in own if n in source_arrays]


# ------------------------------------------------------------------------------ 8. rotation
@pytest.mark.parametrize("backend", BACKENDS)
def test_rotation_keeps_at_most_k(runs, backend):
    """--keep-checkpoints 2 keeps the newest 2 epoch checkpoints; the default keeps 3, the
    mid-epoch checkpoint of a Ctrl-C counting among them. Exact: file names and integer epochs."""
    assert_clean_exit(runs.get("S", backend), 0)
    names = sorted(p.name for p in (runs.dir("S", backend) / "checkpoints").iterdir())
    assert names == ["epoch_000003.npz", "epoch_000004.npz"]
    interrupted = runs.get("K2", backend)
    mid_epoch = [name for name in interrupted.facts["checkpoints"] if "_batch_" in name]
    runs.get("K3", backend)
    kept = ckpt.list_checkpoints(runs.dir("K", backend) / "checkpoints")
    assert len(kept) == 3 and kept[-1][0] == 4
    assert len(mid_epoch) == 1 and mid_epoch[0] in [p.name for _, p in kept], (mid_epoch, kept)


# ------------------------------------------------------------------------------ smaller pieces
def test_resuming_a_finished_run_trains_nothing_more(runs, tmp_path, monkeypatch, capsys,
                                                     restore_environ):
    """A checkpoint is written before the termination criterion is asked (Pylearn2's order) and
    says so; resuming asks the same question first. So --resume of a run its EpochCounter ended
    trains no extra epoch, and re-saves exactly the state it loaded."""
    final = latest(runs.dir("S", "port_torch"))
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(runs.data))
    out = tmp_path / "out"
    rc = run_torch_cli_in_process([runs.tiny4, "--out", out, "--resume", final, "--quiet"])
    printed = capsys.readouterr().out
    assert rc == 0 and "nothing to train" in printed and "Done: 4 epochs" in printed, printed
    assert [e for e, _ in ckpt.list_checkpoints(out / "checkpoints")] == [4]
    again, _ = ckpt.load_checkpoint(out / "checkpoints" / "epoch_000004.npz")
    for name, value in params_and_velocities(ckpt.load_checkpoint(final)[0]).items():
        assert np.array_equal(again[name], value), name


# ------------------------------------------------------------------------------ 10. run facts
@pytest.mark.parametrize("backend", BACKENDS)
def test_step_seed_and_floatx_are_in_the_log_and_every_checkpoint(runs, backend):
    """The step implementation that ran (auto chooses fused for mnist_tiny on the CPU, on both
    backends), the seed (10097, the default) and floatX (float32) are in the `Run:` header line of
    the log, in run_facts.jsonl (one line per start: the resumed run adds one at epoch 2) and in
    the metadata of every checkpoint, the resumed run's included. Exact strings and values."""
    facts = {"backend": backend, "step": "fused", "seed": 10097, "floatX": "float32"}
    header = f"Run: backend {backend}, step fused, seed 10097, floatX float32"
    straight, resumed = runs.get("S", backend), runs.get("A2", backend)
    for result in (straight, resumed):
        assert_clean_exit(result, 0)
        assert header in result.stdout, result
    for name in ("S", "A"):
        for _epoch, path in ckpt.list_checkpoints(runs.dir(name, backend) / "checkpoints"):
            assert ckpt.load_checkpoint(path)[1]["run"] == facts, path
    lines = read_jsonl(runs.dir("A", backend) / "run_facts.jsonl")
    assert lines == [dict(facts, epoch=0), dict(facts, epoch=2)]


def test_a_checkpoint_without_run_facts_resumes_exactly(runs, tmp_path, monkeypatch, capsys,
                                                        restore_environ):
    """A checkpoint written before the run facts existed (the epoch-2 checkpoint with its `run`
    metadata removed, re-saved through gan2014.checkpoint) still resumes: --max-epochs 3 ends in
    the straight run's epoch-3 parameters, velocities and RNG states bit for bit, and the new
    checkpoint carries the facts."""
    arrays, meta = ckpt.load_checkpoint(runs.dir("A", "port_torch").parent / "A_epoch2.npz")
    del meta["run"]
    old = tmp_path / "old" / "epoch_000002.npz"
    old.parent.mkdir()
    ckpt.save_checkpoint(old, arrays, meta)
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(runs.data))
    out = tmp_path / "out"
    rc = run_torch_cli_in_process([runs.tiny4, "--out", out, "--resume", old, "--max-epochs", 3,
                                   "--quiet"])
    assert rc == 0, capsys.readouterr()
    resumed, resumed_meta = ckpt.load_checkpoint(out / "checkpoints" / "epoch_000003.npz")
    straight, _ = ckpt.load_checkpoint(runs.dir("S", "port_torch") / "checkpoints"
                                       / "epoch_000003.npz")
    assert sorted(resumed) == sorted(straight)
    for name, value in straight.items():
        assert np.array_equal(resumed[name], value), name
    assert resumed_meta["run"]["step"] == "fused"


def test_a_second_run_into_the_same_folder_is_refused(runs, tmp_path, in_process_cli):
    """While a run holds its output folder (a lock the kernel drops however the process ends), a
    second run into it stops before training with exit code 2 and says why. Exact: exit code,
    message text and the folder's files; the message is the user's only guide."""
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = in_process_cli("port_torch", [runs.tiny4, "--out", out], runs.data, tmp_path)
    assert_clean_exit(result, 2)
    assert f"error: {out} is in use by another training run" in result.stderr, result


def test_monitor_log_truncation_drops_later_epochs_and_a_torn_line(tmp_path):
    """Resuming from epoch 2 drops the rows of later epochs (monitored by the interrupted run before
    their checkpoint was written) and a line torn by a kill, from both log files. Exact: the count
    of dropped lines (2: the epoch-3 row and the torn line) and the epochs left in each file."""
    log = MonitorLog(tmp_path, verbose=False, stream=io.StringIO())
    for epoch in range(4):
        log.record(epoch, 6 * epoch, 600 * epoch, 0.0, {"valid_objective_d": 0.5 + epoch})
    with open(tmp_path / "monitor.jsonl", "a") as handle:
        handle.write('{"epoch": 4, "batches_se')
    assert MonitorLog(tmp_path, verbose=False).truncate_after(2) == 2
    assert [row["epoch"] for row in read_jsonl(tmp_path / "monitor.jsonl")] == [0, 1, 2]
    with open(tmp_path / "monitor.csv", newline="") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["0", "1", "2"]
