"""The Table-1 driver (gan2014/table1.py through `python -m port_torch.table1`), end to end on CPU.

Every run trains yaml_experiments/smoke/mnist_tiny.yaml (the structure of mnist.yaml with small
layers; its EpochCounter raised so that --epochs decides) on generated MNIST files in the real IDX
format: random pixels in the training rows the config reads, in the 10,000 validation images
(train[50000:60000]) and in the 10,000 test images, so that Parzen scores differ between epochs.
The driver's `main` is called in-process (no torch import per command); Parzen uses 50 samples.

The runs are shared by the module: REFERENCE trains two seeds to 5 epochs in one command;
RESUMED trains the same in four commands, paused by a scripted budget at chosen epochs, with the
last validation row deleted once (what a kill between a checkpoint and its validation leaves).
"""
import gzip
import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from gan2014 import checkpoint as ckpt
from gan2014 import parzen, parzen_cli, table1
from gan2014.datasets import mnist
from gan2014.datasets.idx import write_idx
from parity_tests.helpers import mnist_data_path
from port_torch import table1 as torch_table1

REPO = Path(__file__).resolve().parents[1]
TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"
SEEDS = (0, 1)
EPOCHS = 5
VALID_EVERY = 2            # validations after epochs 2, 4 and 5 (the last)
N_SAMPLES = 50
# Fields of a validation row that are measurements of time, not results.
TIMING_FIELDS = {"seconds", "recorded_at"}


def write_mnist(root):
    """The four MNIST files at full size; random pixels where the tests read (train 0-800, the
    validation images 50000-60000, the test set), with 0 and 255 present for the bias init."""
    rng = np.random.RandomState(7)
    folder = Path(root) / "mnist"
    folder.mkdir(parents=True)
    train = np.zeros((60000, 28, 28), np.uint8)
    train[:800] = rng.randint(0, 256, size=(800, 28, 28))
    # Sparse bright strokes, closer to digits than uniform noise: scores then move with training.
    train[50000:] = (rng.rand(10000, 28, 28) < 0.15) * rng.randint(128, 256, size=(10000, 28, 28))
    train[0, 0, 0], train[799, 27, 27] = 0, 255
    test = ((rng.rand(10000, 28, 28) < 0.15) * rng.randint(128, 256, size=(10000, 28, 28)))
    write_idx(str(folder / "train-images-idx3-ubyte"), train)
    write_idx(str(folder / "train-labels-idx1-ubyte"), np.zeros(60000, np.uint8))
    write_idx(str(folder / "t10k-images-idx3-ubyte"), test.astype(np.uint8))
    write_idx(str(folder / "t10k-labels-idx1-ubyte"), np.zeros(10000, np.uint8))


class ScriptedBudget(table1.TimeBudget):
    """A budget that allows exactly ``calls`` questions, then refuses every later one. The driver
    asks once before it builds a seed and once before each epoch (after validating the epoch just
    done), so a command resumed at epoch e with calls = k trains epochs e+1 .. e+k-1 and pauses
    (deterministic, unlike a clock)."""

    def __init__(self, calls):
        super().__init__(None)
        self.calls = calls

    def allows(self, seconds):
        self.calls -= 1
        return self.calls >= 0


# One torch thread for every test of this module (the top-level conftest.py).
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("table1")
    write_mnist(root / "data")
    config = root / "tiny.yaml"
    config.write_text(TINY_YAML.read_text().replace("max_epochs: 2", "max_epochs: 100"))
    with mnist_data_path(root / "data"):
        yield root, config


def driver(config, out, *extra, budget=None):
    argv = ["--config", str(config), "--out", str(out), "--epochs", str(EPOCHS),
            "--valid-every", str(VALID_EVERY), "--n-samples", str(N_SAMPLES),
            "--keep-checkpoints", "0", "--seeds", *map(str, SEEDS), "-q", *map(str, extra)]
    return torch_table1.main(argv, budget=budget)


@pytest.fixture(scope="module")
def reference(workspace):
    root, config = workspace
    out = root / "reference"
    assert driver(config, out) == table1.EXIT_DONE
    return out


@pytest.fixture(scope="module")
def resumed(workspace):
    """The same work in four commands: paused after epoch 3 of seed 0; after epoch 4 of seed 0
    (its epoch-4 validation row then deleted); after epoch 2 of seed 1; then to the end."""
    root, config = workspace
    out = root / "resumed"
    codes = [driver(config, out, budget=ScriptedBudget(4))]      # seed 0: epochs 1-3
    codes.append(driver(config, out, budget=ScriptedBudget(2)))  # seed 0: epoch 4, validated
    history = out / "seed_0" / table1.HISTORY
    rows = history.read_text().splitlines()
    assert json.loads(rows[-1])["epoch"] == 4
    history.write_text("\n".join(rows[:-1]) + "\n")              # as if killed before the row
    codes.append(driver(config, out, budget=ScriptedBudget(5)))  # seed 0 to 5; seed 1: 1-2
    codes.append(driver(config, out))                            # seed 1 to the end
    return out, codes


def bundle_members(folder):
    with gzip.GzipFile(fileobj=table1._Joined(sorted(Path(folder).iterdir()))) as stream, \
            tarfile.open(fileobj=stream, mode="r|") as archive:
        return [member.name for member in archive]


def history(out, seed):
    return [{k: v for k, v in row.items() if k not in TIMING_FIELDS}
            for row in table1.read_jsonl(table1.seed_dir(out, seed) / table1.HISTORY)]


def test_resumed_commands_equal_one_uninterrupted_command(reference, resumed):
    """Property: a run paused by the time budget (three times) and continued by re-running the same
    command ends with the same parameters, velocities and RNG states (bit for bit), the same
    validation history (every number, bit for bit) and the same monitor log as one uninterrupted
    command; a validation lost between a checkpoint and its row is redone. Tolerance 0: the
    resumed run replays the same float32 arithmetic from exact checkpoints, and validation samples
    come from a generator of their own, so nothing may differ."""
    out, codes = resumed
    assert codes == [table1.EXIT_UNFINISHED] * 3 + [table1.EXIT_DONE]
    for seed in SEEDS:
        assert [r["epoch"] for r in history(out, seed)] == [2, 4, 5]
        assert history(out, seed) == history(reference, seed)
        final_a, _ = ckpt.load_checkpoint(table1.seed_dir(reference, seed) / "checkpoints"
                                          / "epoch_000005.npz")
        final_b, _ = ckpt.load_checkpoint(table1.seed_dir(out, seed) / "checkpoints"
                                          / "epoch_000005.npz")
        assert sorted(final_a) == sorted(final_b)
        for name in final_a:
            np.testing.assert_array_equal(final_a[name], final_b[name], err_msg=name)
        monitor = [table1.read_jsonl(table1.seed_dir(run, seed) / "monitor.jsonl")
                   for run in (reference, out)]
        strip = [[{k: v for k, v in row.items() if "seconds" not in k} for row in rows]
                 for rows in monitor]
        assert strip[0] == strip[1]
    sessions = table1.read_jsonl(out / table1.DRIVER_LOG)
    assert [(s["seed"], s["first_epoch"], s["last_epoch"], s["state"]) for s in sessions] == [
        (0, 0, 3, "paused"), (0, 3, 4, "paused"), (0, 4, 5, "done"), (1, 0, 2, "paused"),
        (1, 2, 5, "done")]
    # Every row names the code that trained its epochs: this checkout's commit (None outside a git
    # checkout, e.g. an unpacked source archive).
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    if head:
        assert all(s["commit"].split("+")[0] == head for s in sessions), sessions
    else:
        assert all(s["commit"] is None for s in sessions), sessions


def test_a_copy_outside_git_names_the_commit_it_was_made_from(tmp_path):
    """The driver log names the code that trained. A copy of the package without its git
    repository (what a GPU machine's checkout receives) names $GAN2014_SOURCE_COMMIT, which to-gpu
    records and the sitting exports; with the variable unset, None. Exact: strings."""
    import shutil
    import sys

    shutil.copytree(REPO / "gan2014", tmp_path / "gan2014",
                    ignore=shutil.ignore_patterns("__pycache__"))
    probe = "from gan2014.table1.backend import source_commit; print(source_commit())"
    env = {k: v for k, v in os.environ.items() if k != "GAN2014_SOURCE_COMMIT"}
    env["GIT_CEILING_DIRECTORIES"] = str(tmp_path.parent)   # no repository above the copy either
    named = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                           text=True, env=dict(env, GAN2014_SOURCE_COMMIT="abc123+modified"))
    unnamed = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                             text=True, env=env)
    assert named.stdout.strip() == "abc123+modified", named.stderr
    assert unnamed.stdout.strip() == "None", unnamed.stderr


def test_monitoring_and_saving_every_other_epoch_change_no_training_number(workspace,
                                                                         reference):
    """Property: --monitor-every 2 monitors after epochs 0, 2, 4 and the last (5) only,
    --save-every 2 writes the checkpoints of epochs 2, 4 and 5 only, and the run ends with the same
    parameters, velocities, batch order and noise/dropout generator states (bit for bit) and the
    same validation history as the reference, which monitored every epoch: the monitor draws from a
    generator of its own ("rng/torch/monitor", the one array allowed to differ). Tolerance 0."""
    root, config = workspace
    out = root / "monitor_every_2"
    argv = ["--config", str(config), "--out", str(out), "--epochs", str(EPOCHS),
            "--valid-every", str(VALID_EVERY), "--n-samples", str(N_SAMPLES),
            "--keep-checkpoints", "0", "--seeds", "0", "-q", "--monitor-every", "2",
            "--save-every", "2"]
    assert torch_table1.main(argv) == table1.EXIT_DONE
    rows = table1.read_jsonl(table1.seed_dir(out, 0) / "monitor.jsonl")
    assert [row["epoch"] for row in rows] == [0, 2, 4, 5]
    # --save-every 2: checkpoints of the validated epochs and of the last one only.
    saved = sorted(p.name for p in (table1.seed_dir(out, 0) / "checkpoints").iterdir())
    assert saved == ["epoch_000002.npz", "epoch_000004.npz", "epoch_000005.npz"]
    assert history(out, 0) == history(reference, 0)
    final = checkpoint_arrays(table1.seed_dir(out, 0), EPOCHS)
    expected = checkpoint_arrays(table1.seed_dir(reference, 0), EPOCHS)
    assert sorted(final) == sorted(expected)
    for name in final:
        if name != "rng/torch/monitor":
            np.testing.assert_array_equal(final[name], expected[name], err_msg=name)


def test_best_checkpoint_is_the_max_validation_score(reference):
    """Property: best_valid.npz holds exactly the parameters (and only the parameters) of the
    checkpoint of the epoch whose validation score is the largest in the history (the earliest on a
    tie), and each row says whether it was the best so far. Exact: the arrays are copied."""
    for seed in SEEDS:
        rows = history(reference, seed)
        scores = [r["valid_ll"] for r in rows]
        best = rows[int(np.argmax(scores))]
        folder = table1.seed_dir(reference, seed)
        arrays, meta = ckpt.load_checkpoint(folder / table1.BEST)
        source, source_meta = ckpt.load_checkpoint(
            ckpt.checkpoint_path(folder / "checkpoints", best["epoch"]))
        assert meta["epoch"] == best["epoch"] and meta["parameters_only"]
        assert sorted(arrays) == sorted(source_meta["param_names"])
        for name in arrays:
            np.testing.assert_array_equal(arrays[name], source[name], err_msg=name)
        running = np.maximum.accumulate(scores)
        flags = [True] + [scores[i] > running[i - 1] for i in range(1, len(scores))]
        assert [r["best_so_far"] for r in rows] == flags


def test_best_checkpoint_survives_later_worse_epochs(workspace, monkeypatch):
    """Property: when a later validation scores lower, best_valid.npz keeps the earlier epoch even
    after rotation has deleted that epoch's checkpoint (scripted scores 1, 3, 2 for epochs 2, 4, 5;
    --keep-checkpoints 1), and the test Parzen kept at the seed's end is that epoch's. Exact: the
    file is compared with the parameters of that epoch."""
    root, config = workspace
    out = root / "scripted"
    scores = iter([1.0, 3.0, 2.0, 0.0])   # the last for the test Parzen at the seed's end
    kept_params = {}

    def scripted(samples, data, protocol, ll_fn=None, against="valid", progress=True):
        return parzen.ParzenResult(sigma=0.2, mean=next(scores), se=0.1, n_samples=len(samples),
                                   n_test=10000, sigma_table=[], seconds=0.0)

    original_validate = table1.SeedRun.validate_if_due

    def spy(self, train):
        row = original_validate(self, train)
        if row is not None:
            kept_params[row["epoch"]] = train.model.get_param_values()
        return row

    monkeypatch.setattr(table1, "score_samples", scripted)
    monkeypatch.setattr(table1.SeedRun, "validate_if_due", spy)
    argv = ["--config", str(config), "--out", str(out), "--epochs", str(EPOCHS), "--valid-every",
            str(VALID_EVERY), "--n-samples", "5", "--keep-checkpoints", "1", "-q"]
    assert torch_table1.main(argv) == table1.EXIT_DONE
    folder = table1.seed_dir(out, 0)
    assert ([p.name for _, p in ckpt.list_checkpoints(folder / "checkpoints")]
            == ["epoch_000005.npz"])
    arrays, meta = ckpt.load_checkpoint(folder / table1.BEST)
    assert meta["epoch"] == 4
    for name, value in kept_params[4].items():
        np.testing.assert_array_equal(arrays[name], value, err_msg=name)
    assert table1.best_row(table1.read_jsonl(folder / table1.HISTORY))["epoch"] == 4
    kept = json.loads((folder / table1.TEST_PARZEN).read_text())
    assert kept["best_epoch"] == 4 and kept["test_ll"] == 0.0
    assert table1.read_status(folder) == {"state": "finished", "epoch": EPOCHS}


def test_best_row_prefers_the_earliest_of_equal_scores():
    """Property: ties go to the earliest epoch, whatever the row order in the file. Exact: the
    chosen epoch is an integer, and no rows give None."""
    rows = [{"epoch": 6, "valid_ll": 2.0}, {"epoch": 2, "valid_ll": 2.0},
            {"epoch": 4, "valid_ll": 1.0}]
    assert table1.best_row(rows)["epoch"] == 2
    assert table1.best_row([]) is None


def test_report_equals_a_direct_parzen_computation(reference, capsys):
    """Property: --report's test score for each seed (kept when the seed finished) is
    gan2014.parzen.evaluate (sigma on the first 1,000 validation images, mean and se over the test
    set) of 50 samples drawn from that seed's best_valid.npz with a torch.Generator seeded 10097,
    and its sigma is the one the validation chose; the same holds for the final epoch's checkpoint
    (the model the original's overwritten pickle held); --recompute gives the same numbers.
    Tolerance 1e-9 nats: both are the float64 product form on the same samples; only the block split
    of the rows may differ, which changes rounding at the 1e-12 level. A second report keeps the
    first as table1_summary.previous-1.json."""
    argv = ["--out", str(reference), "--report", "-q"]
    assert torch_table1.main(argv) == table1.EXIT_DONE
    assert "| paper (Table 1) | 225 ± 2 |" in capsys.readouterr().out
    summary = json.loads((reference / table1.SUMMARY).read_text())
    valid = mnist.MNIST("train", start=50000, stop=60000).X
    test = mnist.MNIST("test").X
    from port_torch.registry import REGISTRY
    for row in summary["seeds"]:
        folder = table1.seed_dir(reference, row["seed"])
        model, meta = parzen_cli.load_model(folder / table1.BEST, REGISTRY)
        generator = torch.Generator()
        generator.manual_seed(10097)
        samples = model.generator.sample(N_SAMPLES, generator).numpy()
        direct = parzen.evaluate(samples, valid[:1000], test, progress=False)
        assert row["best_epoch"] == meta["epoch"]
        assert row["sigma"] == direct.sigma == row["valid_sigma"]
        assert abs(row["test_ll"] - direct.mean) <= 1e-9
        assert abs(row["test_se"] - direct.se) <= 1e-9
        assert row["epochs_trained"] == EPOCHS
        # The final epoch's checkpoint, scored by the same protocol on the same noise.
        final_path = folder / "checkpoints" / f"epoch_{EPOCHS:06d}.npz"
        model, meta = parzen_cli.load_model(final_path, REGISTRY)
        generator = torch.Generator()
        generator.manual_seed(10097)
        samples = model.generator.sample(N_SAMPLES, generator).numpy()
        direct = parzen.evaluate(samples, valid[:1000], test, progress=False)
        assert row["final"]["epoch"] == meta["epoch"] == EPOCHS
        assert row["final"]["sigma"] == direct.sigma
        assert abs(row["final"]["test_ll"] - direct.mean) <= 1e-9
        assert abs(row["final"]["test_se"] - direct.se) <= 1e-9
    # The real-data row: as many training images as samples, scored by the same protocol.
    real = parzen.evaluate(mnist.MNIST("train", start=0, stop=N_SAMPLES).X, valid[:1000], test,
                           progress=False)
    assert summary["real_data"]["n_samples"] == N_SAMPLES
    assert summary["real_data"]["sigma"] == real.sigma
    assert abs(summary["real_data"]["test_ll"] - real.mean) <= 1e-9
    assert abs(summary["real_data"]["test_se"] - real.se) <= 1e-9
    scored = [row["test_ll"] for row in summary["seeds"]]
    assert summary["mean_over_seeds"] == pytest.approx(np.mean(scored), abs=1e-12)
    final = [row["final"]["test_ll"] for row in summary["seeds"]]
    assert summary["final_mean_over_seeds"] == pytest.approx(np.mean(final), abs=1e-12)
    assert summary["final_std_over_seeds"] == pytest.approx(np.std(final, ddof=1), abs=1e-12)
    assert torch_table1.main(argv) == table1.EXIT_DONE
    kept = json.loads((reference / "table1_summary.previous-1.json").read_text())
    assert kept == summary
    assert torch_table1.main(argv + ["--recompute", "--seeds", "1"]) == table1.EXIT_DONE
    again = json.loads((reference / table1.SUMMARY).read_text())["seeds"][0]
    assert again["seed"] == 1 and again["test_ll"] == summary["seeds"][1]["test_ll"]
    assert (reference / "table1_summary.previous-1.md").is_file()


def test_report_table_puts_each_mean_under_its_own_column():
    """The Markdown table of --report: the paper's row, real data's, a row per seed (a diverged
    seed says so), then one row over the seeds with the final epochs' mean ± sd under "final
    epoch" and the best-by-validation checkpoints' under "best by validation". Exact: the text of
    the cells."""
    def seed(number, final, best):
        return {"seed": number, "test_ll": best, "test_se": 1.5, "sigma": 0.2, "best_epoch": 2450,
                "valid_ll": best + 3, "epochs_trained": 2500,
                "train_seconds_per_epoch_median": 10.0, "wall_seconds": 36000.0,
                "commits": ["a0471b34488d542a"], "hardware": ["cpu: a CPU"],
                "final": {"epoch": 2500, "test_ll": final, "test_se": 1.5, "sigma": 0.2}}

    rows = [seed(0, 220.0, 224.0), seed(1, 222.0, 226.0), {"seed": 2, "state": "diverged"}]
    summary = {"paper": {"test_ll": 225.0, "test_se": 2.0}, "seeds": rows,
               "real_data": {"test_ll": 241.19, "test_se": 2.13, "sigma": 0.1668,
                             "n_samples": 10000, "n_test": 10000},
               "final_mean_over_seeds": 221.0, "final_std_over_seeds": 2 ** .5,
               "mean_over_seeds": 225.0, "std_over_seeds": 2 ** .5,
               "protocol": {"n_samples": 10000, "noise_seed": 10097, "limit": 1000,
                            "valid_every": 50},
               "config": "mnist.yaml", "config_sha256": "0" * 64, "trained_by": "port_torch",
               "reported_by": "port_torch", "valid_images": 10000}
    cells = [[cell.strip() for cell in line.strip().strip("|").split("|")]
             for line in table1.format_report(summary).splitlines() if line.startswith("| ")]
    header = cells[0]
    final = header.index("final epoch: mean ± se (σ)")
    best = header.index("best by validation: mean ± se (σ)")
    assert cells[3][0] == "10,000 real training images (train[0:10000]) in place of samples"
    assert cells[3][final] == "241.19 ± 2.13 (0.1668)"
    assert cells[4][final] == "220.00 ± 1.50 (0.2); epoch 2500"
    assert cells[4][best] == "224.00 ± 1.50 (0.2)"
    assert cells[6] == ["seed 2", "diverged"] + [""] * 6
    assert cells[7][0] == "2 seeds: mean ± sd"
    assert cells[7][final] == "221.00 ± 1.41" and cells[7][best] == "225.00 ± 1.41"


def test_time_budget_zero_pauses_before_any_epoch(workspace):
    """Property: with --time-budget 0 nothing is trained and nothing is written but the manifest;
    the exit status 75 asks for the same command again. Exact: the status (EXIT_UNFINISHED, 75)
    and the folder's file list (table1.json alone); any other file would be work done."""
    root, config = workspace
    out = root / "zero_budget"
    argv = ["--config", str(config), "--out", str(out), "--epochs", "2", "--n-samples", "5",
            "--time-budget", "0", "-q"]
    assert torch_table1.main(argv) == table1.EXIT_UNFINISHED
    assert sorted(p.name for p in out.iterdir()) == [table1.MANIFEST]


def test_refuses_a_folder_made_otherwise(workspace, reference, capsys):
    """Property: an --out folder made with another YAML text or validation protocol, or a non-empty
    folder that is not a table1 folder, is refused with exit status 2, a message naming what
    differs, and no file changed. Exact: status 2 (table1.EXIT_BAD_INPUT), the message fragments,
    every path of the reference folder with its st_mtime_ns, and the foreign folder's file list
    and notes.txt's bytes; the message is the user's only guide, and a refused command must leave
    a run as it was."""
    root, config = workspace
    before = {p: p.stat().st_mtime_ns for p in reference.rglob("*")}
    assert torch_table1.main(["--config", str(config), "--out", str(reference), "--valid-every",
                              "3", "--n-samples", str(N_SAMPLES), "-q"]) == table1.EXIT_BAD_INPUT
    assert "--valid-every (this folder: 2; now: 3)" in capsys.readouterr().err
    other = root / "other.yaml"
    other.write_text(config.read_text().replace("learning_rate: .1", "learning_rate: .2"))
    assert torch_table1.main(["--config", str(other), "--out", str(reference), "--valid-every",
                              "2", "--n-samples", str(N_SAMPLES), "-q"]) == table1.EXIT_BAD_INPUT
    assert "the YAML text" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in reference.rglob("*")} == before
    foreign = root / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert torch_table1.main(["--config", str(config), "--out", str(foreign), "-q"]) == \
        table1.EXIT_BAD_INPUT
    assert "not a table1 folder" in capsys.readouterr().err
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    assert (foreign / "notes.txt").read_bytes() == b"mine"


def test_bundles_carry_a_run_between_machines(workspace, reference):
    """Property: moving a run between machines and back is exact. A run paused on 'here' (seed 0
    at epoch 3),
    packed with --pack-resume, unpacked on a fresh 'machine' that trains to the end and packs what
    changed (--pack), then unpacked back 'here', leaves 'here' with the reference's validation
    history, final parameters and monitor rows (bit for bit; monitor.csv rebuilt from the JSONL),
    while a bundle holds, besides the manifest, only files changed since the last unpack and of the
    checkpoints only the latest. The way back is cut into pieces of 0.1 MiB (--piece-mib), every
    piece but the last exactly that size. Tolerance 0, as for resuming: the bytes travel
    unchanged."""
    root, config = workspace
    here, machine = root / "here", root / "machine"
    assert driver(config, here, budget=ScriptedBudget(4)) == table1.EXIT_UNFINISHED
    carry, back = root / "carry", root / "back"
    assert torch_table1.main(["--out", str(here), "--pack-resume", str(carry), "--no-train",
                              "-q"]) == table1.EXIT_DONE
    assert driver(config, machine, "--unpack", carry, "--pack", back,
                  "--piece-mib", "0.1") == table1.EXIT_DONE
    sizes = [p.stat().st_size for p in sorted(back.iterdir())]
    assert len(sizes) > 1 and set(sizes[:-1]) == {int(0.1 * 2 ** 20)} and sizes[-1] <= sizes[0]
    returned = bundle_members(back)
    assert "seed_1/best_valid.npz" in returned and "seed_0/checkpoints/epoch_000005.npz" in returned
    assert "seed_0/checkpoints/epoch_000003.npz" not in returned   # only the latest travels
    assert torch_table1.main(["--out", str(here), "--unpack", str(back), "--pack",
                              str(root / "nothing_new"), "--no-train", "-q"]) == table1.EXIT_DONE
    assert bundle_members(root / "nothing_new") == [table1.MANIFEST]
    for seed in SEEDS:
        assert history(here, seed) == history(reference, seed)
        final = [ckpt.load_checkpoint(table1.seed_dir(run, seed) / "checkpoints"
                                      / "epoch_000005.npz")[0] for run in (reference, here)]
        for name in final[0]:
            np.testing.assert_array_equal(final[0][name], final[1][name], err_msg=name)
        rows = [[{k: v for k, v in row.items() if "seconds" not in k} for row in
                 table1.read_jsonl(table1.seed_dir(run, seed) / "monitor.jsonl")]
                for run in (reference, here)]
        assert rows[0] == rows[1]
        csv_lines = (table1.seed_dir(here, seed) / "monitor.csv").read_text().splitlines()
        assert len(csv_lines) == 1 + EPOCHS + 1
        assert table1.read_status(table1.seed_dir(here, seed))["state"] == "finished"


def test_pack_refuses_more_pieces_than_max_pieces(reference, tmp_path, capsys):
    """Property: with --max-pieces N, a bundle that needs more than N pieces of --piece-mib is
    refused (status 2, the message names the sizes) and leaves no piece behind; with room for it
    the same bundle is written. Exact: status 2 (table1.EXIT_BAD_INPUT) then 0 (EXIT_DONE), the
    message 'would take N pieces of 0.01 MiB (M MiB), more than --max-pieces 1' with N > 1, and the
    piece counts (none, then more than one of 0.01 MiB); statuses, text and counts have no
    rounding."""
    folder = tmp_path / "bundle"
    argv = ["--out", str(reference), "--no-train", "-q", "--pack", str(folder),
            "--piece-mib", "0.01"]
    assert torch_table1.main(argv + ["--max-pieces", "1"]) == table1.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    sizes = re.search(r"would take (\d+) pieces of 0\.01 MiB \(\d+ MiB\), more than "
                      r"--max-pieces 1;", err)
    assert sizes and int(sizes.group(1)) > 1, err
    assert list(folder.iterdir()) == []
    assert torch_table1.main(argv) == table1.EXIT_DONE
    assert len(list(folder.iterdir())) > 1


def test_unpack_refuses_a_bundle_of_another_run(workspace, reference, tmp_path, capsys):
    """Property: a bundle made from a run with another validation protocol is refused (status 2)
    and nothing in --out changes. Exact: status 2 (table1.EXIT_BAD_INPUT), the phrase 'another
    configuration', and every path of --out with its st_mtime_ns; a refused bundle must leave the
    run exactly as it was."""
    root, config = workspace
    other = tmp_path / "other"
    argv = ["--config", str(config), "--out", str(other), "--epochs", "1", "--valid-every", "1",
            "--n-samples", "5", "-q", "--pack", str(tmp_path / "bundle")]
    assert torch_table1.main(argv) == table1.EXIT_DONE
    before = {p: p.stat().st_mtime_ns for p in reference.rglob("*")}
    assert torch_table1.main(["--out", str(reference), "--unpack", str(tmp_path / "bundle"),
                              "--no-train"]) == table1.EXIT_BAD_INPUT
    assert "another configuration" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in reference.rglob("*")} == before


# ------------------------------------------------------------------ the driver on legacy_aesara
AESARA_EPOCHS = 3


def aesara_driver(config, out, seeds, *extra, budget=None):
    from legacy_aesara import table1 as aesara_table1

    argv = ["--config", str(config), "--out", str(out), "--epochs", str(AESARA_EPOCHS),
            "--valid-every", str(VALID_EVERY), "--n-samples", str(N_SAMPLES),
            "--keep-checkpoints", "0", "--seeds", *map(str, seeds), "-q", *extra]
    return aesara_table1.main(argv, budget=budget)


def checkpoint_arrays(folder, epoch):
    arrays, _ = ckpt.load_checkpoint(Path(folder) / "checkpoints" / f"epoch_{epoch:06d}.npz")
    return arrays


def test_aesara_driver_seed_0_trains_the_2014_run_and_validating_moves_no_stream(workspace):
    """Property of `python -m legacy_aesara.table1`: seed 0, validated (10,000-sample draws from G
    after epoch 2) while it trains and monitored after epochs 0 and 2 only (--monitor-every 2),
    ends with exactly the parameters, velocities and batch order of `python -m legacy_aesara.run`
    on the same YAML, which monitors every epoch: its streams are the 2014 seeds, and neither the
    validation draws nor the skipped monitoring move a training stream (a moved stream would change
    every parameter of the next epoch). The MRG states of the checkpoints are not compared: the
    monitor function owns some of them, and they rightly differ when it ran less often. Tolerance
    0: the same float32 programs on the same inputs. (Resuming an Aesara checkpoint exactly is
    tests/test_resume_and_failures.py's; the driver's own resume logic is shared and tested with
    torch above.)"""
    from legacy_aesara import run as aesara_run

    root, config = workspace
    driven, plain = root / "aesara_driven", root / "aesara_plain_run"
    assert aesara_driver(config, driven, [0], "--monitor-every", "2") == table1.EXIT_DONE
    assert [row["epoch"] for row in history(driven, 0)] == [2, 3]
    monitored = table1.read_jsonl(table1.seed_dir(driven, 0) / "monitor.jsonl")
    assert [row["epoch"] for row in monitored] == [0, 2, 3]
    assert aesara_run.run_main([str(config), "--out", str(plain), "--max-epochs",
                                str(AESARA_EPOCHS), "--quiet"]) == 0
    final = checkpoint_arrays(table1.seed_dir(driven, 0), AESARA_EPOCHS)
    reference = checkpoint_arrays(plain, AESARA_EPOCHS)
    assert sorted(reference) == sorted(final)
    compared = [name for name in final if not name.startswith("rng/") or "sgd_iterator" in name]
    assert len(compared) > 20
    for name in compared:
        np.testing.assert_array_equal(final[name], reference[name], err_msg=name)


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_aesara_seed_k_shifts_every_mrg_seed_by_1000k(seed, monkeypatch):
    """Property: inside the Aesara backend's seed scope every MRG stream is built from its 2014 seed
    + 1000 k (seed 0: the 2014 seeds themselves), and the variable is gone afterwards. Exact: the
    streams' integer states are compared."""
    import os

    from legacy_aesara import table1 as aesara_table1  # first: it sets Aesara's flags
    from legacy_aesara.models.mlp import MRG_SEED_OFFSET_VARIABLE, new_mrg_stream
    from aesara.sandbox.rng_mrg import MRG_RandomStream

    backend = aesara_table1.AesaraBackend()
    monkeypatch.delenv(MRG_SEED_OFFSET_VARIABLE, raising=False)
    with backend.seed_scope(seed):
        stream = new_mrg_stream(2014 * 5 + 27)
    assert MRG_SEED_OFFSET_VARIABLE not in os.environ
    np.testing.assert_array_equal(stream.rstate, MRG_RandomStream(10097 + 1000 * seed).rstate)
