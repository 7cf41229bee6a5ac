"""The paper's TFD Parzen protocol, on small generated TFD files in the real .mat layout.

adversarial/parzen_ll.py -d tfd -f F chose sigma on fold F's whole validation split
(``TFD('valid', fold=F, scale=True)``) and scored fold F's test split; the paper reports TFD as the
mean over the folds with the standard error across folds, a sigma chosen per fold. Checked here:

* :func:`gan2014.parzen.tfd_protocol` against a brute-force float64 computation written out in this
  file (rows picked from the raw arrays by the fold column, explicit differences, log-sum-exp);
* the backends' ``parzen`` command on a checkpoint of a 2304-pixel generator: all folds by default,
  one with ``--fold``, and the dataset inferred from the samples' width.
"""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from gan2014 import checkpoint as ckpt
from gan2014 import parzen
from gan2014.config.yaml_parse import load, train_file_variables
from gan2014.datasets import tfd
from parity_tests.helpers import write_tiny_tfd

REPO = Path(__file__).resolve().parents[1]
STAGE1 = REPO / "yaml_experiments" / "smoke" / "tfd_pretrain_tiny.yaml"
SIGMAS = np.logspace(-1, 0, 10)


@pytest.fixture
def tiny_tfd(tmp_path, monkeypatch):
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path / "data"))
    arrays = write_tiny_tfd(tmp_path / "data")
    tfd.clear_cache()
    yield arrays
    tfd.clear_cache()


def split(arrays, fold, code):
    """Rows of the split with fold code `code` (2 valid, 3 test) in fold `fold`, divided by 255 in
    float32 as Pylearn2's TFD(scale=True) did, then widened to float64."""
    rows = np.flatnonzero(arrays["folds"][:, fold] == code)
    pixels = arrays["images"][rows].reshape(len(rows), -1).astype(np.float32)
    return (pixels / np.float32(255)).astype(np.float64)


def brute_force_ll(x, mu, sigma):
    """log (1/n) sum_j N(x; mu_j, sigma^2 I), row by row, from explicit differences (float64)."""
    out = []
    for row in x:
        energy = -0.5 * (((row[None, :] - mu) / sigma) ** 2).sum(axis=1)
        top = energy.max()
        out.append(top + math.log(np.exp(energy - top).sum()) - math.log(len(mu))
                   - x.shape[1] * math.log(sigma * math.sqrt(2 * math.pi)))
    return np.array(out)


def samples_for(arrays, rng):
    """Noisy copies of the labelled images: each fold's best sigma then lies inside the grid."""
    labelled = arrays["images"][300:].reshape(60, -1).astype(np.float64) / 255.0
    return np.clip(labelled + rng.normal(0, .25, labelled.shape), 0, 1).astype(np.float32)


def test_tfd_protocol_equals_brute_force(tiny_tfd):
    """Per fold: the selected sigma is the brute force's argmax over logspace(-1, 0, 10) (exactly);
    mean and se (std / sqrt(N), ddof 0) within 1e-9 relative (the fast product form differs from
    explicit differences by rounding only, ~1e-12). Across folds: mean of the means and
    std(means) / sqrt(5), ddof 0 and ddof 1."""
    samples = samples_for(tiny_tfd, np.random.RandomState(0))
    result = parzen.tfd_protocol(samples, progress=False)
    means = []
    for fold in range(5):
        valid, test = split(tiny_tfd, fold, 2), split(tiny_tfd, fold, 3)
        valid_means = [brute_force_ll(valid, samples.astype(np.float64), s).mean() for s in SIGMAS]
        sigma = SIGMAS[int(np.argmax(valid_means))]
        ll = brute_force_ll(test, samples.astype(np.float64), sigma)
        got = result.folds[fold]
        assert got.sigma == sigma and 0 < np.argmax(valid_means) < 9, (fold, valid_means)
        assert got.n_test == len(test) == 20 and got.n_samples == 60
        np.testing.assert_allclose([m for _, m in got.sigma_table], valid_means, rtol=1e-9)
        np.testing.assert_allclose(got.mean, ll.mean(), rtol=1e-9)
        np.testing.assert_allclose(got.se, ll.std() / math.sqrt(len(ll)), rtol=1e-9)
        means.append(ll.mean())
    np.testing.assert_allclose(result.mean, np.mean(means), rtol=1e-9)
    np.testing.assert_allclose(result.se, np.std(means) / math.sqrt(5), rtol=1e-7)
    np.testing.assert_allclose(result.se_ddof1, np.std(means, ddof=1) / math.sqrt(5), rtol=1e-7)


def test_given_sigma_and_single_fold(tiny_tfd):
    """-s: no selection (no table), the given sigma used as it is on the fold scored (one fold,
    fold 3, here); one fold: se across folds of a single value is 0 (ddof 0) and undefined
    (ddof 1). Tolerance: the sigma exactly; the mean within 1e-9 relative of the brute force, as in
    test_tfd_protocol_equals_brute_force (rounding only); se exactly 0.0 and se_ddof1 NaN, which
    one value gives without rounding."""
    samples = samples_for(tiny_tfd, np.random.RandomState(1))
    result = parzen.tfd_protocol(samples, folds=(3,), sigma=.2, progress=False)
    assert list(result.folds) == [3] and result.folds[3].sigma_table == []
    assert result.folds[3].sigma == .2
    ll = brute_force_ll(split(tiny_tfd, 3, 3), samples.astype(np.float64), .2)
    np.testing.assert_allclose(result.mean, ll.mean(), rtol=1e-9)
    assert result.se == 0.0 and math.isnan(result.se_ddof1)


# --- the backends' command ------------------------------------------------------------------------

def stage1_checkpoint(folder):
    """A checkpoint of the tiny TFD stage-1 model (2304-pixel generator), as the torch port built
    it."""
    from port_torch.registry import REGISTRY

    train = load(STAGE1.read_text(), REGISTRY, filename=str(STAGE1),
                 environ=train_file_variables(str(STAGE1)))
    arrays = train.model.get_param_values()
    path = ckpt.checkpoint_path(Path(folder), 2)
    ckpt.save_checkpoint(path, arrays, {"backend": "port_torch", "epoch": 2,
                                        "param_names": list(arrays), "yaml": STAGE1.read_text()})
    return path, train.model


def test_torch_parzen_command_runs_the_fold_protocol(tiny_tfd, tmp_path, capsys):
    """`python -m port_torch.parzen CKPT -n 40`: the 2304-pixel samples select TFD; every fold is
    scored and summarised exactly as tfd_protocol scores the same samples (G on noise from
    torch.Generator(10097)); `--fold 4 --sigma .3` scores fold 4 only; `-d mnist` is refused."""
    import torch

    from port_torch import parzen as torch_parzen

    path, model = stage1_checkpoint(tmp_path / "ckpt")
    record_path = tmp_path / "all.json"
    assert torch_parzen.main([str(path), "-n", "40", "--json", str(record_path), "-q"]) == 0
    out = capsys.readouterr().out
    assert out.count("Using Sigma:") == 5
    assert "TFD, folds 0, 1, 2, 3, 4: mean test log-likelihood" in out
    record = json.loads(record_path.read_text())
    generator = torch.Generator().manual_seed(10097)
    samples = model.generator.sample(40, generator).numpy()
    expected = parzen.tfd_protocol(samples, progress=False)
    assert record["dataset"] == "tfd" and sorted(record["folds"]) == ["0", "1", "2", "3", "4"]
    assert record["mean_across_folds"] == pytest.approx(expected.mean, rel=1e-12)
    assert record["se_across_folds"] == pytest.approx(expected.se, rel=1e-9)
    for fold in range(5):
        assert record["folds"][str(fold)]["sigma"] == expected.folds[fold].sigma
        assert record["folds"][str(fold)]["mean"] == pytest.approx(expected.folds[fold].mean,
                                                                    rel=1e-12)

    one = tmp_path / "one.json"
    assert torch_parzen.main([str(path), "-n", "40", "--fold", "4", "--sigma", ".3", "--json",
                              str(one), "-q"]) == 0
    single = json.loads(one.read_text())
    assert list(single["folds"]) == ["4"] and single["folds"]["4"]["sigma"] == .3
    assert "mean_across_folds" not in single
    with pytest.raises(SystemExit) as info:
        torch_parzen.main([str(path), "-n", "40", "-d", "mnist", "-q"])
    assert info.value.code == 2
    assert "2304-dimensional samples, but mnist images have 784" in capsys.readouterr().err
