"""The conditional model feeds the label where it should (torch port, built from the YAML).

legacy_aesara computes the same numbers (parity_tests/test_conditional_parity.py), so what these
tests prove for port_torch holds for both backends. Each test fails on one wrong wiring: the label
ignored by G or D, read by the wrong sub-layer, or the fake half of D's batch carrying labels other
than the real half's.
"""
import numpy as np
import pytest
import torch

from gan2014.composite_space import CompositeSpace
from gan2014.datasets.labels_as_features import LabelsAsFeatures, one_hot
from gan2014.space import VectorSpace
from parity_tests.conftest import REPO, mnist_or_skip

YAML = REPO / "yaml_experiments" / "mnist_conditional.yaml"


@pytest.fixture(scope="module")
def train(one_torch_thread):
    mnist_or_skip()
    from gan2014.config.yaml_parse import load_path
    from port_torch.registry import REGISTRY
    train = load_path(str(YAML), REGISTRY)
    train.model.double()
    return train


@pytest.fixture
def batch(train):
    rng = np.random.RandomState(0)
    X = torch.from_numpy(train.dataset.X[:100].astype(np.float64))
    z = torch.from_numpy(rng.uniform(0, 1, (100, 100)))
    return X, z


def roll_labels(X, model):
    """X with every label replaced by the next class (pixels untouched)."""
    x, c = model.split(X)
    return torch.cat([x, torch.roll(c, 1, dims=1)], dim=1)


def zeroed(model, name):
    """A context that sets parameter `name` to zero and restores it."""
    class Zeroed:
        def __enter__(self):
            self.param = dict(model.named_params())[name]
            self.saved = self.param.detach().clone()
            with torch.no_grad():
                self.param.zero_()

        def __exit__(self, *exc):
            with torch.no_grad():
                self.param.copy_(self.saved)
    return Zeroed()


def test_parameters_follow_the_yaml_layout(train):
    """G's h0 has a noise part (100 -> 200) and a label part (10 -> 1000); D's h0 a pixel part
    (784 -> 240 x 5) and a label part (10 -> 50 x 5); the joined widths feed h1. Exact shapes."""
    shapes = {name: tuple(p.shape) for name, p in train.model.named_params()}
    assert shapes["G/h0_z_W"] == (100, 200) and shapes["G/h0_y_W"] == (10, 1000)
    assert shapes["G/h1_W"] == (1200, 1200) and shapes["G/y_W"] == (1200, 784)
    assert shapes["D/h0_x_W"] == (784, 1200) and shapes["D/h0_y_W"] == (10, 250)
    assert shapes["D/h1_W"] == (290, 960) and shapes["D/y_W"] == (240, 1)


def test_generator_output_changes_with_the_label_alone(train, batch):
    """Same z, other labels -> other samples (differences far above rounding: > 1e-4); same z and
    labels -> the same samples bit for bit."""
    G, (X, z) = train.model.generator, batch
    _, c = train.model.split(X)
    with torch.no_grad():
        a, b, again = G(z, c), G(z, torch.roll(c, 1, dims=1)), G(z, c)
    assert float((a - b).abs().max()) > 1e-4
    assert torch.equal(a, again)


def test_generator_reads_the_label_through_its_label_part_only(train, batch):
    """With G/h0_y_W = 0 the label cannot reach G: samples for other labels are then identical
    (exactly); with G/h0_z_W = 0 the noise cannot, and the samples for other z are identical."""
    G, (X, z) = train.model.generator, batch
    _, c = train.model.split(X)
    with torch.no_grad(), zeroed(train.model, "G/h0_y_W"):
        assert torch.equal(G(z, c), G(z, torch.roll(c, 1, dims=1)))
    with torch.no_grad(), zeroed(train.model, "G/h0_z_W"):
        assert torch.equal(G(z, c), G(torch.flip(z, dims=[0]), c))


def d_obj(train, X, z):
    cost, model = train.algorithm.cost, train.model
    with torch.no_grad():
        return float(cost.samples_and_objectives(model, X, z, None)[1])


def test_discriminator_objective_depends_on_the_label(train, batch):
    """Relabelling the batch (pixels and z unchanged) changes d_obj by more than 1e-9 (float64
    rounding is ~1e-16); with D/h0_y_W = 0 it changes nothing (exact), so the label enters D
    through D's label part and nowhere else."""
    X, z = batch
    assert abs(d_obj(train, X, z) - d_obj(train, roll_labels(X, train.model), z)) > 1e-9
    with zeroed(train.model, "D/h0_y_W"), zeroed(train.model, "G/h0_y_W"):
        assert d_obj(train, X, z) == d_obj(train, roll_labels(X, train.model), z)


def test_discriminator_reads_the_pixels_through_its_pixel_part_only(train, batch):
    """With D/h0_x_W = 0, D's output on real rows no longer depends on the pixels (exact)."""
    X, _ = batch
    D = train.model.discriminator
    x, c = train.model.split(X)
    other = torch.cat([torch.flip(x, dims=[0]), c], dim=1)
    with torch.no_grad(), zeroed(train.model, "D/h0_x_W"):
        assert torch.equal(D(X), D(other))


def test_the_fake_half_carries_the_real_halfs_labels(train, batch):
    """The cost's fake logits equal D([G(z, c) | c]) with c the real rows' labels (1e-12
    relative: the same float64 operations in another grouping) and differ from D([G(z, c) | c'])
    for other labels c' by more than 1e-6."""
    X, z = batch
    model, cost = train.model, train.algorithm.cost
    _, c = model.split(X)
    with torch.no_grad():
        S, _, _, _, l_samp = cost.samples_and_objectives(model, X, z, None)
        assert torch.allclose(S, model.generator(z, c), rtol=0, atol=1e-12)
        right = model.discriminator.logits(torch.cat([S, c], dim=1))
        wrong = model.discriminator.logits(torch.cat([S, torch.roll(c, 1, dims=1)], dim=1))
    assert float((l_samp - right).abs().max()) <= 1e-12 * float(right.abs().max())
    assert float((l_samp - wrong).abs().max()) > 1e-6


def test_labels_as_features_joins_pixels_and_one_hot_rows(train):
    """Rows are [pixels | one-hot(y)], exactly; labels outside the classes are refused."""
    data = train.dataset
    assert data.X.shape == (50000, 794)
    assert np.array_equal(data.X[:, :784], data.dataset.X)
    assert np.array_equal(data.X[:, 784:], one_hot(data.dataset.y, 10))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        one_hot(np.array([0, 3]), 3)

    class Unlabelled:
        X = np.zeros((2, 3))
    with pytest.raises(TypeError, match="has no X and y"):
        LabelsAsFeatures(Unlabelled())


def test_composite_layer_refuses_bad_routing():
    """inputs_to_layers must feed every sub-layer exactly one existing input component."""
    from port_torch.models.composite import CompositeLayer
    from port_torch.models.mlp import MLP, RectifiedLinear

    space = CompositeSpace([VectorSpace(3), VectorSpace(2)])
    for routing, message in (({0: [0]}, r"sub-layer\(s\) \[1\] get no input"),
                             ({0: [0, 1], 1: [1]}, "already fed"),
                             ({2: [0, 1]}, "has 2 components")):
        parts = [RectifiedLinear(layer_name="a", dim=2, irange=.1),
                 RectifiedLinear(layer_name="b", dim=2, irange=.1)]
        with pytest.raises(ValueError, match=message):
            MLP(layers=[CompositeLayer("h0", parts, routing)], input_space=space)
    with pytest.raises(ValueError, match="must be a CompositeSpace"):
        MLP(layers=[CompositeLayer("h0", [RectifiedLinear(layer_name="a", dim=2, irange=.1)],
                                   {0: [0]})], nvis=5)


@pytest.mark.parametrize("backend", ["port_torch", "legacy_aesara"])
def test_a_misspelt_noise_kind_is_refused_where_the_yaml_builds_g(backend, tmp_path):
    """Both backends name the file, the line and the kinds ConditionalGenerator knows (the
    unconditional four plus 'unit_uniform'); the Aesara one used to accept any name and fail only
    when building the training function."""
    mnist_or_skip()
    import importlib

    from gan2014.config.yaml_parse import YAMLConfigError, load_path
    registry = importlib.import_module(f"{backend}.registry").REGISTRY
    text = YAML.read_text(encoding="utf-8")
    assert text.count("noise: 'unit_uniform'") == 1
    config = tmp_path / "misspelt.yaml"
    config.write_text(text.replace("noise: 'unit_uniform'", "noise: 'unit_unifrom'"),
                      encoding="utf-8")
    with pytest.raises(YAMLConfigError, match=r"misspelt\.yaml:\d+:\d+: building "
                       r"!obj:.*ConditionalGenerator failed: ValueError: ConditionalGenerator: "
                       r"noise must be one of 'uniform', 'gaussian', 'spherical', 'unit_uniform', "
                       r"got 'unit_unifrom'"):
        load_path(str(config), registry)


@pytest.mark.parametrize("num_classes", [1, "ten", 2.5])
def test_labels_as_features_needs_a_whole_number_of_classes(num_classes):
    """'ten' was int()'s bare "invalid literal" message."""
    class Labelled:
        X = np.zeros((2, 3))
        y = np.array([0, 1])
    with pytest.raises(ValueError, match=r"LabelsAsFeatures: num_classes must be a whole number "
                                         r">= 2, got"):
        LabelsAsFeatures(Labelled(), num_classes=num_classes)



@pytest.mark.parametrize("backend", ["port_torch", "legacy_aesara"])
def test_g_and_d_without_a_label_part_are_refused(backend):
    """A ConditionalGenerator's MLP and a ConditionalAdversaryPair's discriminator must read
    CompositeSpace([data, label]); a plain vector input (or three parts) is named in the error
    instead of failing later on a column slice."""
    import importlib
    mlp = importlib.import_module(f"{backend}.models.mlp")
    conditional = importlib.import_module(f"{backend}.conditional_gan")

    def net(space):
        return mlp.MLP(layers=[mlp.Sigmoid(layer_name="y", dim=1, irange=.1)], input_space=space)

    good = net(CompositeSpace([VectorSpace(4), VectorSpace(3)]))
    generator = conditional.ConditionalGenerator(
        mlp.MLP(layers=[mlp.Sigmoid(layer_name="x", dim=4, irange=.1)],
                input_space=CompositeSpace([VectorSpace(2), VectorSpace(3)])))
    assert generator.num_classes == 3
    assert conditional.ConditionalAdversaryPair(generator, good).generator is generator
    for space in (VectorSpace(7), CompositeSpace([VectorSpace(4), VectorSpace(2),
                                                  VectorSpace(1)])):
        with pytest.raises(ValueError, match=r"ConditionalAdversaryPair discriminator: the input "
                                             r"space must be CompositeSpace\(\[data, label\]\)"):
            conditional.ConditionalAdversaryPair(generator, net(space))
        with pytest.raises(ValueError, match=r"ConditionalGenerator: the input space must be"):
            conditional.ConditionalGenerator(
                mlp.MLP(layers=[mlp.Sigmoid(layer_name="x", dim=4, irange=.1)],
                        input_space=space))
