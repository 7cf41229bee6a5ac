"""Pylearn2's MLP, fully connected layers and SpaceConverter as torch modules
(pylearn2/models/mlp.py).

Layout: every weight is an nn.Parameter in Pylearn2's (input_dim, output_dim) layout and a layer
computes x @ W + b, not torch's (out, in) nn.Linear convention. Parameters are therefore the 2014
arrays as they are: `G/h0_W` here is element for element `G/h0_W` in legacy_aesara and in the
fingerprints, with no transpose anywhere (AdversaryPair.get_param_values maps names 1:1).

Weights are drawn with numpy (gan2014.models.init) from the MLP's RandomState in layer order,
exactly as Pylearn2 did, and only then copied into torch tensors.
"""
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gan2014.config.checks import check_layer_numbers
from gan2014.config.checks import ExperimentSetupError
from gan2014.models.init import draw_weights, initial_bias, mlp_rng
from gan2014.space import conversion
from port_torch.space import VectorSpace, as_space, batch_size, format_as


@torch.no_grad()
def clip_norms_(W, max_row_norm=None, max_col_norm=None, min_col_norm=None):
    """Linear._modify_updates' norm constraints on the new W (in x out), in place.

    Each row (an input's weights) is scaled to a norm of at most max_row_norm; each column (a
    unit's weights) into [min_col_norm, max_col_norm], the upper bound being the largest column
    norm when only min_col_norm is given. The scaling is W * clip(n, low, high) / (1e-7 + n), as
    Pylearn2 wrote it. W may carry leading axes (K stacked models), each projected on its own.
    The eager layer and the fused / CUDA-graph step both call this, so they round alike.
    """
    if max_row_norm is not None:
        norms = W.square().sum(dim=-1, keepdim=True).sqrt()
        W.mul_(norms.clamp(0, max_row_norm) / (1e-7 + norms))
    if max_col_norm is not None or min_col_norm is not None:
        norms = W.square().sum(dim=-2, keepdim=True).sqrt()
        high = max_col_norm if max_col_norm is not None else norms.amax(dim=-1, keepdim=True)
        # In W's dtype: a float32 bound would round 1.9365 in a float64 run.
        high = torch.as_tensor(high, dtype=W.dtype)
        W.mul_(norms.clamp(min=min_col_norm or 0.0).minimum(high) / (1e-7 + norms))


class Linear(nn.Module):
    """pylearn2/models/mlp.py :: Linear: h = x @ W + b, with Pylearn2's init and norm
    constraints."""

    kind = "linear"   # the activation, read by the fused step (training_algorithms/fused_step.py)
    param_suffixes = ("W", "b")   # its parameters, `<layer>_W` and `<layer>_b`, in get_params order

    def __init__(self, dim, layer_name, irange=None, istdev=None, sparse_init=None, sparse_stdev=1.,
                 include_prob=1.0, init_bias=0., W_lr_scale=None, b_lr_scale=None,
                 mask_weights=None,
                 max_row_norm=None, max_col_norm=None, min_col_norm=None, softmax_columns=None,
                 use_abs_loss=False, use_bias=True):
        super().__init__()
        _refuse(layer_name, mask_weights=mask_weights, softmax_columns=softmax_columns,
                use_abs_loss=use_abs_loss, use_bias=(not use_bias) or None)
        if max_row_norm is not None and (max_col_norm is not None or min_col_norm is not None):
            raise ValueError(f"layer {layer_name!r}: max_row_norm excludes max/min_col_norm "
                             "(Pylearn2 asserts this)")
        check_layer_numbers(layer_name, W_lr_scale=W_lr_scale, b_lr_scale=b_lr_scale,
                            sparse_stdev=sparse_stdev, include_prob=include_prob,
                            max_row_norm=max_row_norm, max_col_norm=max_col_norm,
                            min_col_norm=min_col_norm)
        self.dim = int(dim)
        self.layer_name = layer_name
        self.init = dict(irange=irange, istdev=istdev, sparse_init=sparse_init,
                         sparse_stdev=sparse_stdev, include_prob=include_prob)
        self.lr_scales = {"W": W_lr_scale, "b": b_lr_scale}
        (self.max_row_norm, self.max_col_norm,
         self.min_col_norm) = max_row_norm, max_col_norm, min_col_norm
        # Pylearn2 created the bias in __init__, before the input space was known.
        self.b = nn.Parameter(torch.from_numpy(initial_bias(self.output_width(), init_bias,
                                                            layer_name)))
        self.W = None

    def output_width(self):
        return self.dim

    def output_width_after_pooling(self):
        return self.output_width()

    def set_input_space(self, rng, space):
        """Draw W from the MLP's RandomState (Linear.set_input_space). `space` may be a Space or
        an int width; a non-vector input (a conv layer's output) is flattened by `affine` in
        ('b', 0, 1, 'c') order, as Pylearn2's requires_reformat did."""
        self.input_space = as_space(space)
        input_dim = self.input_space.get_total_dimension()
        self.requires_reformat = not isinstance(self.input_space, VectorSpace)
        values = draw_weights(rng, (input_dim, self.output_width()), layer_name=self.layer_name,
                              **self.init)
        self.W = nn.Parameter(torch.from_numpy(values.astype(np.float32)))
        self.input_dim = input_dim
        self.output_space = VectorSpace(self.output_width_after_pooling())

    def affine(self, x):
        if self.requires_reformat:
            x = format_as(x, self.input_space, VectorSpace(self.input_dim))
        return torch.addmm(self.b, x, self.W)

    def activate(self, a):
        return a

    def forward(self, x):
        return self.activate(self.affine(x))

    def constrain_(self):
        """Linear._modify_updates: project W's rows or columns onto their norm limits, in place."""
        clip_norms_(self.W, self.max_row_norm, self.max_col_norm, self.min_col_norm)

    def has_constraint(self):
        return any(v is not None for v in (self.max_row_norm, self.max_col_norm, self.min_col_norm))

    @torch.no_grad()
    def monitoring_channels(self, state):
        """Linear.get_layer_monitoring_channels: weight norms, then stats of the layer's output."""
        channels = weight_norm_channels(self.W)
        channels.update(state_channels(state, prefix="", sep="_"))
        return channels


class RectifiedLinear(Linear):
    """pylearn2/models/mlp.py :: RectifiedLinear: switch(z > 0, z, left_slope * z)."""

    kind = "relu"

    def __init__(self, left_slope=0.0, **kwargs):
        super().__init__(**kwargs)
        if left_slope != 0.0:
            # The fused step's backward assumes a plain rectifier; the autograd path handles any
            # slope.
            self.kind = "leaky_relu"
        self.left_slope = float(left_slope)

    def activate(self, a):
        if self.left_slope == 0.0:
            return torch.relu(a)
        return torch.where(a > 0, a, self.left_slope * a)


class Sigmoid(Linear):
    """pylearn2/models/mlp.py :: Sigmoid. Its cost is taken from the pre-activation (see `cost`)."""

    kind = "sigmoid"

    def __init__(self, monitor_style="detection", **kwargs):
        super().__init__(**kwargs)
        if monitor_style not in ("detection", "classification"):
            raise ValueError(f"Sigmoid: unknown monitor_style {monitor_style!r}")
        self.monitor_style = monitor_style

    def activate(self, a):
        return torch.sigmoid(a)

    @staticmethod
    def cost(Y, logits):
        """Sigmoid.cost -> expr/nnet.py :: kl, in its stable logit form.

        Pylearn2 recovered the logit z from the sigmoid op that produced Y_hat; here the caller
        passes z directly. Elementwise Y*softplus(-z) + (1-Y)*softplus(z), mean over units, then
        mean over the batch.
        """
        cost = Y * F.softplus(-logits) + (1 - Y) * F.softplus(logits)
        return cost.mean(dim=1).mean()


class SpaceConverter(nn.Module):
    """pylearn2/models/mlp.py :: SpaceConverter: no parameters; reformats its input as a batch of
    `output_space` (Space.format_as). From a VectorSpace into a Conv2DSpace each row is read in
    ('b', 0, 1, 'c') order -- channel fastest -- then permuted into the target's axes."""

    kind = "space_converter"
    param_suffixes = ()

    def __init__(self, layer_name, output_space):
        super().__init__()
        self.layer_name = layer_name
        self.output_space = output_space
        self.lr_scales = {}

    def set_input_space(self, rng, space):
        self.input_space = as_space(space)
        try:
            conversion(self.input_space, self.output_space)
        except (ValueError, NotImplementedError) as error:
            raise ValueError(f"layer {self.layer_name!r}: {error}") from None

    def affine(self, x):
        return format_as(x, self.input_space, self.output_space)

    def activate(self, a):
        return a

    def forward(self, x):
        return self.affine(x)

    def constrain_(self):
        pass

    def has_constraint(self):
        return False

    def monitoring_channels(self, state):
        return OrderedDict()   # Layer.get_layer_monitoring_channels: none


class MLP(nn.Module):
    """pylearn2/models/mlp.py :: MLP, an outer MLP (`nvis` or `input_space` given).

    The constructor draws every layer's weights from RandomState(seed or [2013, 1, 4]) in layer
    order. `rng` is kept, as Pylearn2 kept it (it later seeded each dropout_fprop's stream).
    `nvis=n` means input_space=VectorSpace(n); a Conv2DSpace input (the CIFAR-10 conv
    discriminator's c01b images) is passed through `input_space`. Batches are laid out as their
    spaces say (port_torch/space.py).
    """

    def __init__(self, layers, batch_size=None, input_space=None, nvis=None, seed=None,
                 layer_name=None):
        super().__init__()
        if nvis is None and input_space is None:
            raise NotImplementedError("port_torch MLP: only outer MLPs (with nvis or input_space) "
                                      "are implemented")
        names = [layer.layer_name for layer in layers]
        if len(set(names)) != len(names):
            raise ValueError(f"MLP: layer names must be unique, got {names}")
        self.layer_name = layer_name
        self.batch_size = batch_size
        # As in Pylearn2, nvis wins over input_space.
        self.input_space = VectorSpace(nvis) if nvis is not None else input_space
        self.nvis = self.input_space.get_total_dimension()
        self.rng = mlp_rng(seed)
        self.layers = nn.ModuleList(layers)
        space = self.input_space
        for layer in self.layers:
            layer.set_input_space(self.rng, space)
            space = layer.output_space
        self.output_dim = space.get_total_dimension()

    @property
    def output_space(self):
        return self.layers[-1].output_space

    def batch_size_of(self, x):
        """The number of examples in x, a batch of the input space (its batch axis' length)."""
        return batch_size(self.input_space, x)

    def batch_axis(self):
        return self.input_space.get_batch_axis()

    def named_pylearn2_params(self):
        """(`<layer>_W`, W), (`<layer>_b`, b), in layer order: MLP.get_params().

        A layer appended by adversarial.add_layers names its parameters after its
        `param_name_stem` (`pretrained_<layer>`) instead of its layer_name.
        """
        for layer in self.layers:
            stem = getattr(layer, "param_name_stem", None) or layer.layer_name
            if hasattr(layer, "named_pylearn2_params"):   # a CompositeLayer names its parts'
                yield from layer.named_pylearn2_params(stem)
                continue
            for suffix in layer.param_suffixes:   # none for a SpaceConverter
                yield f"{stem}_{suffix}", getattr(layer, suffix)

    def forward(self, x):
        return self.layer_states(x)[-1]

    def layer_states(self, x):
        """Each layer's output on a plain fprop of x, in layer order.

        Within a monitoring pass (`weights_fixed`) and outside autograd, the states of the last
        few batches each MLP saw are kept: the 2014 monitor propagates each data batch through D
        twice (the cost's error rate, then the model's layer channels, with a batch of samples in
        between), and the second time costs nothing.
        """
        recent = None
        if _PASS_STATES is not None and not torch.is_grad_enabled():
            recent = _PASS_STATES.setdefault(id(self), [])
            for batch, states in recent:
                if batch is x:
                    return states
        states, h = [], x
        for layer in self.layers:
            h = layer(h)
            states.append(h)
        if recent is not None:
            recent.insert(0, (x, states))
            del recent[_RECENT_BATCHES:]
        return states

    def logits(self, x, masks=None, include_probs=None, scales=None):
        """The last layer's pre-activation, with each layer's input multiplied by mask * scale.

        This is dropout_fprop's loop with the masks given (masks[i] is None or the 0/1 mask for
        layer i's input, scales[i] its scale): Pylearn2's `h * mask * s`.
        """
        for i, layer in enumerate(self.layers):
            if masks is not None and masks[i] is not None:
                x = x * masks[i] * scales[i]
            x = layer.affine(x)
            if i + 1 < len(self.layers):
                x = layer.activate(x)
        return x

    def dropout_settings(self, default_input_include_prob=0.5, input_include_probs=None,
                         default_input_scale=2., input_scales=None):
        """Per-layer (include_prob, scale) as MLP.dropout_fprop resolves them.

        A layer whose probability is None or 1 gets (1.0, 1.0): Pylearn2 left its input untouched
        and ignored the scale.
        """
        input_include_probs = dict(input_include_probs or {})
        input_scales = dict(input_scales or {})
        names = {layer.layer_name for layer in self.layers}
        unknown = (set(input_include_probs) | set(input_scales)) - names
        if unknown:
            raise ExperimentSetupError(f"a dropout setting names layer(s) {sorted(unknown)} that "
                                       f"the MLP does not have (its layers: "
                                       f"{[layer.layer_name for layer in self.layers]})")
        settings = []
        for layer in self.layers:
            p = input_include_probs.get(layer.layer_name, default_input_include_prob)
            s = input_scales.get(layer.layer_name, default_input_scale)
            settings.append((1.0, 1.0) if p is None or p == 1 else (float(p), float(s)))
        return settings

    def input_spaces(self):
        """The space of each layer's input, in layer order (a dropout mask has its batch shape)."""
        return [layer.input_space for layer in self.layers]

    def input_widths(self):
        return [space.get_total_dimension() for space in self.input_spaces()]

    @torch.no_grad()
    def constrain_(self):
        for layer in self.layers:
            layer.constrain_()

    @torch.no_grad()
    def monitoring_channels(self, x):
        """MLP.get_layer_monitoring_channels: each layer's channels on a plain fprop of x."""
        channels = OrderedDict()
        for layer, state in zip(self.layers, self.layer_states(x)):
            for key, value in layer.monitoring_channels(state).items():
                channels[f"{layer.layer_name}_{key}"] = value
        return channels


# While a monitoring pass runs, the weights are fixed: each weight's norm channels are computed on
# its first batch and reused for the others ({id(W): channels}; None outside a pass), and each MLP's
# layer states on the last batches it propagated are kept ({id(mlp): [(batch, states), ...]}, the
# newest first).
_PASS_NORMS = None
_PASS_STATES = None
_RECENT_BATCHES = 4


@contextmanager
def weights_fixed():
    """Within: weight_norm_channels computes each weight's channels once, and an MLP given the
    same batch tensor twice running propagates it once (`layer_states`). For a monitoring pass,
    where every batch (mnist.yaml: 100 a pass, 9 weights each) would recompute the same values."""
    global _PASS_NORMS, _PASS_STATES
    outer = _PASS_NORMS, _PASS_STATES
    _PASS_NORMS, _PASS_STATES = {}, {}
    try:
        yield
    finally:
        _PASS_NORMS, _PASS_STATES = outer


def weight_norm_channels(W):
    """row_norms_* and col_norms_* of W (in x out): rows are inputs, columns are units."""
    if _PASS_NORMS is not None and id(W) in _PASS_NORMS:
        return OrderedDict(_PASS_NORMS[id(W)])
    squares = W.square()
    rows, cols = squares.sum(dim=1).sqrt(), squares.sum(dim=0).sqrt()
    channels = OrderedDict([("row_norms_min", rows.min()), ("row_norms_mean", rows.mean()),
                            ("row_norms_max", rows.max()), ("col_norms_min", cols.min()),
                            ("col_norms_mean", cols.mean()), ("col_norms_max", cols.max())])
    if _PASS_NORMS is not None:
        _PASS_NORMS[id(W)] = channels
    return OrderedDict(channels)


def state_channels(state, prefix, sep):
    """Per-unit max/min/mean/range over examples, each reduced by max/mean/min over units.

    Linear names them `max_x_max_u`; Maxout `p_max_x.max_u` (prefix 'p_', separator '.').
    """
    per_unit = OrderedDict([("max", state.max(dim=0).values), ("min", state.min(dim=0).values),
                            ("mean", state.mean(dim=0))])
    per_unit["range"] = per_unit["max"] - per_unit["min"]
    channels = OrderedDict()
    for stat in ("range", "max", "mean", "min"):
        values = per_unit[stat]
        for reduce_name, reduced in (("max", values.max()), ("mean", values.mean()),
                                     ("min", values.min())):
            channels[f"{prefix}{stat}_x{sep}{reduce_name}_u"] = reduced
    return channels


def _refuse(layer_name, **options):
    """Options Pylearn2 had that no experiment here uses: fail loudly rather than ignore them."""
    used = [name for name, value in options.items() if value not in (None, False)]
    if used:
        raise NotImplementedError(f"layer {layer_name!r}: option(s) {used} are not implemented in "
                                  "port_torch")
