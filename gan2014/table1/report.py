"""The Table-1 report: the test Parzen of each seed's best-by-validation checkpoint and of its
newest one, what explains them (epochs, times, hardware, commits), the summary JSON and the
Markdown table."""
import dataclasses
import json
import platform
import time
from pathlib import Path

import numpy as np

from gan2014 import fileio
from gan2014.fileio import read_jsonl, write_json_atomically
from gan2014.table1.layout import (BEST, DRIVER_LOG, FINAL_TEST_PARZEN, HISTORY, SUMMARY,
                                   TEST_PARZEN, Table1Error, keep_previous, latest_epoch,
                                   read_status, seed_dir, seed_numbers)
from gan2014.table1.manifest import read_manifest
from gan2014.table1.protocol import Protocol, ValidationData, best_row, score_samples

# Table 1 of the paper: MNIST Parzen log-likelihood of the adversarial nets, mean +- se.
PAPER_MNIST = (225.0, 2.0)


def test_parzen(out, seed, backend, protocol, data, progress=True, recompute=False,
                scorer=score_samples):
    """The test Parzen of seed ``seed``'s best-by-validation checkpoint (a dict).

    Kept in ``seed_K/test_parzen.json``; a kept value for the same best epoch and protocol is
    returned as it is unless ``recompute``.
    """
    folder = seed_dir(out, seed)
    best = best_row(read_jsonl(folder / HISTORY, missing_ok=True))
    if best is None:
        raise Table1Error(f"{folder / HISTORY} has no validation rows yet: train first")
    kept_path = folder / TEST_PARZEN
    if kept_path.is_file() and not recompute:
        kept = json.loads(kept_path.read_text(encoding="utf-8"))
        if kept.get("best_epoch") == int(best["epoch"]) and \
                kept.get("protocol") == dataclasses.asdict(protocol):
            return kept
    best_path = folder / BEST
    began = time.perf_counter()
    model, meta = backend.load_model(best_path)
    if int(meta["epoch"]) != int(best["epoch"]):
        raise Table1Error(f"{best_path} holds epoch {meta['epoch']} but the best validation score "
                          f"in {folder / HISTORY} is epoch {best['epoch']}: the folder was changed "
                          "by hand or a copy was cut short")
    result, facts = _score_on_test(model, backend, protocol, data, progress, began, scorer)
    row = {"seed": seed, "best_epoch": int(best["epoch"]), "valid_ll": best["valid_ll"],
           "valid_se": best["valid_se"], "valid_sigma": best["sigma"],
           "sigma_table": [[s, m] for s, m in result.sigma_table], **facts}
    write_json_atomically(kept_path, row)
    return row


def _score_on_test(model, backend, protocol, data, progress, began, scorer=score_samples):
    """The protocol's test Parzen of `model` and the facts every kept score records."""
    samples = backend.draw_samples(model, protocol.n_samples, protocol.noise_seed)
    result = scorer(samples, data, protocol, backend.ll_function(), against="test",
                    progress=progress)
    return result, {
        "test_ll": result.mean, "test_se": result.se, "sigma": result.sigma,
        "n_samples": result.n_samples, "n_test": result.n_test,
        "protocol": dataclasses.asdict(protocol), "computed_by": backend.name,
        "computed_on": backend.describe(), "computed_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "seconds": time.perf_counter() - began}


def real_data_parzen(backend, protocol, data, progress=True, scorer=score_samples):
    """The test Parzen of real data: ``protocol.n_samples`` MNIST training images (train[0:n])
    scored in place of samples, by the same protocol and log-likelihood function as the seeds. A
    Parzen score means little without what real images get (Theis, van den Oord & Bethge, 2016)."""
    from gan2014.datasets.mnist import MNIST

    samples = MNIST("train", start=0, stop=protocol.n_samples).X
    result = scorer(samples, data, protocol, backend.ll_function(), against="test",
                    progress=progress)
    return {"test_ll": result.mean, "test_se": result.se, "sigma": result.sigma,
            "n_samples": result.n_samples, "n_test": result.n_test}


def final_test_parzen(out, seed, backend, protocol, data, progress=True, recompute=False,
                      scorer=score_samples):
    """The test Parzen of seed ``seed``'s newest checkpoint, by the same protocol (a dict).

    The original kept one pickle, overwritten after every epoch (mnist.yaml: save_freq 1, its
    MonitorBasedSaveBest commented out), so the model parzen_ll.py scored was the last epoch
    trained; the best of ~50 noisy validation scores is an optimistic choice beside it. Kept in
    ``seed_K/test_parzen_final.json`` for the same epoch and protocol unless ``recompute``.
    """
    folder = seed_dir(out, seed)
    epoch, path = latest_epoch(folder)
    if path is None:
        raise Table1Error(f"{folder / 'checkpoints'} holds no checkpoint yet: train first")
    kept_path = folder / FINAL_TEST_PARZEN
    if kept_path.is_file() and not recompute:
        kept = json.loads(kept_path.read_text(encoding="utf-8"))
        if kept.get("epoch") == int(epoch) and kept.get("protocol") == dataclasses.asdict(protocol):
            return kept
    began = time.perf_counter()
    model, meta = backend.load_model(path)
    _, facts = _score_on_test(model, backend, protocol, data, progress, began, scorer)
    row = {"seed": seed, "epoch": int(meta["epoch"]), "checkpoint": path.name, **facts}
    write_json_atomically(kept_path, row)
    return row


def report_seed(out, seed, backend, protocol, data, progress=True, recompute=False,
                scorer=score_samples):
    """:func:`test_parzen` (best by validation) and :func:`final_test_parzen` (the newest
    checkpoint) of seed ``seed``, with what explains them: epochs, times, hardware, commits."""
    folder = seed_dir(out, seed)
    row = dict(test_parzen(out, seed, backend, protocol, data, progress, recompute, scorer))
    final = final_test_parzen(out, seed, backend, protocol, data, progress, recompute, scorer)
    history = read_jsonl(folder / HISTORY, missing_ok=True)
    monitor = read_jsonl(folder / "monitor.jsonl", missing_ok=True)
    sessions = [r for r in read_jsonl(Path(out) / DRIVER_LOG, missing_ok=True)
                if r.get("seed") == seed]
    status = read_status(folder)
    row.update({
        "final": {key: final[key] for key in ("epoch", "test_ll", "test_se", "sigma")},
        "epochs_trained": max(latest_epoch(folder)[0], int(status.get("epoch", 0))),
        "validations": len(history),
        # Training seconds of the epochs the monitor recorded (all of them by default; with
        # --monitor-every N only every N-th), so their median, not a sum, describes the run.
        "train_seconds_per_epoch_median": (
            float(np.median(epoch_seconds)) if (epoch_seconds := [
                r["seconds_this_epoch"] for r in monitor
                if r["epoch"] > 0 and "seconds_this_epoch" in r]) else None),
        "monitored_epochs": sum(1 for r in monitor if r["epoch"] > 0),
        "wall_seconds": sum(r["ended"] - r["started"] for r in sessions),
        "hardware": sorted({f"{r.get('device')}: {r.get('hardware')}" for r in sessions}),
        "commits": sorted({r["commit"] for r in sessions if r.get("commit")}),
        "state": status.get("state", "training"),
    })
    return row


def build_report(out, backend, seeds=None, data=None, progress=True, recompute=False,
                 scorer=score_samples):
    manifest = read_manifest(out)
    if manifest.get("backend") != backend.name:
        print(f"Note: {out} was trained by {manifest.get('backend')}; the test Parzen is computed "
              f"by {backend.name}, whose samples from the same noise seed differ.", flush=True)
    protocol = Protocol(**manifest["protocol"])
    data = ValidationData() if data is None else data
    seeds = seed_numbers(out) if not seeds else list(seeds)
    if not seeds:
        raise Table1Error(f"{out} holds no seed_K folders: train first")
    rows = []
    for seed in seeds:
        if not seed_dir(out, seed).is_dir():
            raise Table1Error(f"{seed_dir(out, seed)} does not exist")
        if read_status(seed_dir(out, seed)).get("state") == "diverged":
            rows.append({"seed": seed, "state": "diverged"})
            continue
        rows.append(report_seed(out, seed, backend, protocol, data, progress, recompute, scorer))
    scored = [r["test_ll"] for r in rows if "test_ll" in r]
    final = [r["final"]["test_ll"] for r in rows if "final" in r]
    real = real_data_parzen(backend, protocol, data, progress, scorer)
    return {
        "final_mean_over_seeds": float(np.mean(final)) if final else None,
        "final_std_over_seeds": float(np.std(final, ddof=1)) if len(final) > 1 else None,
        "paper": {"test_ll": PAPER_MNIST[0], "test_se": PAPER_MNIST[1]},
        "real_data": real,
        "seeds": rows,
        "mean_over_seeds": float(np.mean(scored)) if scored else None,
        "std_over_seeds": float(np.std(scored, ddof=1)) if len(scored) > 1 else None,
        "config": manifest["config"], "config_sha256": manifest["config_sha256"],
        "trained_by": manifest["backend"], "reported_by": backend.name,
        "protocol": manifest["protocol"], "valid_images": manifest["valid_images"],
        "report_environment": dict(backend.describe(), python=platform.python_version(),
                                   numpy=np.__version__),
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def format_report(summary):
    """The summary as Markdown, ready for REPRODUCING.md.

    The table leads with the final epoch's test Parzen (what the original's one overwritten pickle
    held when training stopped) and gives the best-by-validation checkpoint's beside it."""
    paper = summary["paper"]
    lines = ["| MNIST test Parzen log-likelihood | final epoch: mean ± se (σ) | "
             "best by validation: mean ± se (σ) | best epoch (validation ll) | epochs | "
             "s/epoch (median) | wall time | commit |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |",
             f"| paper (Table 1) | {paper['test_ll']:.0f} ± {paper['test_se']:.0f} "
             "| | | | | | |"]
    real = summary.get("real_data")
    if real:
        lines.append(f"| {real['n_samples']:,} real training images (train[0:{real['n_samples']}]) "
                     f"in place of samples | {real['test_ll']:.2f} ± {real['test_se']:.2f} "
                     f"({real['sigma']:.4g}) | | | | | | |")
    for row in summary["seeds"]:
        if "test_ll" not in row:
            lines.append(f"| seed {row['seed']} | {row['state']} | | | | | | |")
            continue
        final = row.get("final")
        final_text = (f"{final['test_ll']:.2f} ± {final['test_se']:.2f} ({final['sigma']:.4g}); "
                      f"epoch {final['epoch']}" if final else "-")
        per_epoch = row.get("train_seconds_per_epoch_median")
        commits = ", ".join(c[:12] for c in row.get("commits", [])) or "not recorded"
        lines.append(f"| seed {row['seed']} | {final_text} | {row['test_ll']:.2f} ± "
                     f"{row['test_se']:.2f} ({row['sigma']:.4g}) | {row['best_epoch']} "
                     f"({row['valid_ll']:.2f}) | {row['epochs_trained']} | "
                     f"{'-' if per_epoch is None else f'{per_epoch:.2f}'} | "
                     f"{row['wall_seconds'] / 3600:.1f} h | {commits} |")
    # One row over the seeds, each mean in its own column: the final epochs', the best ones'.
    means = []
    for key in ("final_", ""):
        mean, std = summary.get(f"{key}mean_over_seeds"), summary.get(f"{key}std_over_seeds")
        means.append("" if mean is None else f"{mean:.2f}" + ("" if std is None else
                                                                f" ± {std:.2f}"))
    count = sum("test_ll" in r for r in summary["seeds"])
    if count:
        spread = ": mean ± sd" if count > 1 else ""
        lines.append(f"| {count} seed{'s' if count != 1 else ''}{spread} | {means[0]} | "
                     f"{means[1]} | | | | | |")
    protocol = summary["protocol"]
    hardware = sorted({h for row in summary["seeds"] for h in row.get("hardware", [])})
    computed_on = sorted({f"{r['computed_on'].get('device')}: {r['computed_on'].get('hardware')}"
                          for r in summary["seeds"] if "computed_on" in r})
    lines += ["", f"Config {summary['config']} (sha256 {summary['config_sha256'][:12]}), "
              f"trained by {summary['trained_by']}, reported by {summary['reported_by']}; "
              f"{protocol['n_samples']} samples (noise seed {protocol['noise_seed']}), σ from "
              f"logspace(-1, 0, 10) on the first {protocol['limit']} of {summary['valid_images']}, "
              f"best epoch by the mean ll of all of them (validated every "
              f"{protocol['valid_every']} epochs).",
              "Training hardware: " + ("; ".join(hardware) if hardware else "not recorded") + ".",
              "Test Parzen computed on: " + ("; ".join(computed_on) or "-") + "."]
    return "\n".join(lines)


def write_report(out, summary):
    """Write ``table1_summary.json`` and ``.md``, keeping earlier ones as ``.previous-N``."""
    out = Path(out)
    paths = []
    for name, text in ((SUMMARY, json.dumps(summary, indent=2, sort_keys=True) + "\n"),
                       (Path(SUMMARY).stem + ".md", format_report(summary) + "\n")):
        path = out / name
        kept = keep_previous(path)
        if kept is not None:
            print(f"The previous {name} was kept as {kept.name}.", flush=True)
        fileio.write_text_atomically(path, text)
        paths.append(path)
    return paths
