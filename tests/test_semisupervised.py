"""Semi-supervised pieces (gan2014/semisupervised.py, port_torch/semisupervised.py): the classifier,
the label draws, and that the features are exactly the layers they are named after.

No checkpoint and no dataset: the model is yaml_experiments/smoke/mnist_tiny.yaml's, built from its
YAML with fresh random weights (a checkpoint of it is written here when one is needed).
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from gan2014 import checkpoint as ckpt
from gan2014 import inference as inference_core
from gan2014 import semisupervised as ss
from port_torch import semisupervised as semi

REPO = Path(__file__).resolve().parents[1]
TINY_YAML = REPO / "yaml_experiments" / "smoke" / "mnist_tiny.yaml"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --- the classifier ------------------------------------------------------------------------------

def clusters(n_per_class, seed, spread=0.3):
    """Three classes around (4, 0), (-4, 0), (0, 4) in 2-D: separable by a wide margin."""
    rng = np.random.RandomState(seed)
    centres = np.array([[4., 0.], [-4., 0.], [0., 4.]])
    X = np.concatenate([c + spread * rng.randn(n_per_class, 2) for c in centres])
    return X, np.repeat(np.arange(3), n_per_class)


def test_the_classifier_separates_a_separable_problem():
    """On three well separated clusters the fitted classifier makes no error, neither on its
    training points nor on 300 fresh points of the same clusters; the fit converged (largest
    gradient entry <= 1e-6)."""
    X, y = clusters(10, seed=0)
    model = ss.LogisticRegression(1e-3, n_classes=3).fit(X, y)
    assert model.info["converged"] and model.info["grad_max"] <= 1e-6
    assert model.error(X, y) == 0.0
    X_new, y_new = clusters(100, seed=1)
    assert model.error(X_new, y_new) == 0.0


def test_the_classifier_reaches_the_minimum_scipy_finds():
    """The L-BFGS written here and SciPy's L-BFGS-B (an independent optimiser) reach the same
    minimum of the same objective: values within 1e-9 relative, parameters within 1e-4 (the
    objective is strictly convex for lam > 0; both stop at gradients ~1e-7-1e-6)."""
    from scipy.optimize import minimize

    rng = np.random.RandomState(0)
    X = rng.randn(60, 5)
    y = np.argmax(X[:, :3] + 0.5 * rng.randn(60, 3), axis=1)   # overlapping classes
    lam = 1e-2
    model = ss.LogisticRegression(lam, n_classes=3).fit(X, y)
    Y = np.eye(3)[y]
    reference = minimize(lambda t: ss.objective(t, X, Y, lam), np.zeros(18), jac=True,
                         method="L-BFGS-B", options={"maxiter": 10000, "gtol": 1e-10,
                                                     "ftol": 1e-15})
    assert model.info["value"] == pytest.approx(reference.fun, rel=1e-9)
    np.testing.assert_allclose(np.concatenate([model.W.ravel(), model.b]), reference.x,
                               atol=1e-4)


def test_the_objective_gradient_equals_finite_differences():
    """Central differences (step 1e-6) of the loss agree with its gradient to 1e-7 (the
    difference's truncation error is ~1e-12, its rounding ~1e-10)."""
    rng = np.random.RandomState(0)
    X, y = rng.randn(8, 4), rng.randint(0, 3, 8)
    Y = np.eye(3)[y]
    theta = rng.randn(15)
    _, grad = ss.objective(theta, X, Y, 0.1)
    numeric = np.empty_like(theta)
    for i in range(len(theta)):
        step = np.zeros_like(theta)
        step[i] = 1e-6
        numeric[i] = (ss.objective(theta + step, X, Y, 0.1)[0]
                      - ss.objective(theta - step, X, Y, 0.1)[0]) / 2e-6
    np.testing.assert_allclose(grad, numeric, atol=1e-7)


def test_the_bias_is_not_penalised():
    """With only a bias to learn (all features zero) the fit gives each class its log-frequency
    (up to a constant), whatever the L2 strength: the penalty touches W only. Tolerance 1e-5
    absolute on b[0] - b[1]: the fit stops once every gradient entry (here p_k minus the class
    frequency) is at most its tol 1e-6, which moves log(p_0 / p_1) by at most about
    1e-6 (1/0.7 + 1/0.3) = 4.8e-6; a penalised bias would be pulled towards 0, away from
    log(7/3) = 0.85."""
    X = np.zeros((10, 2))
    y = np.array([0] * 7 + [1] * 3)
    model = ss.LogisticRegression(100.0, n_classes=2).fit(X, y)
    assert model.b[0] - model.b[1] == pytest.approx(np.log(7 / 3), abs=1e-5)


def test_select_and_fit_chooses_on_the_held_out_labels():
    """The chosen strength has the smallest held-out error in the record (ties: the smaller
    held-out cross-entropy), and the final model is fitted on all labels with it. Exact: the chosen
    strength is a grid value and the counts are integers (30 labels, of which 6 are held out: 2 of
    each class's 10)."""
    X, y = clusters(10, seed=2, spread=3.0)   # overlapping: the strength matters
    model, record = ss.select_and_fit(X, y, lambdas=(10.0, 1.0, 1e-2), seed=0)
    best = min(record["grid"], key=lambda r: (r["holdout_error"], r["holdout_cross_entropy"]))
    assert record["lam"] == best["lam"] == model.lam
    assert record["n_fit"] + record["n_holdout"] == len(y) and record["n_holdout"] == 6
    assert record["final_fit"]["converged"]


# --- label draws and scaling ---------------------------------------------------------------------

def test_balanced_label_draws():
    """100 labels of a 10-class pool are 100 distinct indices, 10 of each class; the same seed
    gives the same draw and another seed another; a count that is not a multiple of 10, or a class
    with too few examples, is refused naming it. Exact: integer indices and counts, and the
    messages."""
    labels = np.repeat(np.arange(10), 50)[np.random.RandomState(0).permutation(500)]
    first = ss.balanced_labels(labels, 100, seed=0)
    assert len(set(first)) == 100 and np.all(np.bincount(labels[first]) == 10)
    np.testing.assert_array_equal(first, ss.balanced_labels(labels, 100, seed=0))
    assert not np.array_equal(first, ss.balanced_labels(labels, 100, seed=1))
    with pytest.raises(ValueError, match="multiple of 10"):
        ss.balanced_labels(labels, 105, seed=0)
    with pytest.raises(ValueError, match="class 3 has"):
        ss.balanced_labels(np.where(labels == 3, 4, labels), 100, seed=0)


def test_holdout_split_is_a_stratified_partition():
    """Holding out 0.2 of 6 examples per class gives disjoint fit and held-out sets that cover all
    60 positions, with exactly one held-out example of each class. Exact: integer indices."""
    labels = np.repeat(np.arange(10), 6)
    fit, held = ss.holdout_split(labels, 0.2, seed=0)
    assert len(np.intersect1d(fit, held)) == 0 and len(fit) + len(held) == 60
    assert np.all(np.bincount(labels[held]) == 1)


def test_standardiser_centres_and_scales_with_one_number():
    """On 300 rows of 4 columns of very different scales (0.01 to 10), the scaled features have
    column means 0 (1e-12 absolute), overall RMS 1 (pytest.approx's default 1e-6 relative) and one
    common factor for all columns (1e-7 relative): float64 arithmetic, rounding ~1e-15, far
    below."""
    rng = np.random.RandomState(0)
    pool = rng.randn(300, 4) * np.array([1., 10., 0.01, 3.]) + 5
    scaled = ss.Standardiser(pool, block_rows=64)(pool)
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-12)
    assert np.sqrt(np.mean(scaled ** 2)) == pytest.approx(1.0)
    ratio = scaled.std(axis=0) / pool.std(axis=0)   # one common factor: relative sizes kept
    np.testing.assert_allclose(ratio, ratio[0])


def test_markdown_table_and_figure(tmp_path):
    """The table shows each label count's error as percent mean ± sd with two decimals
    (25.00 ± 1.00, 10.00 ± 2.00), and the figure is written (a non-empty file). Exact: the
    formatted row."""
    summary = {"pixels": {"100": {"mean": .25, "sd": .01, "n": 2},
                          "600": {"mean": .1, "sd": .02, "n": 2}}}
    table = ss.markdown_table(summary, [100, 600], ["pixels"])
    assert "| pixels | 25.00 ± 1.00 | 10.00 ± 2.00 |" in table
    path = ss.plot_errors(summary, [100, 600], ["pixels"], tmp_path / "errors.png")
    assert Path(path).stat().st_size > 0


# --- the features are the layers they are named after -------------------------------------------

@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    """(model loaded by ``load_pair`` from a checkpoint of the tiny config with random, non-zero
    weights, those weights). No dataset is present: load_pair must not read one."""
    from gan2014.config.yaml_parse import load
    from gan2014.pretrained import _SubtreeBuilder
    from port_torch.registry import REGISTRY

    text = TINY_YAML.read_text()
    tree = load(text, REGISTRY, instantiate=False)
    model = _SubtreeBuilder("tiny", {}).build(tree.kwargs["model"])
    rng = np.random.RandomState(0)
    values = {name: rng.uniform(-.5, .5, v.shape).astype(np.float32)
              for name, v in model.get_param_values().items()}
    folder = tmp_path_factory.mktemp("semi")
    path = ckpt.save_checkpoint(folder / "epoch_000001.npz", values,
                                {"yaml": text, "param_names": list(values), "epoch": 1})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYLEARN2_DATA_PATH", str(folder / "no_data"))
        loaded, meta = semi.load_pair(path)
    assert meta["epoch"] == 1
    return loaded, values


def maxout(x, W, b, pieces):
    a = x @ W.astype(np.float64) + b.astype(np.float64)
    return a.reshape(len(x), -1, pieces).max(axis=2)


def independent_d_layers(values, x):
    """D's hidden layers recomputed in float64 numpy from the parameter arrays alone: maxout with
    5 adjacent pieces per unit (mnist_tiny.yaml's D), no dropout scaling."""
    h0 = maxout(x, values["D/h0_W"], values["D/h0_b"], 5)
    h1 = maxout(h0, values["D/h1_W"], values["D/h1_b"], 5)
    return {"h0": h0, "h1": h1}


def test_load_pair_sets_every_parameter_from_the_checkpoint(tiny_pair):
    """Every parameter of the model load_pair builds (G's and D's) equals the checkpoint's array.
    Exact: loading copies float32 values unchanged."""
    model, values = tiny_pair
    for name, value in model.get_param_values().items():
        np.testing.assert_array_equal(value, values[name], err_msg=name)


@pytest.mark.parametrize("layer", ["h0", "h1"])
def test_D_features_are_exactly_the_named_layer(tiny_pair, layer):
    """``discriminator_features(D, x, [layer])`` equals D's layer ``layer`` recomputed
    independently (float64 numpy), to 1e-5 relative to the largest value (float32 rounding over
    sums of 784 and 80 terms); and it is not the other hidden layer (the check would catch a
    feature extractor that returned the wrong one)."""
    model, values = tiny_pair
    x = np.random.RandomState(1).uniform(0, 1, (9, 784)).astype(np.float32)
    expected = independent_d_layers(values, x.astype(np.float64))
    got = semi.discriminator_features(model.discriminator, torch.from_numpy(x), [layer])[0]
    got = got.numpy().astype(np.float64)
    scale = np.max(np.abs(expected[layer]))
    np.testing.assert_allclose(got, expected[layer], rtol=0, atol=1e-5 * scale)
    other = "h1" if layer == "h0" else "h0"
    assert got.shape != expected[other].shape or not np.allclose(got, expected[other], atol=1e-3)


def test_the_feature_sets_are_wired_to_their_layers(tiny_pair):
    """Each named set of ``feature_functions`` gives its layer: pixels unchanged, D h0, D h1, the
    two side by side; E's last hidden layer and its code equal gan2014.inference's float64
    forward pass."""
    from port_torch.inference import Encoder

    model, values = tiny_pair
    x = np.random.RandomState(2).uniform(0, 1, (6, 784)).astype(np.float32)
    params = inference_core.init_params(784, (12, 8), 10, seed=0)
    functions = semi.feature_functions(model.discriminator, Encoder(params))
    features = semi.compute_features(functions, x, chunk=4)
    layers = independent_d_layers(values, x.astype(np.float64))
    code, hidden = inference_core.reference_forward(params, x)
    expected = {"pixels": x, "D h0": layers["h0"], "D h1": layers["h1"],
                "D h0+h1": np.concatenate([layers["h0"], layers["h1"]], axis=1),
                "E last hidden": hidden[-1], "E code": code}
    assert list(features) == list(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(features[name], value, rtol=0,
                                   atol=1e-5 * np.max(np.abs(value)), err_msg=name)


def test_asking_for_a_layer_D_does_not_have_is_an_error(tiny_pair):
    """Asking for D's output layer "y" or an absent "h2" as features is a ValueError listing D's
    hidden layers ['h0', 'h1']. Exact: the message is the user's only guide."""
    model, _ = tiny_pair
    x = torch.zeros(2, 784)
    for name in ("y", "h2"):
        with pytest.raises(ValueError, match=r"hidden layers are \['h0', 'h1'\]"):
            semi.discriminator_features(model.discriminator, x, [name])


def test_load_pair_refuses_a_released_generator(tmp_path, tiny_pair):
    """A released generator (G's parameters only) given to load_pair is a CheckpointError saying it
    holds no discriminator parameters. Exact: the error type and message."""
    _, values = tiny_pair
    generator_only = {k: v for k, v in values.items() if k.startswith("G/")}
    path = ckpt.save_checkpoint(tmp_path / "generator.npz", generator_only,
                                {"yaml": TINY_YAML.read_text(), "kind": "released-generator"})
    with pytest.raises(ckpt.CheckpointError, match="no discriminator parameters"):
        semi.load_pair(path)


def test_the_command_names_bad_input(tmp_path, capsys):
    """A missing checkpoint is one `error:` line naming it (exit 2); label counts that cannot be
    balanced and a single draw are refused before anything is computed. Exact: exit status 2 and
    stderr being one line that starts with 'error:' and holds the checkpoint's path; the bad
    options must raise SystemExit with the parser's code 2 and name the option, which shows they
    were refused before the missing checkpoint was read, as that returns 2 instead."""
    missing = tmp_path / "missing.npz"
    assert semi.main([str(missing), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and str(missing) in lines[0], lines
    for option in (["--labels", "100,55"], ["--draws", "1"]):
        with pytest.raises(SystemExit) as stop:
            semi.main([str(missing), "--out", str(tmp_path / "out")] + option)
        assert stop.value.code == 2
        assert option[0] in capsys.readouterr().err


def test_a_label_count_the_pool_cannot_give_is_refused_before_the_features(tmp_path, capsys,
                                                                          monkeypatch):
    """--labels 100,600 with a pool of 30 examples of each class: one `error:` line naming the
    count and the short class, exit 2, before any feature is computed (they take minutes on the
    real pool) and with nothing written."""
    pool_y = np.repeat(np.arange(10), 30)
    monkeypatch.setattr(semi, "load_pair", lambda path: (None, {"epoch": 1}))
    monkeypatch.setattr(semi, "_load_data", lambda path: (None, pool_y, None, None))

    def no_features(*args):
        raise AssertionError("features computed before the label counts were checked")

    monkeypatch.setattr(semi, "feature_functions", no_features)
    out = tmp_path / "out"
    assert semi.main(["ck.npz", "--out", str(out), "--labels", "100,600", "--quiet"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: --labels 600: class 0 has 30 examples in the pool, 60 are needed"]
    assert not out.exists()


def test_the_sweep_gives_every_feature_set_the_same_label_draws():
    """Two feature sets with the same values (one scaled by 7: the scaling step removes the factor)
    get the same draws and so the same chosen strengths and test errors, draw for draw; the
    records cover every label count and draw. Exact: chosen strengths (grid values), draw numbers
    and counts; test errors within pytest.approx's default relative 1e-6, far below one test
    point's 1/30, so both sets must misclassify as many points, as features that differ only by
    rounding should."""
    rng = np.random.RandomState(0)
    labels = np.repeat(np.arange(10), 12)
    X = rng.randn(120, 6) + 2.0 * np.eye(10, 6)[labels]
    test_labels = np.repeat(np.arange(10), 3)
    X_test = rng.randn(30, 6) + 2.0 * np.eye(10, 6)[test_labels]
    runs = semi.run_sweep({"a": X, "b": 7 * X}, labels, {"a": X_test, "b": 7 * X_test},
                          test_labels, (20, 50), draws=2, lambdas=(1.0, 0.01))
    for n in ("20", "50"):
        assert [r["draw"] for r in runs["a"][n]] == [0, 1]
        for first, second in zip(runs["a"][n], runs["b"][n]):
            assert first["lam"] == second["lam"]
            assert first["test_error"] == pytest.approx(second["test_error"])
    summary = semi.summarise_runs(runs)
    assert summary["a"]["20"]["n"] == 2
