"""Multilayer perceptrons as Aesara graphs (mirrors pylearn2/models/mlp.py, June 2014).

Only what the 2014 GAN configs rely on is here: the `MLP` container with its dropout forward pass,
the `Linear`, `RectifiedLinear` and `Sigmoid` layers, and `SpaceConverter` (the CIFAR-10 conv
generator's reshape into c01b images). Parameters are float32 shared variables named `<layer>_W` /
`<layer>_b` in Pylearn2's (input, output) layout; a layer computes x.W + b, after flattening a
Conv2DSpace input in ('b', 0, 1, 'c') order (legacy_aesara/space.py).

Initial weights are drawn through `gan2014.models.init` from the MLP's own numpy RandomState, in
layer order, exactly as Pylearn2 drew them in `set_input_space`; that is what makes the initial
parameters equal the 2014 ones bit for bit.
"""
from collections import OrderedDict

import aesara
import aesara.tensor as at
import numpy as np
from aesara.scalar.math import Sigmoid as ScalarSigmoid

from gan2014.config.checks import check_layer_numbers
from gan2014.config.checks import ExperimentSetupError
from gan2014.models.init import draw_weights, dropout_seed, initial_bias, mlp_rng
from gan2014.space import conversion
from legacy_aesara.random_streams import (  # noqa: F401  (their old home; still imported from here)
    MRG_SEED_OFFSET_VARIABLE, mrg_seed_offset, new_mrg_stream, quiet_mrg)
from legacy_aesara.space import VectorSpace, format_as


def shared_floatx(value, name):
    """pylearn2/utils/__init__.py :: sharedX -- a shared variable cast to floatX."""
    return aesara.shared(np.asarray(value, dtype=aesara.config.floatX), name=name)


class Layer:
    """pylearn2/models/mlp.py :: Layer -- the interface an MLP expects from its layers."""

    # Dropped-out inputs are set to this value (0 for every layer used here).
    dropout_input_mask_value = 0

    layer_name = None
    mlp = None

    def get_mlp(self):
        return self.mlp

    def set_mlp(self, mlp):
        if self.mlp is not None:
            raise ValueError(f"layer {self.layer_name!r} already belongs to an MLP")
        self.mlp = mlp

    def get_input_space(self):
        return self.input_space

    def get_output_space(self):
        return self.output_space

    def get_params(self):
        return []

    def get_lr_scalers(self):
        return OrderedDict()

    def modify_updates(self, updates):
        """pylearn2/models/model.py :: Model.modify_updates -- edit proposed parameter updates."""
        self._modify_updates(updates)

    def _modify_updates(self, updates):
        pass

    def get_layer_monitoring_channels(self, state_below=None, state=None, targets=None):
        return OrderedDict()


def weight_bias_lr_scalers(layer):
    """{parameter: scale} of a layer's W_lr_scale and b_lr_scale, W first, in get_params() order
    (a layer without a bias has no b entry); an unset scale (None) is left out, so that parameter
    takes the global learning rate."""
    scales = (layer.W_lr_scale, layer.b_lr_scale)
    return OrderedDict((param, scale) for param, scale in zip(layer.get_params(), scales)
                       if scale is not None)


def weight_norm_channels(W):
    """Row and column norms of a weight matrix, as every Pylearn2 dense layer monitored them."""
    sq_W = at.square(W)
    row_norms = at.sqrt(sq_W.sum(axis=1))
    col_norms = at.sqrt(sq_W.sum(axis=0))
    return OrderedDict([("row_norms_min", row_norms.min()),
                        ("row_norms_mean", row_norms.mean()),
                        ("row_norms_max", row_norms.max()),
                        ("col_norms_min", col_norms.min()),
                        ("col_norms_mean", col_norms.mean()),
                        ("col_norms_max", col_norms.max())])


def activation_channels(state, separator="_"):
    """Statistics of a batch of activations: x = over examples, u = over units.

    Linear layers name them `max_x_mean_u`, maxout layers `max_x.mean_u` (separator '.').
    """
    mx = state.max(axis=0)
    mean = state.mean(axis=0)
    mn = state.min(axis=0)
    rg = mx - mn
    rval = OrderedDict()
    for stat_name, per_unit in (("range_x", rg), ("max_x", mx), ("mean_x", mean), ("min_x", mn)):
        rval[f"{stat_name}{separator}max_u"] = per_unit.max()
        rval[f"{stat_name}{separator}mean_u"] = per_unit.mean()
        rval[f"{stat_name}{separator}min_u"] = per_unit.min()
    return rval


def clip_column_norms(updated_W, min_col_norm, max_col_norm):
    """Linear._modify_updates: rescale each column (one unit's incoming weights) into the bounds.

    W' * clip(n, min, max) / (1e-7 + n), so columns inside the bounds shrink by n/(n+1e-7).
    """
    col_norms = at.sqrt(at.sum(at.square(updated_W), axis=0))
    if max_col_norm is None:
        max_col_norm = col_norms.max()
    desired_norms = at.clip(col_norms, min_col_norm, max_col_norm)
    return updated_W * desired_norms / (1e-7 + col_norms)


def clip_row_norms(updated_W, max_row_norm):
    row_norms = at.sqrt(at.sum(at.square(updated_W), axis=1))
    desired_norms = at.clip(row_norms, 0, max_row_norm)
    scales = desired_norms / (1e-7 + row_norms)
    return updated_W * scales.dimshuffle(0, "x")


class Linear(Layer):
    """pylearn2/models/mlp.py :: Linear -- an affine layer, x.W + b, and the base of the others."""

    def __init__(self, dim, layer_name, irange=None, istdev=None, sparse_init=None,
                 sparse_stdev=1., include_prob=1.0, init_bias=0., W_lr_scale=None,
                 b_lr_scale=None, mask_weights=None, max_row_norm=None, max_col_norm=None,
                 min_col_norm=None, softmax_columns=False, use_abs_loss=False, use_bias=True):
        if mask_weights is not None:
            raise NotImplementedError(f"layer {layer_name!r}: mask_weights is not supported by "
                                      "the legacy_aesara backend (no 2014 GAN config uses it)")
        if softmax_columns:
            raise NotImplementedError(f"layer {layer_name!r}: softmax_columns is not supported "
                                      "by the legacy_aesara backend")
        if max_row_norm is not None and (max_col_norm is not None or min_col_norm is not None):
            raise ValueError(f"layer {layer_name!r}: max_row_norm cannot be combined with "
                             "column norm constraints (Pylearn2 asserts this)")
        check_layer_numbers(layer_name, W_lr_scale=W_lr_scale, b_lr_scale=b_lr_scale,
                            sparse_stdev=sparse_stdev, include_prob=include_prob,
                            max_row_norm=max_row_norm, max_col_norm=max_col_norm,
                            min_col_norm=min_col_norm)
        self.dim = int(dim)
        self.layer_name = layer_name
        self.irange = irange
        self.istdev = istdev
        self.sparse_init = sparse_init
        self.sparse_stdev = sparse_stdev
        self.include_prob = include_prob
        self.W_lr_scale = W_lr_scale
        self.b_lr_scale = b_lr_scale
        self.max_row_norm = max_row_norm
        self.max_col_norm = max_col_norm
        self.min_col_norm = min_col_norm
        self.use_abs_loss = use_abs_loss
        self.use_bias = use_bias
        # The bias exists before the input space is known, as in Pylearn2.
        if use_bias:
            self.b = shared_floatx(initial_bias(self.dim, init_bias, layer_name), layer_name + "_b")

    def set_input_space(self, space):
        """Draw W from the MLP's RandomState (this is where the 2014 draws happen).

        A non-vector input (a conv layer's output) is flattened by `_linear_part`, as Pylearn2's
        `requires_reformat` did: format_as(VectorSpace), i.e. in ('b', 0, 1, 'c') order.
        """
        self.input_space = space
        self.input_dim = space.get_total_dimension()
        self.requires_reformat = not isinstance(space, VectorSpace)
        self.desired_space = VectorSpace(self.input_dim)
        self.output_space = VectorSpace(self.dim)
        W = draw_weights(self.mlp.rng, (self.input_dim, self.dim), irange=self.irange,
                         istdev=self.istdev, sparse_init=self.sparse_init,
                         sparse_stdev=self.sparse_stdev, include_prob=self.include_prob,
                         layer_name=self.layer_name)
        self.W = shared_floatx(W, self.layer_name + "_W")

    def get_params(self):
        return [self.W, self.b] if self.use_bias else [self.W]

    def get_lr_scalers(self):
        return weight_bias_lr_scalers(self)

    def _modify_updates(self, updates):
        if self.W not in updates:
            return
        if self.max_row_norm is not None:
            updates[self.W] = clip_row_norms(updates[self.W], self.max_row_norm)
        if self.max_col_norm is not None or self.min_col_norm is not None:
            updates[self.W] = clip_column_norms(updates[self.W], self.min_col_norm or 0,
                                                self.max_col_norm)

    def _linear_part(self, state_below):
        if self.requires_reformat:
            state_below = format_as(state_below, self.input_space, self.desired_space)
        z = at.dot(state_below, self.W)
        if self.use_bias:
            z = z + self.b
        z.name = self.layer_name + "_z"
        return z

    def fprop(self, state_below):
        return self._linear_part(state_below)

    def cost_matrix(self, Y, Y_hat):
        return abs(Y - Y_hat) if self.use_abs_loss else at.square(Y - Y_hat)

    def cost_from_cost_matrix(self, cost_matrix):
        return cost_matrix.sum(axis=1).mean()

    def cost(self, Y, Y_hat):
        return self.cost_from_cost_matrix(self.cost_matrix(Y, Y_hat))

    def get_layer_monitoring_channels(self, state_below=None, state=None, targets=None):
        rval = weight_norm_channels(self.W)
        if state is None and state_below is not None:
            state = self.fprop(state_below)
        if state is not None:
            rval.update(activation_channels(state))
        return rval


class RectifiedLinear(Linear):
    """pylearn2/models/mlp.py :: RectifiedLinear -- switch(z > 0, z, left_slope * z)."""

    def __init__(self, left_slope=0.0, **kwargs):
        super().__init__(**kwargs)
        self.left_slope = left_slope

    def fprop(self, state_below):
        z = self._linear_part(state_below)
        return at.switch(z > 0., z, self.left_slope * z)

    def cost(self, *args, **kwargs):
        raise NotImplementedError("RectifiedLinear has no cost")


def presigmoid_value(Y_hat):
    """The z of Y_hat = sigmoid(z): Pylearn2 recovered it from the graph to use the stable logit
    form.

    pylearn2/expr/nnet.py :: kl asserts that Y_hat was produced by an elementwise sigmoid, so Y_hat
    must be the direct output of Sigmoid.fprop / dropout_fprop.
    """
    owner = Y_hat.owner
    if owner is None or not hasattr(owner.op, "scalar_op"):
        raise ValueError(f"Expected Y_hat to be generated by an Elemwise op, got {owner}")
    if not isinstance(owner.op.scalar_op, ScalarSigmoid):
        raise ValueError(f"Expected Y_hat to be the output of a sigmoid, got {owner.op}")
    z, = owner.inputs
    return z


class Sigmoid(Linear):
    """pylearn2/models/mlp.py :: Sigmoid -- sigmoid(x.W + b), cost = binary cross-entropy on z."""

    def __init__(self, monitor_style="detection", **kwargs):
        super().__init__(**kwargs)
        if monitor_style not in ("classification", "detection"):
            raise ValueError(f"monitor_style must be 'classification' or 'detection', "
                             f"got {monitor_style!r}")
        self.monitor_style = monitor_style

    def fprop(self, state_below):
        return at.sigmoid(self._linear_part(state_below))

    def cost_matrix(self, Y, Y_hat):
        """pylearn2/expr/nnet.py :: elemwise_kl -- Y softplus(-z) + (1 - Y) softplus(z)."""
        z = presigmoid_value(Y_hat)
        return Y * at.softplus(-z) + (1 - Y) * at.softplus(z)

    def kl(self, Y, Y_hat):
        """Per-example mean over units of the elementwise cross-entropy (expr/nnet.py :: kl)."""
        return self.cost_matrix(Y, Y_hat).mean(axis=1)

    def cost(self, Y, Y_hat):
        """Mean over units, then over examples."""
        return self.kl(Y=Y, Y_hat=Y_hat).mean()

    def get_layer_monitoring_channels(self, state_below=None, state=None, targets=None):
        if targets is not None:
            raise NotImplementedError("Sigmoid detection/classification channels need targets, "
                                      "which no 2014 GAN config monitors")
        return super().get_layer_monitoring_channels(state_below=state_below, state=state)


class SpaceConverter(Layer):
    """pylearn2/models/mlp.py :: SpaceConverter -- a layer without parameters that reformats its
    input as a batch of `output_space` (Space.format_as).

    From a VectorSpace into a Conv2DSpace each row is read in ('b', 0, 1, 'c') order -- channel
    fastest -- and then transposed into the target's axes (gan2014/space.py).
    """

    def __init__(self, layer_name, output_space):
        self.layer_name = layer_name
        self.output_space = output_space

    def set_input_space(self, space):
        self.input_space = space
        try:
            conversion(space, self.output_space)
        except (ValueError, NotImplementedError) as error:
            # Pylearn2 found this out only when the first graph was built.
            raise ValueError(f"layer {self.layer_name!r}: {error}") from None

    def fprop(self, state_below):
        return format_as(state_below, self.input_space, self.output_space)


class MLP(Layer):
    """pylearn2/models/mlp.py :: MLP -- layers applied in order, each with its own parameters.

    An outer MLP (given `nvis` or `input_space`) creates its RandomState (seed or [2013, 1, 4]) and
    immediately sets every layer's input space, which draws all initial weights in layer order.
    """

    def __init__(self, layers, batch_size=None, input_space=None, nvis=None, seed=None,
                 layer_name=None):
        if not isinstance(layers, list) or not layers:
            raise TypeError("MLP needs a non-empty list of layers")
        if not all(isinstance(layer, Layer) for layer in layers):
            raise TypeError("every element of an MLP's layers must be a Layer")
        self.seed = seed
        self.layer_name = layer_name
        self.layer_names = set()
        for layer in layers:
            if layer.layer_name in self.layer_names:
                raise ValueError("MLP.__init__ given two or more layers with same name: "
                                 + str(layer.layer_name))
            layer.set_mlp(self)
            self.layer_names.add(layer.layer_name)
        self.layers = layers
        self.batch_size = batch_size
        self.force_batch_size = batch_size
        # Every MRG stream a dropout pass creates, in creation order (their states are
        # checkpointed).
        self.dropout_streams = []
        if input_space is not None or nvis is not None:
            if layer_name is not None:
                raise ValueError("an outer MLP (with nvis/input_space) must not have a layer_name")
            self.rng = mlp_rng(seed)
            self.input_space = VectorSpace(nvis) if nvis is not None else input_space
            self._update_layer_input_spaces()

    def _update_layer_input_spaces(self):
        space = self.input_space
        for layer in self.layers:
            layer.set_input_space(space)
            space = layer.get_output_space()

    def get_input_space(self):
        return self.input_space

    def get_output_space(self):
        return self.layers[-1].get_output_space()

    def get_params(self):
        rval = []
        for layer in self.layers:
            for param in layer.get_params():
                if param not in rval:
                    rval.append(param)
        return rval

    def get_lr_scalers(self):
        rval = OrderedDict()
        for layer in self.layers:
            rval.update(layer.get_lr_scalers())
        return rval

    def _modify_updates(self, updates):
        for layer in self.layers:
            layer.modify_updates(updates)

    def set_batch_size(self, batch_size):
        self.batch_size = batch_size
        self.force_batch_size = batch_size

    # ----------------------------------------------------------------------------------- forward
    def fprop(self, state_below, return_all=False):
        states = []
        for layer in self.layers:
            state_below = layer.fprop(state_below)
            states.append(state_below)
        return states if return_all else state_below

    def _validate_layer_names(self, names):
        unknown = [name for name in names if name not in self.layer_names]
        if unknown:
            raise ExperimentSetupError(f"a dropout setting names layer(s) {sorted(unknown)} that "
                                       f"the MLP does not have (its layers: "
                                       f"{[layer.layer_name for layer in self.layers]})")

    def dropout_settings(self, default_input_include_prob=0.5, input_include_probs=None,
                         default_input_scale=2., input_scales=None):
        """(include_prob, scale) of each layer's input; (None, None) where dropout is off
        (port_torch's method of the same name gives the neutral (1.0, 1.0) there).

        A per-layer value overrides the default; an include probability of 1 (or None) leaves the
        input untouched and its scale is ignored (mlp.py :: MLP.apply_dropout).
        """
        input_include_probs = input_include_probs or {}
        input_scales = input_scales or {}
        self._validate_layer_names(list(input_include_probs.keys()))
        self._validate_layer_names(list(input_scales.keys()))
        plan = []
        for layer in self.layers:
            include_prob = input_include_probs.get(layer.layer_name, default_input_include_prob)
            scale = input_scales.get(layer.layer_name, default_input_scale)
            if include_prob in (None, 1.0, 1):
                plan.append((None, None))
            else:
                if scale is None:
                    raise ValueError(f"layer {layer.layer_name!r}: dropout needs a scale")
                plan.append((include_prob, scale))
        return plan

    dropout_plan = dropout_settings   # the former name

    def new_dropout_stream(self):
        """A fresh MRG stream seeded by one randint(2**15) draw of this MLP's init RandomState.

        Pylearn2 drew the seed when the graph was built, so the masks of a compiled function
        depend on how many dropout graphs were built before it
        (docs/pylearn2_semantics.md#random-streams).
        """
        stream = new_mrg_stream(dropout_seed(self.rng))
        self.dropout_streams.append(stream)
        return stream

    def dropout_fprop(self, state_below, default_input_include_prob=0.5,
                      input_include_probs=None, default_input_scale=2., input_scales=None,
                      per_example=True, return_all=False, masks=None):
        """mlp.py :: MLP.dropout_fprop -- dropout (mask, then scale) on the input of every layer.

        `masks` (not in Pylearn2) feeds one 0/1 mask per layer input instead of drawing them, for
        the fidelity tests; a fed pass draws no seed, so it leaves the RNG sequence untouched.
        """
        plan = self.dropout_settings(default_input_include_prob, input_include_probs,
                                     default_input_scale, input_scales)
        stream = self.new_dropout_stream() if masks is None else None
        states = []
        for index, (layer, (include_prob, scale)) in enumerate(zip(self.layers, plan)):
            if include_prob is not None:
                mask = (masks[index] if masks is not None
                        else self.draw_mask(stream, state_below, include_prob, per_example,
                                            layer.get_input_space()))
                state_below = self.apply_mask(state_below, mask, scale, layer)
            state_below = layer.fprop(state_below)
            states.append(state_below)
        return states if return_all else state_below

    @staticmethod
    def draw_mask(stream, state, include_prob, per_example=True, space=None):
        """Bernoulli(include_prob) as `uniform < p` in the state's dtype (MRG binomial): one value
        per element of the state (for a conv layer's c01b input, per channel, pixel and example),
        or (per_example=False) one batch of a single example of the layer's input space,
        broadcast over the batch (MLP.apply_dropout)."""
        if per_example:
            size = state.shape
        else:
            size = space.batch_shape(1) if space is not None else (1, state.shape[1])
        with quiet_mrg():
            mask = stream.binomial(p=include_prob, size=size, dtype=state.dtype)
        if per_example:
            return mask
        return at.addbroadcast(mask, *[axis for axis, length in enumerate(size) if length == 1])

    @staticmethod
    def apply_mask(state, mask, scale, layer):
        """state * mask * scale (mask value 0), cast back to the state's dtype (apply_dropout)."""
        if layer.dropout_input_mask_value == 0:
            rval = state * mask * scale
        else:
            rval = at.switch(mask, state * scale, layer.dropout_input_mask_value)
        return at.cast(rval, state.dtype)

    # ------------------------------------------------------------------------------ costs
    def cost(self, Y, Y_hat):
        return self.layers[-1].cost(Y, Y_hat)

    def cost_matrix(self, Y, Y_hat):
        return self.layers[-1].cost_matrix(Y, Y_hat)

    def cost_from_X(self, data):
        """self.cost(Y, fprop(X)) for data = (X, Y)."""
        X, Y = data
        return self.cost(Y, self.fprop(X))

    # ------------------------------------------------------------------------------ monitoring
    def get_monitoring_channels(self, data):
        X, Y = data
        return self.get_layer_monitoring_channels(state_below=X, targets=Y)

    def get_layer_monitoring_channels(self, state_below=None, state=None, targets=None):
        """Each layer's channels, prefixed `<layer>_`, from one forward pass without dropout."""
        rval = OrderedDict()
        state = state_below
        for layer in self.layers:
            state_below = state
            state = layer.fprop(state)
            layer_targets = targets if layer is self.layers[-1] else None
            channels = layer.get_layer_monitoring_channels(state_below, state, layer_targets)
            for key, value in channels.items():
                rval[layer.layer_name + "_" + key] = value
        return rval

