"""Statistical parity: both backends, trained from the same YAML with different seeds, reach the
same Parzen log-likelihood up to seed-to-seed noise.

    python -m parity_tests.statistical_parity --epochs E --seeds K --out DIR [--jobs J]

For each backend and each seed index k = 1..K this trains yaml_experiments/mnist.yaml for E epochs
through the backend's own command line, then scores the final checkpoint with the backend's Parzen
command (the full protocol: 10,000 samples, sigma chosen on 1,000 validation images, the 10,000
test images). Seeds (weight init and batch order come from the YAML in both backends, as in 2014;
what varies is the noise and the dropout masks):

* legacy_aesara: $GAN2014_MRG_SEED_OFFSET = 1000 k (every MRG stream's seed shifted by it);
* port_torch:    --seed 10097 + 1000 k (its torch generators);
* Parzen sampling: --seed 20000 + 1000 k, both backends.

The property tested: the difference of the two backends' mean Parzen scores is within the noise,
by Welch's t-test at alpha = 0.01 (two-sided; Welch because the backends' seed-to-seed spreads need
not be equal). Its power is stated as the smallest true difference of means it would detect with
80% probability, given the measured standard deviations (noncentral t). An exact permutation test
is reported too; with 3 + 3 runs it cannot reach p < 0.1, so it is a cross-check, not the test.

For scale, the untrained model (the YAML's initial parameters, identical in both backends) is
scored too, by both Parzen commands: the `baseline` of the summary.

Everything is written to DIR: per run a folder `<backend>/seed<k>/` (training logs, checkpoints,
train.log, parzen.json, parzen.log) and DIR/summary.json. A run whose parzen.json exists (for the
same epochs) is reused, so an interrupted study continues where it stopped.
"""
import argparse
import concurrent.futures
import itertools
import json
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from gan2014.seeds import GENERATOR_NOISE_SEED

REPO = Path(__file__).resolve().parents[1]
YAML = REPO / "yaml_experiments" / "mnist.yaml"
BACKENDS = ("legacy_aesara", "port_torch")
ALPHA = 0.01
POWER = 0.80
SEED_STEP = 1000
TORCH_BASE_SEED = GENERATOR_NOISE_SEED  # 10097, the 2014 Generator's stream seed
PARZEN_BASE_SEED = 20000


# --- one run -------------------------------------------------------------------------------------

def run_dir(out, backend, k):
    return Path(out) / backend / f"seed{k}"


def train_command(backend, k, epochs, out_dir, threads):
    """(argv, extra environment) of one training run through the backend's CLI."""
    argv = [sys.executable, "-m", f"{backend}.run", str(YAML), "--max-epochs", str(epochs),
            "--out", str(out_dir), "--quiet"]
    env = {"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads)}
    if backend == "legacy_aesara":
        env["GAN2014_MRG_SEED_OFFSET"] = str(SEED_STEP * k)
    else:
        argv += ["--device", "cpu", "--threads", str(threads),
                 "--seed", str(TORCH_BASE_SEED + SEED_STEP * k)]
    return argv, env


def parzen_command(backend, k, checkpoint, json_path, threads):
    argv = [sys.executable, "-m", f"{backend}.parzen", str(checkpoint), "--quiet",
            "--seed", str(PARZEN_BASE_SEED + SEED_STEP * k), "--json", str(json_path)]
    if backend == "port_torch":
        argv += ["--device", "cpu", "--threads", str(threads)]
    env = {"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
    return argv, env


def _run(argv, env, log_path):
    """Run a command with its output in ``log_path``; raise with the log's tail if it fails."""
    full_env = dict(os.environ, **env)
    full_env.setdefault("PYLEARN2_DATA_PATH", str(REPO / "data"))
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(f"{k}={v}" for k, v in env.items()) + " "
                  + shlex.join(argv) + "\n")
        log.flush()
        code = subprocess.run(argv, cwd=REPO, env=full_env, stdout=log,
                              stderr=subprocess.STDOUT).returncode
    if code != 0:
        tail = Path(log_path).read_text()[-2000:]
        raise RuntimeError(f"{shlex.join(argv)} exited with {code}; end of {log_path}:\n{tail}")


def train_and_score(backend, k, epochs, out, threads):
    """Train one seed of one backend and score it; returns its record (reused when present)."""
    folder = run_dir(out, backend, k)
    folder.mkdir(parents=True, exist_ok=True)
    record_path = folder / "parzen.json"
    if record_path.exists():
        record = json.loads(record_path.read_text())
        if record.get("epoch") == epochs and "train_seconds" in record:
            record["reused"] = True
            return record
    began = time.perf_counter()
    argv, env = train_command(backend, k, epochs, folder, threads)
    _run(argv, env, folder / "train.log")
    train_seconds = time.perf_counter() - began
    checkpoint = folder / "checkpoints" / f"epoch_{epochs:06d}.npz"
    if not checkpoint.exists():
        raise RuntimeError(f"{backend} seed {k}: no checkpoint {checkpoint} after training")
    started = time.perf_counter()
    argv_p, env_p = parzen_command(backend, k, checkpoint, record_path, threads)
    _run(argv_p, env_p, folder / "parzen.log")
    record = json.loads(record_path.read_text())
    record.update(seed_index=k, train_seconds=train_seconds,
                  parzen_seconds=time.perf_counter() - started,
                  train_command=" ".join(f"{a}={b}" for a, b in env.items()) + " "
                  + shlex.join(argv))
    record_path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record


def score_untrained(out, threads):
    """Parzen records of the untrained model (epoch 0) by each backend's command, for scale."""
    from gan2014 import checkpoint as ckpt
    from parity_tests.trajectory import build

    folder = Path(out) / "untrained"
    path = folder / "epoch_000000.npz"
    if not path.exists():
        values = build("port_torch", YAML).model.get_param_values()
        ckpt.save_checkpoint(path, values, {"backend": "untrained", "epoch": 0,
                                            "yaml": YAML.read_text(encoding="utf-8")})
    records = {}
    for backend in BACKENDS:
        json_path = folder / f"parzen_{backend}.json"
        if not json_path.exists():
            argv, env = parzen_command(backend, 0, path, json_path, threads)
            _run(argv, env, folder / f"parzen_{backend}.log")
        record = json.loads(json_path.read_text())
        records[backend] = {"mean": record["mean"], "se": record["se"], "sigma": record["sigma"]}
    return records


# --- statistics ----------------------------------------------------------------------------------

def welch_test(a, b):
    """Welch's two-sided t-test of equal means: dict(statistic, df, p_value)."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    result = stats.ttest_ind(a, b, equal_var=False)
    return {"statistic": float(result.statistic), "df": welch_df(a.std(ddof=1), b.std(ddof=1),
                                                                 len(a), len(b)),
            "p_value": float(result.pvalue)}


def welch_df(sd_a, sd_b, n_a, n_b):
    """Welch-Satterthwaite degrees of freedom."""
    va, vb = sd_a ** 2 / n_a, sd_b ** 2 / n_b
    if va + vb == 0:
        return float(n_a + n_b - 2)
    return float((va + vb) ** 2 / (va ** 2 / (n_a - 1) + vb ** 2 / (n_b - 1)))


def detectable_difference(sd_a, sd_b, n_a, n_b, alpha=ALPHA, power=POWER):
    """The smallest true difference of means that Welch's test at ``alpha`` rejects with
    probability ``power``, if the spreads are the measured ones (noncentral t, two-sided)."""
    from scipy import optimize, stats

    se = math.sqrt(sd_a ** 2 / n_a + sd_b ** 2 / n_b)
    if se == 0:
        return 0.0
    df = welch_df(sd_a, sd_b, n_a, n_b)
    critical = stats.t.ppf(1 - alpha / 2, df)

    def shortfall(delta):
        nc = delta / se
        return stats.nct.sf(critical, df, nc) + stats.nct.cdf(-critical, df, nc) - power

    return float(optimize.brentq(shortfall, 0.0, 1000 * se))


def permutation_p_value(a, b):
    """Exact two-sided permutation p-value of |mean(a) - mean(b)| over all relabelings."""
    pooled = np.concatenate([np.asarray(a, float), np.asarray(b, float)])
    observed = abs(np.mean(a) - np.mean(b))
    count = total = 0
    for chosen in itertools.combinations(range(len(pooled)), len(a)):
        mask = np.zeros(len(pooled), bool)
        mask[list(chosen)] = True
        total += 1
        count += abs(pooled[mask].mean() - pooled[~mask].mean()) >= observed - 1e-12
    return count / total


def summarise(records, alpha=ALPHA):
    """Per-backend statistics of the Parzen means, the test, and its power."""
    scores = {b: [r["mean"] for r in sorted(records, key=lambda r: r["seed_index"])
                  if r["backend"] == b] for b in BACKENDS}
    per_backend = {b: {"parzen_means": v, "mean": float(np.mean(v)),
                       "std": float(np.std(v, ddof=1)) if len(v) > 1 else float("nan"), "n": len(v)}
                   for b, v in scores.items()}
    a, t = scores["legacy_aesara"], scores["port_torch"]
    test = dict(welch_test(a, t), alpha=alpha, difference=float(np.mean(a) - np.mean(t)))
    test["reject"] = bool(test["p_value"] < alpha)
    sd_a, sd_t = per_backend["legacy_aesara"]["std"], per_backend["port_torch"]["std"]
    power = {"power": POWER, "alpha": alpha,
             "min_detectable_difference": detectable_difference(sd_a, sd_t, len(a), len(t), alpha),
             "pooled_sd": float(math.sqrt((sd_a ** 2 + sd_t ** 2) / 2))}
    return {"per_backend": per_backend, "welch": test, "power": power,
            "permutation_p_value": permutation_p_value(a, t)}


# --- the study -----------------------------------------------------------------------------------

def study(epochs, seeds, out, jobs=2, threads=1, log=print):
    """Run every (backend, seed) pair, ``jobs`` at a time, backends interleaved; return the
    summary."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    tasks = [(backend, k) for k in range(1, seeds + 1) for backend in BACKENDS]
    records = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(train_and_score, b, k, epochs, out, threads): (b, k)
                   for b, k in tasks}
        for future in concurrent.futures.as_completed(futures):
            record = future.result()
            records.append(record)
            log(f"[{time.perf_counter() - began:7.0f} s] {record['backend']} seed "
                f"{record['seed_index']}: Parzen {record['mean']:.2f} +- {record['se']:.2f} (sigma "
                f"{record['sigma']:.4f}), train {record['train_seconds']:.0f} s"
                + (" (reused)" if record.get("reused") else ""))
    summary = summarise(records)
    summary["untrained_baseline"] = score_untrained(out, threads)
    summary.update(epochs=epochs, seeds=seeds, jobs=jobs, threads_per_job=threads,
                   yaml=str(YAML.relative_to(REPO)), wall_seconds=time.perf_counter() - began,
                   reused_runs=sum(bool(r.get("reused")) for r in records),
                   run_seconds_total=sum(r["train_seconds"] + r.get("parzen_seconds", 0.0)
                                         for r in records),
                   runs=sorted(({k: r.get(k)
                                 for k in ("backend", "seed_index", "seed", "mean", "se",
                                                        "sigma", "train_seconds", "parzen_seconds",
                                                        "train_command", "reused")}
                                for r in records), key=lambda r: (r["backend"], r["seed_index"])))
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def print_summary(summary):
    for run in summary["runs"]:
        print(f"{run['backend']:14s} seed {run['seed_index']}: Parzen {run['mean']:8.3f} +- "
              f"{run['se']:.3f}  sigma {run['sigma']:.4f}  train {run['train_seconds']:.0f} s")
    for backend, s in summary["per_backend"].items():
        print(f"{backend:14s} mean {s['mean']:8.3f}  std {s['std']:.3f}  (n={s['n']})")
    w, p = summary["welch"], summary["power"]
    print(f"Welch t = {w['statistic']:.3f}, df = {w['df']:.2f}, p = {w['p_value']:.4f} "
          f"(alpha {w['alpha']}): {'DIFFERENT' if w['reject'] else 'no significant difference'}; "
          f"difference of means {w['difference']:.3f}")
    print(f"power: a true difference of {p['min_detectable_difference']:.2f} nats would be "
          f"detected with {p['power']:.0%} probability (pooled sd {p['pooled_sd']:.3f})")
    for backend, b in summary.get("untrained_baseline", {}).items():
        print(f"untrained model, {backend} command: Parzen {b['mean']:.3f} +- {b['se']:.3f}")
    print(f"permutation p = {summary['permutation_p_value']:.3f}; wall time "
          f"{summary['wall_seconds']:.0f} s ({summary['reused_runs']} runs reused; "
          f"{summary['run_seconds_total']:.0f} s of runs in all)")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m parity_tests.statistical_parity",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3, help="seeds per backend")
    parser.add_argument("--out", required=True)
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per run")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.seeds < 2:
        parser.error("need --epochs >= 1 and --seeds >= 2 (a spread needs two runs)")
    summary = study(args.epochs, args.seeds, args.out, args.jobs, args.threads)
    summary["command"] = ("python -m parity_tests.statistical_parity "
                          + shlex.join(argv or sys.argv[1:]))
    Path(args.out, "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
