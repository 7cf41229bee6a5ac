"""Pylearn2's spaces and the cuda-convnet layer geometry (gan2014/space.py,
gan2014/linear/conv2d_c01b.py), and the clear errors of the conv layers in both backends.

The numerical parity of the layers is in parity_tests/test_parity_conv.py; here: element orders,
shapes, the checks cuda-convnet made, the dataset-to-input-space formatting, and what the torch
step paths refuse.
"""
import numpy as np
import pytest

from gan2014.datasets import cifar10
from gan2014.linear.conv2d_c01b import DeconvGeometry, DetectorGeometry, PoolGeometry
from gan2014.space import Conv2DSpace, DesignBatchFormatter, VectorSpace, conversion, np_format_as
from parity_tests.helpers import write_tiny_cifar10

C01B = ("c", 0, 1, "b")


# ------------------------------------------------------------------------------------ spaces
def test_conv2d_space_defaults_and_shapes():
    """Conv2DSpace's axes, total dimension, batch axis, batch shape and origin for the CIFAR-10
    generator's 80 x 10 x 10 c01b space; Pylearn2's default axes b01c; equality includes the axes.
    Exact: integers and tuples."""
    space = Conv2DSpace(shape=[10, 10], num_channels=80, axes=["c", 0, 1, "b"])
    assert space.axes == C01B and space.get_total_dimension() == 8000
    assert space.get_batch_axis() == 3 and space.batch_shape(128) == (80, 10, 10, 128)
    assert space.get_origin().shape == (80, 10, 10)
    assert Conv2DSpace([32, 32], channels=3).axes == ("b", 0, 1, "c")  # Pylearn2's default
    assert space == Conv2DSpace((10, 10), num_channels=80, axes=C01B)
    assert space != Conv2DSpace((10, 10), num_channels=80)


@pytest.mark.parametrize("kwargs, message", [
    (dict(shape=[10, 10], num_channels=3, axes=["c", 0, 1, "x"]), "permutation"),
    (dict(shape=[10], num_channels=3), "shape must be two positive integers"),
    (dict(shape=[10, 0], num_channels=3), "shape must be two positive integers"),
    (dict(shape=[10, 10], num_channels=0), "num_channels must be a positive integer"),
    (dict(shape=[10, 10], num_channels=3, channels=3), "exactly one of num_channels"),
])
def test_conv2d_space_rejects_bad_arguments(kwargs, message):
    """Each bad argument is a ValueError with its own message: axes that are not a permutation of
    (b, 0, 1, c), a shape of one or a zero size, zero channels, and both num_channels and channels.
    Exact: the error type and message."""
    with pytest.raises(ValueError, match=message):
        Conv2DSpace(**kwargs)


def test_vector_to_conv_reads_rows_channel_fastest():
    """VectorSpace -> Conv2DSpace(c01b): row b, position (i*cols + j)*channels + c goes to
    [c, i, j, b] (Pylearn2 reshapes into ('b', 0, 1, 'c') first); Conv2DSpace -> VectorSpace
    inverts it. Exact: integer values moved, never computed."""
    rows = np.arange(2 * 24).reshape(2, 24)
    target = Conv2DSpace([2, 3], num_channels=4, axes=C01B)
    images = np_format_as(rows, VectorSpace(24), target)
    assert images.shape == (4, 2, 3, 2)
    for c, i, j, b in [(0, 0, 0, 0), (3, 1, 2, 1), (1, 0, 2, 0), (2, 1, 0, 1)]:
        assert images[c, i, j, b] == rows[b, (i * 3 + j) * 4 + c]
    np.testing.assert_array_equal(np_format_as(images, target, VectorSpace(24)), rows)
    bc01 = np_format_as(images, target, Conv2DSpace([2, 3], num_channels=4, axes=("b", "c", 0, 1)))
    np.testing.assert_array_equal(bc01, images.transpose(3, 0, 1, 2))


def test_conversion_rejects_mismatched_spaces():
    """Converting a VectorSpace to a Conv2DSpace of another total dimension, or between
    Conv2DSpaces that differ in more than the axis order, is a ValueError saying so. Exact: the
    message."""
    with pytest.raises(ValueError, match="total dimension 100 can't format a batch"):
        conversion(VectorSpace(100), Conv2DSpace([10, 10], num_channels=80))
    with pytest.raises(ValueError, match="only the axis order may"):
        conversion(Conv2DSpace([4, 4], num_channels=2), Conv2DSpace([2, 8], num_channels=2))


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    write_tiny_cifar10(tmp_path, 4)
    monkeypatch.setenv("PYLEARN2_DATA_PATH", str(tmp_path))
    monkeypatch.setattr(cifar10, "EXAMPLES_PER_BATCH", 4)
    cifar10.clear_cache()
    yield
    cifar10.clear_cache()


def test_dataset_rows_become_planar_c01b_images(tiny_cifar):
    """As Pylearn2's iterator served the cost's data specs: DefaultViewConverter's channel-planar
    images (column c*1024 + 32*i + j is pixel (i, j) of channel c), transposed into the space.
    Exact: float32 values moved, never computed, and the error messages."""
    data = cifar10.CIFAR10("train", axes=["c", 0, 1, "b"], gcn=55.)
    formatter = DesignBatchFormatter(data, Conv2DSpace([32, 32], num_channels=3, axes=C01B))
    batch = formatter(data.X[[5, 1, 7]])
    assert batch.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(batch, data.get_topological_view(data.X[[5, 1, 7]]))
    assert batch[2, 4, 9, 1] == data.X[1, 2 * 1024 + 32 * 4 + 9]
    np.testing.assert_array_equal(DesignBatchFormatter(data, VectorSpace(3072))(data.X[:2]),
                                  data.X[:2])
    with pytest.raises(ValueError, match="do not match the model's input space"):
        DesignBatchFormatter(data, Conv2DSpace([16, 16], num_channels=12, axes=C01B))
    with pytest.raises(ValueError, match="has 784 dimensions but the dataset's rows have 3072"):
        DesignBatchFormatter(data, VectorSpace(784))


# ------------------------------------------------------------------------------- geometry
def test_detector_and_pool_geometry_of_the_cifar10_conv_discriminator():
    """The three conv layers of the CIFAR-10 discriminator give cuda-convnet's sizes, input ->
    detector -> pooled: 32 -> 33 -> 16, 16 -> 15 -> 7, 7 -> 9 -> 5, and filters (input channels,
    kernel, kernel, detector channels). Exact: integer arithmetic."""
    space, shapes = Conv2DSpace([32, 32], num_channels=3, axes=C01B), []
    for pad, kernel, channels, pool, stride in ((4, 8, 64, 4, 2), (3, 8, 64, 4, 2),
                                                (3, 5, 384, 2, 2)):
        detector = DetectorGeometry(space, [kernel, kernel], pad, channels, "layer")
        pooled = PoolGeometry(detector.detector_space.shape, [pool, pool], [stride, stride],
                              "layer")
        shapes.append((space.shape[0], detector.detector_space.shape[0], pooled.output_shape[0]))
        assert detector.filter_shape == (space.num_channels, kernel, kernel, channels)
        space = Conv2DSpace(pooled.output_shape, num_channels=channels // 2, axes=C01B)
    assert shapes == [(32, 33, 16), (16, 15, 7), (7, 9, 5)]


def test_detector_geometry_adds_dummy_channels_and_fixes_kernels():
    """5 input channels get 3 zero dummy channels (filters over 8); fix_kernel_shape shrinks a
    6 x 6 kernel to the padded 3 x 3 input (5 x 5, a 1 x 1 detector); fix_pool_shape and
    fix_pool_stride shrink a 4 x 4 pool and stride to the 3 x 3 detector. Exact: integers."""
    geometry = DetectorGeometry(Conv2DSpace([9, 9], num_channels=5, axes=C01B), [4, 4], 2, 16, "c")
    assert geometry.dummy_channels == 3 and geometry.filter_shape == (8, 4, 4, 16)
    fixed = DetectorGeometry(Conv2DSpace([3, 3], num_channels=3, axes=C01B), [6, 6], 1, 16, "c",
                             fix_kernel_shape=True)
    assert fixed.kernel_shape == (5, 5) and fixed.detector_space.shape == (1, 1)
    pool = PoolGeometry((3, 3), [4, 4], [4, 4], "c", fix_pool_shape=True, fix_pool_stride=True)
    assert pool.pool_shape == (3, 3) and pool.pool_stride == (3, 3) and pool.output_shape == (1, 1)


@pytest.mark.parametrize("arguments, error, message", [
    (dict(detector_channels=8), ValueError, "at least 16 channels"),
    (dict(detector_channels=24), ValueError, "multiple of 16"),
    (dict(kernel_shape=[8, 6]), ValueError, "filters must be square"),
    (dict(kernel_shape=[42, 42]), ValueError, "too big for input"),
    (dict(axes=("b", 0, 1, "c")), NotImplementedError, "c01b input"),
    (dict(kernel_stride=[2, 2], kernel_shape=[5, 5]), NotImplementedError, "does not tile"),
])
def test_detector_geometry_errors_name_the_layer(arguments, error, message):
    """Each check cuda-convnet made (at least 16 and a multiple of 16 detector channels, square
    kernels, a kernel that fits, c01b input, a stride that tiles the input) raises its error and
    names the layer. Exact: the error type and message, which tell the user what to change."""
    options = dict(kernel_shape=[8, 8], detector_channels=32, axes=C01B)
    options.update(arguments)
    space = Conv2DSpace([32, 32], num_channels=3, axes=options.pop("axes"))
    with pytest.raises(error, match=message) as info:
        DetectorGeometry(space, options.pop("kernel_shape"), 4, options.pop("detector_channels"),
                         "dh0", **options)
    assert "'dh0'" in str(info.value)


@pytest.mark.parametrize("pool, stride, message", [([40, 40], [2, 2], "exceeds the detector"),
                                                   ([4, 4], [5, 5], "too big for pool shape"),
                                                   ([4, 2], [2, 2], "pools must be square")])
def test_pool_geometry_errors(pool, stride, message):
    """A pool larger than the detector, a stride larger than the pool and a non-square pool are
    each a ValueError saying so. Exact: the error type and message."""
    with pytest.raises(ValueError, match=message):
        PoolGeometry((33, 33), pool, stride, "dh0")


def test_deconv_geometry_of_the_cifar10_conv_generator_and_its_errors():
    """The CIFAR-10 generator's Deconv (80 x 10 x 10, kernel 5, stride 3) makes a 3 x 32 x 32 c01b
    output with filters (3, 5, 5, 80); fewer than 16 input channels, 5 output channels and a stride
    above the kernel are refused. Exact: integer shapes, error type and message."""
    space = Conv2DSpace([10, 10], num_channels=80, axes=C01B)
    geometry = DeconvGeometry(space, [5, 5], [3, 3], 0, 3, "y")
    assert geometry.output_space == Conv2DSpace([32, 32], num_channels=3, axes=C01B)
    assert geometry.filter_shape == (3, 5, 5, 80)
    with pytest.raises(ValueError, match="at least 16 channels"):
        DeconvGeometry(Conv2DSpace([10, 10], num_channels=8, axes=C01B), [5, 5], [3, 3], 0, 3, "y")
    with pytest.raises(NotImplementedError, match="dummy channels on the output"):
        DeconvGeometry(space, [5, 5], [3, 3], 0, 5, "y")
    with pytest.raises(ValueError, match="stride 6 greater than filter size"):
        DeconvGeometry(space, [5, 5], [6, 6], 0, 3, "y")


# ------------------------------------------------------------------------- the backends' layers
def layers(backend):
    import importlib
    return importlib.import_module(f"{backend}.registry").REGISTRY


@pytest.mark.parametrize("backend", ["legacy_aesara", "port_torch"])
def test_space_converter_with_the_wrong_size_names_the_layer(backend):
    """In both backends, an MLP whose 7999 inputs cannot fill the SpaceConverter's 8000-dimensional
    space is a ValueError naming the converter layer and the input space. Exact: the message."""
    registry = layers(backend)
    converter = registry["pylearn2.models.mlp.SpaceConverter"](
        layer_name="converter", output_space=Conv2DSpace([10, 10], num_channels=80, axes=C01B))
    with pytest.raises(ValueError, match=r"layer 'converter': VectorSpace\(dim=7999\) with total "
                                         r"dimension 7999"):
        registry["pylearn2.models.mlp.MLP"](layers=[converter], nvis=7999)


@pytest.mark.parametrize("backend", ["legacy_aesara", "port_torch"])
def test_conv_layers_need_irange_and_refuse_normalisations(backend):
    """In both backends, MaxoutConvC01B and Deconv without irange are refused, and an
    output_normalization (not reproduced) is a NotImplementedError. Exact: the error type and
    message."""
    registry = layers(backend)
    conv = registry["pylearn2.models.maxout.MaxoutConvC01B"]
    arguments = dict(layer_name="dh0", num_channels=8, num_pieces=2, kernel_shape=[8, 8],
                     pool_shape=[4, 4], pool_stride=[2, 2])
    with pytest.raises(ValueError, match="needs irange"):
        conv(**arguments)
    with pytest.raises(NotImplementedError, match="output_normalization"):
        conv(irange=.005, output_normalization=abs, **arguments)
    with pytest.raises(ValueError, match="needs irange"):
        registry["adversarial.deconv.Deconv"](layer_name="y", num_channels=3, kernel_shape=[5, 5])


@pytest.mark.parametrize("backend", ["legacy_aesara", "port_torch"])
def test_conv_layers_name_the_layer_for_a_bad_shape_or_an_irange_yaml_read_as_text(backend):
    """kernel_shape '8x8' was int()'s bare "invalid literal"; irange '-.005' (text to YAML 1.1) a
    TypeError from numpy. Both are refused when the MLP is built, naming the layer. Exact: the
    messages."""
    registry = layers(backend)
    conv = registry["pylearn2.models.maxout.MaxoutConvC01B"]
    arguments = dict(layer_name="dh0", num_channels=16, num_pieces=2, pool_shape=[4, 4],
                     pool_stride=[2, 2], pad=4)
    space = Conv2DSpace([32, 32], num_channels=3, axes=C01B)
    for changed, message in (
            (dict(kernel_shape="8x8", irange=.005),
             r"layer 'dh0': kernel_shape must be two integers, got '8x8'"),
            (dict(kernel_shape=[8, 8], irange="-.005"),
             r"layer 'dh0': irange must be a number, got '-\.005' \(text to YAML 1\.1")):
        with pytest.raises(ValueError, match=message):
            registry["pylearn2.models.mlp.MLP"](layers=[conv(**arguments, **changed)],
                                                input_space=space)


def test_max_kernel_norm_clips_each_output_kernel_alike_in_both_backends():
    """MaxoutConvC01B / Deconv `max_kernel_norm`: W[..., o] * clip(n_o, 0, c) / (1e-7 + n_o) with
    n_o the norm over (input channels, rows, cols); the same numbers in both backends."""
    import legacy_aesara  # noqa: F401
    import aesara
    import aesara.tensor as at
    import torch
    from legacy_aesara.models.maxout import clip_kernel_norms
    from port_torch.models.maxout import clip_kernel_norms_

    W = np.random.RandomState(3).uniform(-1, 1, (3, 4, 4, 6)).astype(np.float32)
    W[..., 0] *= 1e-3                                  # one kernel under the limit
    variable = at.tensor4("W")
    clipped_aesara = aesara.function([variable], clip_kernel_norms(variable, 1.5))(W)
    clipped_torch = torch.from_numpy(W.copy())
    clip_kernel_norms_(clipped_torch, 1.5)
    np.testing.assert_allclose(clipped_aesara, clipped_torch.numpy(), rtol=1e-6)
    norms = np.sqrt((clipped_aesara.astype(np.float64) ** 2).sum(axis=(0, 1, 2)))
    np.testing.assert_allclose(norms[1:], 1.5, rtol=1e-5)
    np.testing.assert_allclose(clipped_aesara[..., 0], W[..., 0], rtol=1e-3)


def small_conv_pair(W_lr_scale=None, backend="port_torch", conv_b_lr_scale=None, y_lr_scales=()):
    registry = layers(backend)
    MLP, Space = registry["pylearn2.models.mlp.MLP"], registry["pylearn2.space.Conv2DSpace"]
    generator = registry["adversarial.Generator"](mlp=MLP(nvis=256, layers=[
        registry["pylearn2.models.mlp.SpaceConverter"](
            layer_name="converter", output_space=Space(shape=[4, 4], num_channels=16, axes=C01B)),
        registry["adversarial.deconv.Deconv"](layer_name="y", num_channels=3, kernel_shape=[4, 4],
                                              output_stride=[2, 2], irange=.05,
                                              W_lr_scale=W_lr_scale)]))
    W_y, b_y = y_lr_scales or (None, None)
    discriminator = MLP(input_space=Space(shape=[10, 10], num_channels=3, axes=C01B), layers=[
        registry["pylearn2.models.maxout.MaxoutConvC01B"](
            layer_name="dh0", num_channels=8, num_pieces=2, kernel_shape=[3, 3], pool_shape=[2, 2],
            pool_stride=[2, 2], irange=.05, b_lr_scale=conv_b_lr_scale),
        registry["pylearn2.models.mlp.Sigmoid"](layer_name="y", dim=1, irange=.05,
                                                W_lr_scale=W_y, b_lr_scale=b_y)])
    model = registry["adversarial.AdversaryPair"](generator=generator, discriminator=discriminator)
    cost = registry["adversarial.AdversaryCost2"](scale_grads=0)
    return model, cost


def test_lr_scalers_are_the_same_per_parameter_in_both_backends():
    """W_lr_scale / b_lr_scale on a Deconv (W), a MaxoutConvC01B (b) and a Sigmoid (both): the
    Aesara model's get_lr_scalers() names exactly the parameters whose scale is set, and gives
    each parameter the scale the torch step uses (1 where unset). Exact: constants."""
    from port_torch.training_algorithms.sgd import _lr_scales

    scales = dict(W_lr_scale=.5, conv_b_lr_scale=2., y_lr_scales=(.25, 4.))
    aesara_model, _ = small_conv_pair(backend="legacy_aesara", **scales)
    torch_model, _ = small_conv_pair(backend="port_torch", **scales)
    scalers = aesara_model.get_lr_scalers()
    assert sorted(p.name for p in scalers) == ["dh0_b", "y_W", "y_W", "y_b"]
    assert [scalers.get(p, 1.) for p in aesara_model.get_params()] == _lr_scales(torch_model)
    assert _lr_scales(torch_model) == [.5, 1., 1., 2., .25, 4.]


def test_aesara_linear_without_bias_has_no_bias_scaler():
    """A Linear layer with use_bias False has W alone: its b_lr_scale has nothing to scale."""
    from legacy_aesara.models.mlp import Linear, MLP

    mlp = MLP(nvis=5, layers=[Linear(layer_name="h", dim=3, irange=.1, use_bias=False,
                                     W_lr_scale=.5, b_lr_scale=2.)])
    layer = mlp.layers[0]
    assert [p.name for p in layer.get_params()] == ["h_W"]
    assert list(layer.get_lr_scalers().items()) == [(layer.W, .5)]


def test_torch_fused_step_refuses_a_conv_model_and_lr_scales_skip_the_converter():
    """The torch fused step lists what it cannot run in a small conv pair (the SpaceConverter, the
    conv layer, the conv input space), and the per-parameter learning-rate scales follow the
    parameters (the converter has none): 0.5 for G/y_W, 1 elsewhere. Exact: names and constants."""
    from port_torch.training_algorithms import fused_step
    from port_torch.training_algorithms.sgd import _lr_scales

    model, cost = small_conv_pair(W_lr_scale=.5)
    assert model.param_names() == ["G/y_W", "G/y_b", "D/dh0_W", "D/dh0_b", "D/y_W", "D/y_b"]
    problems = fused_step.unsupported(model, cost)
    assert "layer converter (SpaceConverter)" in problems
    assert "layer dh0 (MaxoutConvC01B)" in problems
    assert any("discriminator's input space Conv2DSpace" in p for p in problems)
    assert _lr_scales(model) == [.5, 1., 1., 1., 1., 1.]
